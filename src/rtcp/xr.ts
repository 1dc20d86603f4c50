/**
 * RTCP Extended Reports (XR, PT=207), RFC 3611: the packet and its report blocks. Interpreted
 * blocks are the two that let a receive-only endpoint measure round-trip time (§4.4, §4.5):
 * the Receiver Reference Time Report (RRTR, BT=4) a receiver sends with its NTP time, and the
 * DLRR (BT=5) the sender answers with; any other block type is kept opaque (type, type-specific
 * byte, body). RTT = A − LRR − DLRR, in compact NTP (RFC 3611 §4.5, as RFC 3550 §6.4.1).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |V=2|P|reserved |   PT=XR=207   |             length            |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                              SSRC                             |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  :                         report blocks                         :
 *  block: |     BT      | type-specific |  block length (words − 1) |
 *  RRTR:  BT=4, 0, length=2 | NTP timestamp, most significant word | least significant word
 *  DLRR:  BT=5, 0, length=3n | n × (SSRC_i | last RR (LRR) | delay since last RR (DLRR))
 *
 * @see RFC 3611 §2, §3, §4.4, §4.5
 */
import { rtcpError, type RtcpParseResult } from './errors.ts';
import { RTCP_HEADER_BYTES, writeRtcpHeader } from './header.ts';

export const RTCP_PT_XR = 207;
export const XR_BT_RRTR = 4;
export const XR_BT_DLRR = 5;
const BLOCK_HEADER = 4;
const DLRR_SUB_BLOCK = 12;

/** RRTR (BT=4): the receiver's NTP timestamp when it sent the report. */
export interface XrRrtr {
  type: 'rrtr';
  ntpSeconds: number;
  ntpFraction: number;
}

/** One DLRR sub-block: the middle 32 bits of the last RRTR from `ssrc` and the delay since (1/65536 s). */
export interface DlrrItem {
  ssrc: number;
  lastRr: number;
  delaySinceLastRr: number;
}

export interface XrDlrr {
  type: 'dlrr';
  items: DlrrItem[];
}

/** A block type not interpreted here: its BT, type-specific byte and body (a view, whole words). */
export interface XrOpaqueBlock {
  type: 'opaque';
  blockType: number;
  typeSpecific: number;
  body: Buffer;
}

export type XrBlock = XrRrtr | XrDlrr | XrOpaqueBlock;

export interface RtcpXr {
  type: 'xr';
  ssrc: number;
  blocks: XrBlock[];
}

/** Decodes the body of an XR packet (after the common header, padding removed). */
export function decodeXr(body: Buffer, offset: number): RtcpParseResult<RtcpXr> {
  if (body.length < 4) return rtcpError('RTCP_ERR_SHORT_BODY', `XR of ${body.length} bytes has no SSRC`, offset, RTCP_PT_XR);
  const ssrc = body.readUInt32BE(0);
  const blocks: XrBlock[] = [];
  let o = 4;
  while (o < body.length) {
    const at = offset + RTCP_HEADER_BYTES + o;
    if (body.length - o < BLOCK_HEADER)
      return rtcpError('RTCP_ERR_XR_BLOCK_OVERFLOW', `${body.length - o} bytes left for an XR block header`, at, RTCP_PT_XR);
    const bt = body.readUInt8(o);
    const typeSpecific = body.readUInt8(o + 1);
    const size = (body.readUInt16BE(o + 2) + 1) * 4;
    if (o + size > body.length)
      return rtcpError('RTCP_ERR_XR_BLOCK_OVERFLOW', `XR block of ${size} bytes exceeds the packet`, at, RTCP_PT_XR);
    const content = body.subarray(o + BLOCK_HEADER, o + size);
    if (bt === XR_BT_RRTR) {
      if (content.length !== 8) return rtcpError('RTCP_ERR_XR_BAD_BLOCK', `RRTR block of ${size} bytes (must be 12)`, at, RTCP_PT_XR);
      blocks.push({ type: 'rrtr', ntpSeconds: content.readUInt32BE(0), ntpFraction: content.readUInt32BE(4) });
    } else if (bt === XR_BT_DLRR) {
      if (content.length % DLRR_SUB_BLOCK !== 0)
        return rtcpError('RTCP_ERR_XR_BAD_BLOCK', `DLRR block of ${size} bytes (4 + 12n)`, at, RTCP_PT_XR);
      const items: DlrrItem[] = [];
      for (let i = 0; i < content.length; i += DLRR_SUB_BLOCK) {
        items.push({ ssrc: content.readUInt32BE(i), lastRr: content.readUInt32BE(i + 4), delaySinceLastRr: content.readUInt32BE(i + 8) });
      }
      blocks.push({ type: 'dlrr', items });
    } else {
      blocks.push({ type: 'opaque', blockType: bt, typeSpecific, body: content });
    }
    o += size;
  }
  return { ok: true, value: { type: 'xr', ssrc, blocks } };
}

