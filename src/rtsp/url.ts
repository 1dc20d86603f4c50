/**
 * RTSP URLs (RFC 2326 §3.2) and control URL resolution (RFC 2326 C.1.1 with RFC 3986 §5.2).
 *
 *   rtsp_URL = ( "rtsp:" | "rtspu:" | "rtsps:" ) "//" host [ ":" port ] [ abs_path ]
 *
 * Userinfo (`user[:password]@`) is accepted because real cameras use it. IPv6 hosts are written
 * in brackets and returned without them. The path is returned both as written (`rawPath`, for
 * matching and echoing) and percent-decoded (`path`, for file lookup).
 */

import { rtspError, rtspOk, type RtspResult } from './errors.ts';
import { group } from '../util/narrow.ts';

export const DEFAULT_RTSP_PORT = 554;
/** RFC 7826 registers 322 for RTSP over TLS. */
export const DEFAULT_RTSPS_PORT = 322;

export interface RtspUrl {
  scheme: 'rtsp' | 'rtsps' | 'rtspu';
  /** Percent-decoded. */
  username?: string;
  /** Percent-decoded. */
  password?: string;
  /** Host name or address; IPv6 without brackets. */
  host: string;
  /** Explicit port, or 554 (322 for rtsps). */
  port: number;
  /** Percent-decoded path; '/' when the URL has none. */
  path: string;
  /** Path as written; '/' when the URL has none. */
  rawPath: string;
  /** Query as written, without '?'; absent when the URL has no '?'. */
  query?: string;
}

const URL_RE = /^(rtsps?|rtspu):\/\/(?:([^@/?#]*)@)?(\[[0-9A-Fa-f:.]+\]|[^:/?#[\]@]+)(?::(\d*))?(\/[^?#]*)?(?:\?([^#]*))?(?:#.*)?$/i;

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

export function parseRtspUrl(url: string): RtspResult<RtspUrl> {
  const m = URL_RE.exec(url);
  if (m === null) return rtspError('RTSP_ERR_BAD_URL', `not an rtsp URL: ${JSON.stringify(url.slice(0, 120))}`);
  const scheme = group(m, 1).toLowerCase() as RtspUrl['scheme'];
  let port = scheme === 'rtsps' ? DEFAULT_RTSPS_PORT : DEFAULT_RTSP_PORT;
  const portText = m[4];
  if (portText !== undefined && portText !== '') {
    if (portText.length > 5 || Number(portText) > 65535) return rtspError('RTSP_ERR_BAD_URL', `bad port ${portText}`);
    port = Number(portText);
  }
  const hostText = group(m, 3);
  const host = hostText.startsWith('[') ? hostText.slice(1, -1) : hostText;
  const rawPath = m[5] ?? '/';
  const path = decode(rawPath);
  if (path === undefined) return rtspError('RTSP_ERR_BAD_URL', `bad percent-encoding in ${JSON.stringify(rawPath)}`);
  const out: RtspUrl = { scheme, host, port, path, rawPath };
  if (m[2] !== undefined) {
    const colon = m[2].indexOf(':');
    const user = decode(colon === -1 ? m[2] : m[2].slice(0, colon));
    const pass = colon === -1 ? '' : decode(m[2].slice(colon + 1));
    if (user === undefined || pass === undefined) return rtspError('RTSP_ERR_BAD_URL', 'bad percent-encoding in userinfo');
    out.username = user;
    if (colon !== -1) out.password = pass;
  }
  if (m[6] !== undefined) out.query = m[6];
  return rtspOk(out);
}

// ---- RFC 3986 §5.2 reference resolution ----

const REF_RE = /^(?:([^:/?#]+):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/;

interface UriParts {
  scheme?: string;
  authority?: string;
  path: string;
  query?: string;
  fragment?: string;
}

function split(uri: string): UriParts {
  const m = REF_RE.exec(uri) as RegExpExecArray; // matches every string
  return { scheme: m[1], authority: m[2], path: group(m, 3), query: m[4], fragment: m[5] };
}

/** RFC 3986 §5.2.4. */
export function removeDotSegments(path: string): string {
  let input = path;
  const out: string[] = [];
  while (input.length > 0) {
    if (input.startsWith('../')) input = input.slice(3);
    else if (input.startsWith('./')) input = input.slice(2);
    else if (input.startsWith('/./')) input = input.slice(2);
    else if (input === '/.') input = '/';
    else if (input.startsWith('/../')) {
      input = input.slice(3);
      out.pop();
    } else if (input === '/..') {
      input = '/';
      out.pop();
    } else if (input === '.' || input === '..') input = '';
    else {
      const next = input.indexOf('/', input.startsWith('/') ? 1 : 0);
      const seg = next === -1 ? input : input.slice(0, next);
      out.push(seg);
      input = next === -1 ? '' : input.slice(next);
    }
  }
  return out.join('');
}

/** Resolve `ref` against the absolute URI `base` (RFC 3986 §5.2.2, strict). */
export function resolveUrl(base: string, ref: string): string {
  const r = split(ref);
  const b = split(base);
  const t: UriParts = { path: '' };
  if (r.scheme !== undefined) {
    t.scheme = r.scheme;
    t.authority = r.authority;
    t.path = removeDotSegments(r.path);
    t.query = r.query;
  } else {
    if (r.authority !== undefined) {
      t.authority = r.authority;
      t.path = removeDotSegments(r.path);
      t.query = r.query;
    } else {
      if (r.path === '') {
        t.path = b.path;
        t.query = r.query !== undefined ? r.query : b.query;
      } else {
        if (r.path.startsWith('/')) t.path = removeDotSegments(r.path);
        else {
          // §5.2.3 merge
          const merged = b.authority !== undefined && b.path === '' ? `/${r.path}` : b.path.slice(0, b.path.lastIndexOf('/') + 1) + r.path;
          t.path = removeDotSegments(merged);
        }
        t.query = r.query;
      }
      t.authority = b.authority;
    }
    t.scheme = b.scheme;
  }
  t.fragment = r.fragment;
  // §5.3 recomposition
  let out = '';
  if (t.scheme !== undefined) out += `${t.scheme}:`;
  if (t.authority !== undefined) out += `//${t.authority}`;
  out += t.path;
  if (t.query !== undefined) out += `?${t.query}`;
  if (t.fragment !== undefined) out += `#${t.fragment}`;
  return out;
}

/**
 * URL of a media or session from its SDP `a=control` (RFC 2326 C.1.1): `*` or empty means the
 * base itself; an absolute URL is used as is; anything else is resolved against the base
 * (Content-Base, else Content-Location, else the DESCRIBE URL) by RFC 3986 rules, so a base
 * without a trailing slash loses its last segment: servers send Content-Base ending in '/'.
 */
export function resolveControlUrl(base: string, control: string | undefined): string {
  const c = (control ?? '').trim();
  if (c === '' || c === '*') return base;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(c)) return c;
  return resolveUrl(base, c);
}

/** Remove one trailing '/' from the path (not from a bare authority: `rtsp://h/` stays). */
export function stripTrailingSlash(url: string): string {
  if (!url.endsWith('/') || url === '/') return url;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]*\/$/.test(url)) return url;
  return url.slice(0, -1);
}

export function ensureTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/**
 * The URL without its `user[:password]@` (what requests carry and logs show: credentials travel in
 * Authorization only). Anything that is not an rtsp URL with userinfo comes back unchanged.
 */
export function withoutUserinfo(url: string): string {
  return url.replace(/^(rtsps?|rtspu):\/\/[^@/?#]*@/i, '$1://');
}
