/**
 * The `Authorization` request header (RFC 7235 §4.2) as an RTSP server receives it:
 *
 *   Authorization = "Digest" 1*SP #auth-param        (RFC 7616 §3.4)
 *                 / "Basic" 1*SP token68            (RFC 7617 §2, base64 of user-id ":" password)
 *
 * Digest needs username (or RFC 8187 `username*`), realm, nonce, uri and response; algorithm
 * defaults to MD5; with qop (only `auth`) nc (8 hex digits) and cnonce are required, without it
 * the answer is RFC 2069's. Never throws: results carry an AuthErrorCode.
 */

import { authError, type AuthResult } from './errors.ts';
import { digestAlgorithmOf, digestHexLength, type DigestAlgorithm } from './digest.ts';
import { MAX_AUTH_HEADER_BYTES, readToken, scanParams, skipOws } from './params.ts';

export interface DigestCredentials {
  scheme: 'Digest';
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  /** Lowercase hex. */
  response: string;
  algorithm: DigestAlgorithm;
  /** Present when the client answered with qop=auth. */
  qop?: { nc: string; cnonce: string };
  opaque?: string;
}

export interface BasicCredentials {
  scheme: 'Basic';
  username: string;
  password: string;
}

export type Credentials = DigestCredentials | BasicCredentials;

const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function parseAuthorization(value: string): AuthResult<Credentials> {
  if (value.length > MAX_AUTH_HEADER_BYTES)
    return authError('AUTH_ERR_TOO_LONG', `Authorization longer than ${MAX_AUTH_HEADER_BYTES} bytes`);
  const start = skipOws(value, 0);
  const scheme = readToken(value, start);
  const lower = scheme.token.toLowerCase();
  if (lower !== 'digest' && lower !== 'basic') {
    return authError('AUTH_ERR_SCHEME', `scheme ${JSON.stringify(scheme.token.slice(0, 20))} is not Digest or Basic`);
  }
  if (value[scheme.end] !== ' ' && value[scheme.end] !== '\t') return authError('AUTH_ERR_SYNTAX', 'no credentials after the scheme');
  const rest = skipOws(value, scheme.end);
  return lower === 'basic' ? parseBasic(value.slice(rest).replace(/[ \t]+$/, '')) : parseDigest(value, rest);
}

function parseBasic(token68: string): AuthResult<BasicCredentials> {
  if (!TOKEN68.test(token68) || !BASE64.test(token68)) return authError('AUTH_ERR_BASE64', 'Basic credentials are not base64');
  const text = Buffer.from(token68, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon === -1) return authError('AUTH_ERR_BASE64', 'Basic credentials have no ":"');
  const username = text.slice(0, colon);
  const password = text.slice(colon + 1);
  // RFC 7617 §2: the user-id cannot contain a colon; neither may contain control characters.
  if (hasControl(text)) return authError('AUTH_ERR_BAD_VALUE', 'control characters in Basic credentials');
  return { ok: true, value: { scheme: 'Basic', username, password } };
}

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** RFC 8187 ext-value, UTF-8 only: `UTF-8'[lang]'pct-encoded`. */
function decodeExtValue(v: string): string | undefined {
  const m = /^UTF-8'[A-Za-z0-9-]*'((?:[A-Za-z0-9!#$&+.^_`|~-]|%[0-9A-Fa-f]{2})*)$/i.exec(v);
  if (!m || m[1] === undefined) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return undefined;
  }
}

function parseDigest(value: string, from: number): AuthResult<DigestCredentials> {
  const scan = scanParams(value, from, false);
  if (!scan.ok) return scan;
  const p = scan.value.params;
  const algorithmText = p.get('algorithm') ?? 'MD5';
  const algorithm = digestAlgorithmOf(algorithmText);
  if (!algorithm) return authError('AUTH_ERR_UNSUPPORTED', `algorithm ${JSON.stringify(algorithmText.slice(0, 20))} not supported`);
  const userhash = p.get('userhash');
  if (userhash !== undefined && userhash.toLowerCase() !== 'false') return authError('AUTH_ERR_UNSUPPORTED', 'userhash not supported');
  let username = p.get('username');
  const extended = p.get('username*');
  if (extended !== undefined) {
    if (username !== undefined) return authError('AUTH_ERR_DUPLICATE', 'both username and username*');
    username = decodeExtValue(extended);
    if (username === undefined) return authError('AUTH_ERR_BAD_VALUE', 'username* is not UTF-8 ext-value');
  }
  if (username === undefined) return authError('AUTH_ERR_MISSING', 'no username');
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  const uri = p.get('uri');
  const response = p.get('response');
  if (realm === undefined) return authError('AUTH_ERR_MISSING', 'no realm');
  if (nonce === undefined) return authError('AUTH_ERR_MISSING', 'no nonce');
  if (uri === undefined) return authError('AUTH_ERR_MISSING', 'no uri');
  if (response === undefined) return authError('AUTH_ERR_MISSING', 'no response');
  if (!new RegExp(`^[0-9a-fA-F]{${digestHexLength(algorithm)}}$`).test(response)) {
    return authError('AUTH_ERR_BAD_VALUE', `response is not ${digestHexLength(algorithm)} hex digits`);
  }
  const out: DigestCredentials = { scheme: 'Digest', username, realm, nonce, uri, response: response.toLowerCase(), algorithm };
  const qop = p.get('qop');
  if (qop !== undefined) {
    if (qop.toLowerCase() !== 'auth') return authError('AUTH_ERR_UNSUPPORTED', `qop ${JSON.stringify(qop.slice(0, 20))} not supported`);
    const nc = p.get('nc');
    const cnonce = p.get('cnonce');
    if (nc === undefined || cnonce === undefined) return authError('AUTH_ERR_MISSING', 'qop=auth without nc and cnonce');
    if (!/^[0-9a-fA-F]{8}$/.test(nc)) return authError('AUTH_ERR_BAD_VALUE', 'nc is not 8 hex digits');
    out.qop = { nc, cnonce };
  }
  const opaque = p.get('opaque');
  if (opaque !== undefined) out.opaque = opaque;
  return { ok: true, value: out };
}