function blockByteLength(b: XrBlock): number {
  switch (b.type) {
    case 'rrtr':
      return BLOCK_HEADER + 8;
    case 'dlrr':
      return BLOCK_HEADER + DLRR_SUB_BLOCK * b.items.length;
    case 'opaque':
      return BLOCK_HEADER + b.body.length;
  }
}

/** Size in bytes of the packet. Must match serializeXrInto. */
export function xrByteLength(p: RtcpXr): number {
  return RTCP_HEADER_BYTES + 4 + p.blocks.reduce((n, b) => n + blockByteLength(b), 0);
}

const u32 = (v: number, what: string) => {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new RangeError(`${what} is not a 32-bit unsigned integer: ${v}`);
  return v;
};

/** Writes the packet at `offset`; returns bytes written. Throws RangeError on bad fields. */
export function serializeXrInto(p: RtcpXr, buf: Buffer, offset: number): number {
  const size = xrByteLength(p);
  writeRtcpHeader(buf, offset, 0, RTCP_PT_XR, size);
  buf.writeUInt32BE(u32(p.ssrc, 'XR SSRC'), offset + 4);
  let o = offset + 8;
  for (const b of p.blocks) {
    const n = blockByteLength(b);
    if (
      b.type === 'opaque' &&
      (b.body.length % 4 !== 0 || b.blockType < 0 || b.blockType > 255 || b.typeSpecific < 0 || b.typeSpecific > 255)
    ) {
      throw new RangeError('opaque XR block: body must be whole words, BT and type-specific one byte each');
    }
    buf[o] = b.type === 'rrtr' ? XR_BT_RRTR : b.type === 'dlrr' ? XR_BT_DLRR : b.blockType;
    buf[o + 1] = b.type === 'opaque' ? b.typeSpecific : 0;
    buf.writeUInt16BE(n / 4 - 1, o + 2);
    if (b.type === 'rrtr') {
      buf.writeUInt32BE(u32(b.ntpSeconds, 'RRTR NTP seconds'), o + 4);
      buf.writeUInt32BE(u32(b.ntpFraction, 'RRTR NTP fraction'), o + 8);
    } else if (b.type === 'dlrr') {
      b.items.forEach((it, i) => {
        const at = o + 4 + i * DLRR_SUB_BLOCK;
        buf.writeUInt32BE(u32(it.ssrc, 'DLRR SSRC'), at);
        buf.writeUInt32BE(u32(it.lastRr, 'DLRR LRR'), at + 4);
        buf.writeUInt32BE(u32(it.delaySinceLastRr, 'DLRR delay'), at + 8);
      });
    } else {
      b.body.copy(buf, o + 4);
    }
    o += n;
  }
  return size;
}

/**
 * Round-trip time in ms from a DLRR sub-block and the arrival time A of the packet that carried
 * it, all compact NTP (RFC 3611 §4.5): A − LRR − DLRR modulo 2^32. Undefined when LRR is 0 (no
 * RRTR received yet) or the result is negative (clock trouble).
 */
export function rttFromDlrr(item: DlrrItem, arrivalCompactNtp: number): number | undefined {
  if (item.lastRr === 0) return undefined;
  const rtt = (arrivalCompactNtp - item.lastRr - item.delaySinceLastRr) | 0;
  if (rtt < 0) return undefined;
  return ((rtt >>> 0) * 1000) / 65536;
}
