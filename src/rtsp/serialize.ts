/**
 * RTSP message serialization (RFC 2326 §6, §7) and the interleaved frame header (§10.12).
 * Lines end in CRLF. Content-Length is written when there is a body, or updated to the body's
 * length when the headers already carry one; other headers are written as given, in order.
 * Invalid methods, URIs, reasons or channels are programmer errors and throw.
 */

import { isToken, type RtspHeaders, type RtspRequest, type RtspResponse } from './message.ts';

function headerLines(headers: RtspHeaders, bodyLength: number): string {
  let out = '';
  let hasLength = false;
  for (const [name, value] of headers.entries()) {
    if (name.toLowerCase() === 'content-length') {
      if (hasLength) continue;
      hasLength = true;
      out += `${name}: ${bodyLength}\r\n`;
    } else {
      out += `${name}: ${value}\r\n`;
    }
  }
  if (!hasLength && bodyLength > 0) out += `Content-Length: ${bodyLength}\r\n`;
  return out;
}

function assemble(head: string, body: Buffer): Buffer {
  const headLength = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLength + body.length);
  out.write(head, 0, 'utf8');
  body.copy(out, headLength);
  return out;
}

export function serializeRequest(req: RtspRequest): Buffer {
  if (!isToken(req.method)) throw new TypeError(`invalid RTSP method ${JSON.stringify(req.method)}`);
  // eslint-disable-next-line no-control-regex
  if (req.uri === '' || /[\x00-\x20\x7f]/.test(req.uri)) {
    throw new TypeError(`invalid Request-URI ${JSON.stringify(req.uri)}`);
  }
  if (!/^[A-Za-z]+\/\d+\.\d+$/.test(req.version)) throw new TypeError(`invalid version ${req.version}`);
  const head = `${req.method} ${req.uri} ${req.version}\r\n${headerLines(req.headers, req.body.length)}\r\n`;
  return assemble(head, req.body);
}

export function serializeResponse(res: RtspResponse): Buffer {
  if (!Number.isInteger(res.statusCode) || res.statusCode < 100 || res.statusCode > 999) {
    throw new RangeError(`invalid status code ${res.statusCode}`);
  }
  if (/[\r\n\0]/.test(res.reason)) throw new TypeError('reason phrase contains CR, LF or NUL');
  if (!/^[A-Za-z]+\/\d+\.\d+$/.test(res.version)) throw new TypeError(`invalid version ${res.version}`);
  const head = `${res.version} ${res.statusCode} ${res.reason}\r\n${headerLines(res.headers, res.body.length)}\r\n`;
  return assemble(head, res.body);
}

/** Byte length of an interleaved frame header. */
export const INTERLEAVED_HEADER_BYTES = 4;

/**
 * The 4-byte `$ channel length` prefix of an interleaved frame (RFC 2326 §10.12). Write it and
 * then the payload (e.g. `socket.write(h); socket.write(payload)` or a writev) without copying.
 */
export function interleavedHeader(channel: number, length: number): Buffer {
  if (!Number.isInteger(channel) || channel < 0 || channel > 0xff) {
    throw new RangeError(`interleaved channel ${channel} out of 0..255`);
  }
  if (!Number.isInteger(length) || length < 0 || length > 0xffff) {
    throw new RangeError(`interleaved length ${length} out of 0..65535`);
  }
  const h = Buffer.allocUnsafe(INTERLEAVED_HEADER_BYTES);
  h[0] = 0x24;
  h[1] = channel;
  h.writeUInt16BE(length, 2);
  return h;
}
