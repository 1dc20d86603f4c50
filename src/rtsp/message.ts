/**
 * RTSP 1.0 message model (RFC 2326 §6 Request, §7 Response): an ordered, case-insensitive header
 * list, plain request/response objects, and the status reason phrases of RFC 2326 §7.1.1.
 */

import { at } from '../util/narrow.ts';

export const RTSP_VERSION = 'RTSP/1.0';

/** RFC 2326 §15.1: token = 1*<any CHAR except CTLs or tspecials>. */
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function isToken(s: string): boolean {
  return TOKEN_RE.test(s);
}

/** A header value that can be written on one line: no CR, LF or NUL. */
export function isValidHeaderValue(s: string): boolean {
  return !/[\r\n\0]/.test(s);
}

export type HeaderInit = Iterable<readonly [string, string]> | Readonly<Record<string, string>>;

/**
 * Ordered header list. Lookup is case-insensitive; names keep the casing they were given and the
 * order in which they were added. A name may occur several times (`append`, or as received).
 * `set`/`append` throw on names that are not tokens or values containing CR/LF (programmer
 * errors: that would inject headers on serialization).
 */
export class RtspHeaders {
  private readonly list: [string, string][] = [];

  constructor(init?: HeaderInit) {
    if (init === undefined) return;
    const pairs: Iterable<readonly [string, string]> =
      Symbol.iterator in init ? (init as Iterable<readonly [string, string]>) : Object.entries(init);
    for (const [name, value] of pairs) this.append(name, value);
  }

  /** Number of header lines (repeated names counted separately). */
  get size(): number {
    return this.list.length;
  }

  /** First value for `name`, or undefined. */
  get(name: string): string | undefined {
    const key = name.toLowerCase();
    for (const [n, v] of this.list) if (n.toLowerCase() === key) return v;
    return undefined;
  }

  /** All values for `name` in order (empty array if none). */
  getAll(name: string): string[] {
    const key = name.toLowerCase();
    const out: string[] = [];
    for (const [n, v] of this.list) if (n.toLowerCase() === key) out.push(v);
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /**
   * Replace all values of `name` with one value. The header keeps the position (and casing) of
   * its first occurrence; if absent it is appended.
   */
  set(name: string, value: string | number): this {
    const v = String(value);
    checkHeader(name, v);
    const key = name.toLowerCase();
    let placed = false;
    for (let i = 0; i < this.list.length;) {
      const entry = at(this.list, i);
      if (entry[0].toLowerCase() !== key) {
        i++;
      } else if (!placed) {
        entry[1] = v;
        placed = true;
        i++;
      } else {
        this.list.splice(i, 1);
      }
    }
    if (!placed) this.list.push([name, v]);
    return this;
  }

  /** Add one more line for `name`, after all existing headers. */
  append(name: string, value: string | number): this {
    const v = String(value);
    checkHeader(name, v);
    this.list.push([name, v]);
    return this;
  }

  /** Remove every line for `name`; true if any was removed. */
  delete(name: string): boolean {
    const key = name.toLowerCase();
    const before = this.list.length;
    for (let i = this.list.length - 1; i >= 0; i--) {
      if (at(this.list, i)[0].toLowerCase() === key) this.list.splice(i, 1);
    }
    return this.list.length !== before;
  }

  /** [name, value] pairs in order, names as given. */
  *entries(): IterableIterator<[string, string]> {
    for (const [n, v] of this.list) yield [n, v];
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  clone(): RtspHeaders {
    return new RtspHeaders(this.list);
  }

  /** Plain object for logs and test assertions (repeated names joined with ", "). */
  toJSON(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [n, v] of this.list) out[n] = n in out ? `${out[n]}, ${v}` : v;
    return out;
  }
}

function checkHeader(name: string, value: string): void {
  if (!isToken(name)) throw new TypeError(`invalid RTSP header name ${JSON.stringify(name)}`);
  if (!isValidHeaderValue(value)) {
    throw new TypeError(`invalid RTSP header value for ${name}: contains CR, LF or NUL`);
  }
}

/** @see RFC 2326 §6 */
export interface RtspRequest {
  method: string;
  uri: string;
  /** Always 'RTSP/1.0' for parsed requests (other versions are reported as errors). */
  version: string;
  headers: RtspHeaders;
  /** Empty Buffer when there is no body; a view into the received bytes when parsed. */
  body: Buffer;
}

/** @see RFC 2326 §7 */
export interface RtspResponse {
  version: string;
  statusCode: number;
  reason: string;
  headers: RtspHeaders;
  body: Buffer;
}

export type RtspMessage = RtspRequest | RtspResponse;

export function isRtspRequest(m: RtspMessage): m is RtspRequest {
  return 'method' in m;
}

const EMPTY = Buffer.alloc(0);

export function createRequest(method: string, uri: string, headers?: HeaderInit | RtspHeaders, body?: Buffer): RtspRequest {
  return {
    method,
    uri,
    version: RTSP_VERSION,
    headers: headers instanceof RtspHeaders ? headers : new RtspHeaders(headers),
    body: body ?? EMPTY,
  };
}

/** A response with the standard reason phrase unless `reason` is given. */
export function createResponse(statusCode: number, headers?: HeaderInit | RtspHeaders, body?: Buffer, reason?: string): RtspResponse {
  return {
    version: RTSP_VERSION,
    statusCode,
    reason: reason ?? STATUS_REASONS[statusCode] ?? 'Unknown',
    headers: headers instanceof RtspHeaders ? headers : new RtspHeaders(headers),
    body: body ?? EMPTY,
  };
}

/** CSeq as a number, or undefined when missing or not a decimal integer (≤ 2^32−1). */
export function getCSeq(m: RtspMessage): number | undefined {
  const v = m.headers.get('CSeq');
  if (v === undefined) return undefined;
  const t = v.trim();
  if (!/^\d{1,10}$/.test(t)) return undefined;
  const n = Number(t);
  return n <= 0xffffffff ? n : undefined;
}

/** RFC 2326 §7.1.1 status codes and their reason phrases. */
export const STATUS_REASONS: Readonly<Record<number, string>> = {
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  250: 'Low on Storage Space',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Time-out',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Large',
  415: 'Unsupported Media Type',
  451: 'Parameter Not Understood',
  452: 'Conference Not Found',
  453: 'Not Enough Bandwidth',
  454: 'Session Not Found',
  455: 'Method Not Valid in This State',
  456: 'Header Field Not Valid for Resource',
  457: 'Invalid Range',
  458: 'Parameter Is Read-Only',
  459: 'Aggregate operation not allowed',
  460: 'Only aggregate operation allowed',
  461: 'Unsupported transport',
  462: 'Destination unreachable',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Time-out',
  505: 'RTSP Version not supported',
  551: 'Option not supported',
};
