/**
 * BYE: Goodbye RTCP packet (PT=203).
 *
 * ```
 *        0                   1                   2                   3
 *        0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       |V=2|P|    SC   |   PT=BYE=203  |             length            |
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       |                           SSRC/CSRC                           |
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       :                              ...                              :
 *       +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * (opt) |     length    |               reason for leaving            ...
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 * The reason is UTF-8 text, padded with nulls to the next 32-bit boundary. Invalid UTF-8 is
 * replaced by '?' per non-ASCII byte when parsing.
 *
 * @see RFC 3550 §6.6
 */

import { rtcpError, type RtcpParseResult } from './errors.ts';
import { RTCP_HEADER_BYTES, RTCP_MAX_COUNT, RTCP_PT_BYE, writeRtcpHeader } from './header.ts';

export const BYE_MAX_REASON_BYTES = 255;

export interface RtcpBye {
  type: 'bye';
  /** 0..31 SSRC/CSRC identifiers leaving. */
  ssrcs: number[];
  /** Optional reason for leaving (UTF-8 on the wire, at most 255 bytes). */
  reason?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * UTF-8 text; bytes that are not valid UTF-8 become one '?' each, so the reason never grows past
 * 255 bytes and a parsed BYE always re-serializes.
 */
function decodeReason(bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    let s = '';
    for (const b of bytes) s += b < 0x80 ? String.fromCharCode(b) : '?';
    return s;
  }
}

/** Decodes a BYE body (bytes after the common header, padding removed). */
export function decodeBye(body: Buffer, count: number, offset: number): RtcpParseResult<RtcpBye> {
  if (body.length < count * 4) {
    return rtcpError(
      'RTCP_ERR_SHORT_BODY',
      `BYE with ${count} SSRCs needs ${count * 4} body bytes, has ${body.length}`,
      offset,
      RTCP_PT_BYE,
    );
  }
  const ssrcs: number[] = [];
  for (let i = 0; i < count; i++) ssrcs.push(body.readUInt32BE(i * 4));
  const bye: RtcpBye = { type: 'bye', ssrcs };
  const o = count * 4;
  if (body.length > o) {
    const n = body.readUInt8(o);
    if (o + 1 + n > body.length) {
      return rtcpError(
        'RTCP_ERR_BYE_REASON_OVERFLOW',
        `BYE reason of ${n} bytes runs past the packet`,
        offset + RTCP_HEADER_BYTES + o,
        RTCP_PT_BYE,
      );
    }
    // A zero length followed only by null padding is no reason at all.
    if (n > 0) bye.reason = decodeReason(body.subarray(o + 1, o + 1 + n));
  }
  return { ok: true, value: bye };
}

function reasonBytes(p: RtcpBye): number {
  return p.reason === undefined ? 0 : Buffer.byteLength(p.reason, 'utf8');
}

/** Packet size in bytes. Must match serializeByeInto. */
export function byeByteLength(p: RtcpBye): number {
  const r = p.reason === undefined ? 0 : Math.ceil((1 + reasonBytes(p)) / 4) * 4;
  return RTCP_HEADER_BYTES + p.ssrcs.length * 4 + r;
}

/** Writes the packet at `offset`; returns bytes written. Throws RangeError on bad fields. */
export function serializeByeInto(p: RtcpBye, buf: Buffer, offset: number): number {
  if (p.ssrcs.length > RTCP_MAX_COUNT) throw new RangeError(`BYE with ${p.ssrcs.length} SSRCs (max 31)`);
  const rb = reasonBytes(p);
  if (rb > BYE_MAX_REASON_BYTES) throw new RangeError(`BYE reason longer than 255 bytes: ${rb}`);
  const size = byeByteLength(p);
  writeRtcpHeader(buf, offset, p.ssrcs.length, RTCP_PT_BYE, size);
  let o = offset + RTCP_HEADER_BYTES;
  for (const s of p.ssrcs) {
    buf.writeUInt32BE(s >>> 0, o);
    o += 4;
  }
  if (p.reason !== undefined) {
    buf[o] = rb;
    buf.write(p.reason, o + 1, rb, 'utf8');
    buf.fill(0, o + 1 + rb, offset + size);
  }
  return size;
}
