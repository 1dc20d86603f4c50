/**
 * The auth-param lists of RFC 7235 §2.1 that both `Authorization` and `WWW-Authenticate` carry:
 *
 *   auth-param    = token BWS "=" BWS ( token / quoted-string )
 *   quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE      (RFC 7230 §3.2.6)
 *
 * Lists are comma-separated and may hold empty elements (`#rule`). Names are case-insensitive and
 * returned lowercased; values are returned unquoted. Bounded: MAX_AUTH_HEADER_BYTES, MAX_AUTH_PARAMS.
 */

import { authError, type AuthResult } from './errors.ts';

/** Longest Authorization / WWW-Authenticate value we read (the RTSP header section is capped too). */
export const MAX_AUTH_HEADER_BYTES = 4096;
/** Most parameters in one credentials or challenge (RFC 7616 defines a dozen). */
export const MAX_AUTH_PARAMS = 24;

const TCHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

export function isTchar(c: string | undefined): boolean {
  return c !== undefined && TCHAR.test(c);
}

/** Position after optional whitespace (SP / HTAB) from `i`. */
export function skipOws(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  return i;
}

/** The token starting at `i` (possibly empty) and the position after it. */
export function readToken(s: string, i: number): { token: string; end: number } {
  let j = i;
  while (j < s.length && isTchar(s[j])) j++;
  return { token: s.slice(i, j), end: j };
}

/** A quoted-string starting at `i` (which must be `"`): its unescaped content and the position after it. */
function readQuoted(s: string, i: number): { value: string; end: number } | undefined {
  let out = '';
  let j = i + 1;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c === 0x22) return { value: out, end: j + 1 };
    if (c === 0x5c) {
      // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
      const n = s.charCodeAt(j + 1);
      if (j + 1 >= s.length || (n < 0x20 && n !== 0x09) || n === 0x7f) return undefined;
      out += s[j + 1];
      j += 2;
      continue;
    }
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return undefined;
    out += s[j];
    j++;
  }
  return undefined;
}

export interface ParamScan {
  params: Map<string, string>;
  /** Where scanning stopped: the end, or the start of a token that is not followed by `=`. */
  end: number;
}

/**
 * Reads `name=value` pairs from `i`. With `stopAtScheme`, a list element that is a token not
 * followed by `=` (the next challenge's scheme in a WWW-Authenticate value) ends the list there;
 * otherwise it is a syntax error.
 */
export function scanParams(s: string, i: number, stopAtScheme: boolean): AuthResult<ParamScan> {
  const params = new Map<string, string>();
  let pos = i;
  for (;;) {
    // Empty list elements and the separators between elements.
    for (;;) {
      pos = skipOws(s, pos);
      if (s[pos] !== ',') break;
      pos++;
    }
    if (pos >= s.length) return { ok: true, value: { params, end: pos } };
    const start = pos;
    const name = readToken(s, pos);
    if (name.token === '') return authError('AUTH_ERR_SYNTAX', `expected a parameter name at ${pos}`);
    pos = skipOws(s, name.end);
    if (s[pos] !== '=') {
      if (stopAtScheme) return { ok: true, value: { params, end: start } };
      return authError('AUTH_ERR_SYNTAX', `parameter ${name.token} has no value`);
    }
    pos = skipOws(s, pos + 1);
    let value: string;
    if (s[pos] === '"') {
      const q = readQuoted(s, pos);
      if (!q) return authError('AUTH_ERR_SYNTAX', `unterminated or bad quoted-string for ${name.token}`);
      value = q.value;
      pos = q.end;
    } else {
      const t = readToken(s, pos);
      if (t.token === '') return authError('AUTH_ERR_SYNTAX', `parameter ${name.token} has an empty value`);
      value = t.token;
      pos = t.end;
    }
    const key = name.token.toLowerCase();
    if (params.has(key)) return authError('AUTH_ERR_DUPLICATE', `parameter ${key} given twice`);
    if (params.size >= MAX_AUTH_PARAMS) return authError('AUTH_ERR_TOO_MANY', `more than ${MAX_AUTH_PARAMS} parameters`);
    params.set(key, value);
    pos = skipOws(s, pos);
    if (pos < s.length && s[pos] !== ',') return authError('AUTH_ERR_SYNTAX', `expected ',' after ${key} at ${pos}`);
  }
}

/** `"value"` with `"` and `\` escaped, for a quoted-string parameter. */
export function quote(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
