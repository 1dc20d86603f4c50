/**
 * `WWW-Authenticate` challenges (RFC 7235 §4.1): written by the server (one header per Digest
 * algorithm, RFC 7616 §3.7, most preferred first) and read by our client, which answers with an
 * `Authorization` value (Digest preferred, SHA-256 before MD5; Basic only when that is all there is).
 *
 *   challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *
 * One header value may hold several challenges separated by commas; a client also sees several
 * headers. Never throws on the server's bytes: a challenge we cannot read is skipped.
 */

import { authError, type AuthResult } from './errors.ts';
import { DIGEST_ALGORITHMS, digestAlgorithmOf, digestHa1, digestResponse, type DigestAlgorithm } from './digest.ts';
import { MAX_AUTH_HEADER_BYTES, quote, readToken, scanParams, skipOws } from './params.ts';

export interface DigestChallengeSpec {
  realm: string;
  nonce: string;
  algorithm: DigestAlgorithm;
  stale?: boolean;
}

/** `Digest realm="..", nonce="..", algorithm=.., qop="auth"[, stale=true]`. */
export function formatDigestChallenge(c: DigestChallengeSpec): string {
  const stale = c.stale ? ', stale=true' : '';
  return `Digest realm=${quote(c.realm)}, nonce=${quote(c.nonce)}, algorithm=${c.algorithm}, qop="auth"${stale}`;
}

/** `Basic realm=".."` (RFC 7617 §2; the charset parameter is left out, UTF-8 is assumed). */
export function formatBasicChallenge(realm: string): string {
  return `Basic realm=${quote(realm)}`;
}

export interface Challenge {
  /** Lowercased scheme name. */
  scheme: string;
  /** Lowercased parameter names, unquoted values. */
  params: Map<string, string>;
}

/** Every challenge in one WWW-Authenticate value, in order. */
export function parseChallenges(value: string): AuthResult<Challenge[]> {
  if (value.length > MAX_AUTH_HEADER_BYTES)
    return authError('AUTH_ERR_TOO_LONG', `WWW-Authenticate longer than ${MAX_AUTH_HEADER_BYTES} bytes`);
  const out: Challenge[] = [];
  let pos = 0;
  for (;;) {
    while (pos < value.length && (value[pos] === ',' || value[pos] === ' ' || value[pos] === '\t')) pos++;
    if (pos >= value.length) return { ok: true, value: out };
    const scheme = readToken(value, pos);
    if (scheme.token === '') return authError('AUTH_ERR_SYNTAX', `expected an auth-scheme at ${pos}`);
    pos = skipOws(value, scheme.end);
    // token68 form ending in '=' padding (e.g. `Negotiate abc==`): a parameter-less challenge.
    const t68 = pos > scheme.end ? /^[A-Za-z0-9\-._~+/]+=+(?=[ \t]*(?:,|$))/.exec(value.slice(pos)) : null;
    if (t68) {
      out.push({ scheme: scheme.token.toLowerCase(), params: new Map() });
      pos += t68[0].length;
      continue;
    }
    const scan = scanParams(value, pos, true);
    if (!scan.ok) return scan;
    out.push({ scheme: scheme.token.toLowerCase(), params: scan.value.params });
    pos = scan.value.end;
  }
}

/** Every challenge of every WWW-Authenticate header value, skipping values that do not parse. */
export function collectChallenges(values: readonly string[]): Challenge[] {
  const out: Challenge[] = [];
  for (const v of values) {
    const r = parseChallenges(v);
    if (r.ok) out.push(...r.value);
  }
  return out;
}

export interface ClientCredentials {
  username: string;
  password: string;
}

/** What a client remembers of the challenge it answers, to sign later requests with it. */
export interface ChosenChallenge {
  scheme: 'Digest' | 'Basic';
  realm: string;
  nonce: string;
  algorithm: DigestAlgorithm;
  /** The server offered qop=auth: answer with nc and cnonce; otherwise RFC 2069. */
  qopAuth: boolean;
  opaque?: string;
  stale: boolean;
}

/** The challenge to answer: Digest with the best algorithm we support, else Basic, else none. */
export function chooseChallenge(challenges: readonly Challenge[]): ChosenChallenge | undefined {
  const digests = challenges.filter((c) => c.scheme === 'digest');
  for (const alg of DIGEST_ALGORITHMS) {
    for (const c of digests) {
      const realm = c.params.get('realm');
      const nonce = c.params.get('nonce');
      if (realm === undefined || nonce === undefined) continue;
      if (digestAlgorithmOf(c.params.get('algorithm') ?? 'MD5') !== alg) continue;
      const qop = c.params.get('qop');
      const chosen: ChosenChallenge = {
        scheme: 'Digest',
        realm,
        nonce,
        algorithm: alg,
        qopAuth: qop !== undefined && qop.split(',').some((q) => q.trim().toLowerCase() === 'auth'),
        stale: (c.params.get('stale') ?? '').toLowerCase() === 'true',
      };
      const opaque = c.params.get('opaque');
      if (opaque !== undefined) chosen.opaque = opaque;
      // A qop we cannot answer (auth-int only) with no plain-auth alternative: skip it.
      if (qop !== undefined && !chosen.qopAuth) continue;
      return chosen;
    }
  }
  const basic = challenges.find((c) => c.scheme === 'basic');
  if (basic) return { scheme: 'Basic', realm: basic.params.get('realm') ?? '', nonce: '', algorithm: 'MD5', qopAuth: false, stale: false };
  return undefined;
}

/**
 * The Authorization value for one request. `nc` counts requests signed with this nonce (from 1),
 * `cnonce` is the client's random string (from the caller's injected Random).
 */
export function formatAuthorization(
  chosen: ChosenChallenge,
  creds: ClientCredentials,
  request: { method: string; uri: string; nc: number; cnonce: string },
): string {
  if (chosen.scheme === 'Basic') {
    return `Basic ${Buffer.from(`${creds.username}:${creds.password}`, 'utf8').toString('base64')}`;
  }
  const ha1 = digestHa1(chosen.algorithm, creds.username, chosen.realm, creds.password);
  const nc = request.nc.toString(16).padStart(8, '0');
  const qop = chosen.qopAuth ? { nc, cnonce: request.cnonce } : undefined;
  const response = digestResponse({
    algorithm: chosen.algorithm,
    ha1,
    nonce: chosen.nonce,
    method: request.method,
    uri: request.uri,
    ...(qop ? { qop } : {}),
  });
  const parts = [
    `username=${quote(creds.username)}`,
    `realm=${quote(chosen.realm)}`,
    `nonce=${quote(chosen.nonce)}`,
    `uri=${quote(request.uri)}`,
    `algorithm=${chosen.algorithm}`,
    `response=${quote(response)}`,
  ];
  if (qop) parts.push('qop=auth', `nc=${nc}`, `cnonce=${quote(qop.cnonce)}`);
  if (chosen.opaque !== undefined) parts.push(`opaque=${quote(chosen.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}
