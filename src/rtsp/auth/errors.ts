/**
 * Error codes of the authentication header parsers. Header values come from the network: the
 * parsers never throw on them and return `AuthResult` with one of these codes instead.
 */

export type AuthErrorCode =
  /** The header value is longer than MAX_AUTH_HEADER_BYTES. */
  | 'AUTH_ERR_TOO_LONG'
  /** Not `Digest` or `Basic` (or no scheme at all). */
  | 'AUTH_ERR_SCHEME'
  /** Not `token=value` pairs separated by commas, a bad quoted-string or control characters. */
  | 'AUTH_ERR_SYNTAX'
  /** The same parameter twice. */
  | 'AUTH_ERR_DUPLICATE'
  /** More than MAX_AUTH_PARAMS parameters. */
  | 'AUTH_ERR_TOO_MANY'
  /** A parameter Digest requires (username, realm, nonce, uri, response; nc/cnonce with qop). */
  | 'AUTH_ERR_MISSING'
  /** A parameter with a value out of its grammar (nc not 8 hex digits, response not hex, ...). */
  | 'AUTH_ERR_BAD_VALUE'
  /** algorithm, qop or userhash we do not implement (MD5-sess, SHA-512-256, auth-int, ...). */
  | 'AUTH_ERR_UNSUPPORTED'
  /** Basic credentials that are not base64 of `user:password`. */
  | 'AUTH_ERR_BASE64';

export interface AuthParseError {
  ok: false;
  code: AuthErrorCode;
  message: string;
}

export type AuthResult<T> = { ok: true; value: T } | AuthParseError;

export function authError(code: AuthErrorCode, message: string): AuthParseError {
  return { ok: false, code, message };
}
