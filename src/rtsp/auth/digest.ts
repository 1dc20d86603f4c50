/**
 * The Digest computation of RFC 7616 §3.4.1 (RFC 2617 §3.2.2, RFC 2069 without qop):
 *
 *   A1       = username ":" realm ":" password          HA1 = H(A1)
 *   A2       = method ":" digest-uri                    HA2 = H(A2)
 *   response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)     with qop=auth
 *   response = H(HA1 ":" nonce ":" HA2)                                without qop (RFC 2069)
 *
 * H is MD5 or SHA-256, as lowercase hex. The server keeps HA1 (an htdigest file's third field), never
 * the password. The `-sess` variants and qop=auth-int are not implemented.
 */

import { hashHex, type HashAlgorithm } from '../../util/hash.ts';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];

/** Hex digits of H's output: 32 for MD5, 64 for SHA-256. */
export function digestHexLength(alg: DigestAlgorithm): number {
  return alg === 'MD5' ? 32 : 64;
}

function h(alg: DigestAlgorithm): HashAlgorithm {
  return alg === 'MD5' ? 'md5' : 'sha256';
}

/** The algorithm named by an `algorithm=` value (case-insensitive), or undefined when unsupported. */
export function digestAlgorithmOf(name: string): DigestAlgorithm | undefined {
  const n = name.toUpperCase();
  return n === 'MD5' ? 'MD5' : n === 'SHA-256' ? 'SHA-256' : undefined;
}

export function digestHa1(alg: DigestAlgorithm, username: string, realm: string, password: string): string {
  return hashHex(h(alg), `${username}:${realm}:${password}`);
}

export interface DigestInput {
  algorithm: DigestAlgorithm;
  /** H(username:realm:password) in lowercase hex. */
  ha1: string;
  nonce: string;
  method: string;
  /** The digest-uri as the client sent it. */
  uri: string;
  /** With qop=auth (RFC 2617/7616); absent for an RFC 2069 answer. */
  qop?: { nc: string; cnonce: string };
}

/** The `response=` value, lowercase hex. */
export function digestResponse(d: DigestInput): string {
  const alg = h(d.algorithm);
  const ha2 = hashHex(alg, `${d.method}:${d.uri}`);
  const middle = d.qop ? `${d.nonce}:${d.qop.nc}:${d.qop.cnonce}:auth` : d.nonce;
  return hashHex(alg, `${d.ha1.toLowerCase()}:${middle}:${ha2}`);
}
