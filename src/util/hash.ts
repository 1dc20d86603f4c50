/**
 * Hashes for RTSP Digest authentication (RFC 7616): MD5 and SHA-256 as lowercase hex, HMAC-SHA-256
 * for the server's stateless nonces, and a comparison whose time does not depend on where two
 * secrets differ. Deterministic computation only: the HMAC key comes from the injected Random.
 */

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type HashAlgorithm = 'md5' | 'sha256';

/** `alg(text)` as lowercase hex; text is UTF-8. */
export function hashHex(alg: HashAlgorithm, text: string): string {
  return createHash(alg).update(text, 'utf8').digest('hex');
}

/** HMAC-SHA-256 of `data` under `key`. */
export function hmacSha256(key: Buffer, data: Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** Equal strings, compared in time that depends on their length only. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length !== y.length) {
    // Still spend the comparison so a length mismatch is not much faster.
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}
