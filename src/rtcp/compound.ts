/**
 * Compound RTCP: a datagram holding one or more RTCP packets back to back, each with its own
 * common header (see header.ts). `parseRtcpCompound` applies the RFC 3550 A.2 validity checks:
 * version 2 everywhere, first packet SR or RR, padding bit only on the last packet, and lengths
 * that add up exactly to the datagram. `parseRtcpPackets` is the lenient variant for single
 * non-compound packets (a bare BYE, RFC 5506 reduced-size RTCP, feedback packets): any packet
 * type may come first and any packet may carry padding; version and length checks still apply.
 * XR (207, RFC 3611) is decoded (xr.ts); other unknown packet types (e.g. RTPFB/PSFB 205/206) are
 * kept opaque as `type: 'unknown'`.
 *
 * @see RFC 3550 §6.1, Appendix A.2; RFC 5506 §3
 */

import { decodeApp, appByteLength, serializeAppInto, type RtcpApp } from './app.ts';
import { decodeBye, byeByteLength, serializeByeInto, type RtcpBye } from './bye.ts';
import { rtcpError, type RtcpParseResult } from './errors.ts';
import {
  RTCP_HEADER_BYTES,
  RTCP_MAX_COUNT,
  RTCP_PT_APP,
  RTCP_PT_BYE,
  RTCP_PT_RR,
  RTCP_PT_SDES,
  RTCP_PT_SR,
  RTCP_VERSION,
  finishRtcpPacket,
  rtcpPaddedLength,
  writeRtcpHeader,
} from './header.ts';
import { decodeReceiverReport, receiverReportByteLength, serializeReceiverReportInto, type RtcpReceiverReport } from './receiver-report.ts';
import {
  decodeSourceDescription,
  serializeSourceDescriptionInto,
  sourceDescriptionByteLength,
  type RtcpSourceDescription,
} from './sdes.ts';
import { decodeSenderReport, senderReportByteLength, serializeSenderReportInto, type RtcpSenderReport } from './sender-report.ts';
import { decodeXr, RTCP_PT_XR, serializeXrInto, xrByteLength, type RtcpXr } from './xr.ts';

/** A packet type this module does not interpret, kept as its header fields plus body bytes. */
export interface RtcpUnknown {
  type: 'unknown';
  /** The 8-bit packet type (e.g. 205 RTPFB, 206 PSFB, 207 XR). */
  packetType: number;
  /** The 5-bit count / format field. */
  count: number;
  /** Bytes after the 4-byte common header, padding removed (a view). A length not a multiple of 4 is sent with RTCP padding. */
  body: Buffer;
}

export type RtcpPacket = RtcpSenderReport | RtcpReceiverReport | RtcpSourceDescription | RtcpBye | RtcpApp | RtcpXr | RtcpUnknown;

function decodeOne(pt: number, count: number, body: Buffer, offset: number): RtcpParseResult<RtcpPacket> {
  switch (pt) {
    case RTCP_PT_SR:
      return decodeSenderReport(body, count, offset);
    case RTCP_PT_RR:
      return decodeReceiverReport(body, count, offset);
    case RTCP_PT_SDES:
      return decodeSourceDescription(body, count, offset);
    case RTCP_PT_BYE:
      return decodeBye(body, count, offset);
    case RTCP_PT_APP:
      return decodeApp(body, count, offset);
    case RTCP_PT_XR:
      return decodeXr(body, offset);
    default:
      return { ok: true, value: { type: 'unknown', packetType: pt, count, body } };
  }
}

function parse(buf: Buffer, strict: boolean): RtcpParseResult<RtcpPacket[]> {
  if (buf.length === 0) return rtcpError('RTCP_ERR_EMPTY', 'empty RTCP datagram', 0);
  const packets: RtcpPacket[] = [];
  let offset = 0;
  while (offset < buf.length) {
    if (buf.length - offset < RTCP_HEADER_BYTES) {
      return rtcpError('RTCP_ERR_SHORT_HEADER', `${buf.length - offset} trailing bytes`, offset);
    }
    const b0 = buf.readUInt8(offset);
    const pt = buf.readUInt8(offset + 1);
    const version = b0 >>> 6;
    if (version !== RTCP_VERSION) return rtcpError('RTCP_ERR_BAD_VERSION', `version ${version}`, offset, pt);
    if (strict && offset === 0 && pt !== RTCP_PT_SR && pt !== RTCP_PT_RR) {
      return rtcpError('RTCP_ERR_FIRST_NOT_REPORT', `compound RTCP starts with packet type ${pt}`, 0, pt);
    }
    const size = (buf.readUInt16BE(offset + 2) + 1) * 4;
    const end = offset + size;
    if (end > buf.length) {
      return rtcpError('RTCP_ERR_LENGTH_OVERFLOW', `packet of ${size} bytes at ${offset} exceeds ${buf.length}`, offset, pt);
    }
    let bodyEnd = end;
    if (b0 & 0x20) {
      if (strict && end !== buf.length) {
        return rtcpError('RTCP_ERR_PADDING_NOT_LAST', 'padding bit set on a packet that is not last', offset, pt);
      }
      const pad = buf.readUInt8(end - 1);
      if (pad === 0 || pad > size - RTCP_HEADER_BYTES) {
        return rtcpError('RTCP_ERR_BAD_PADDING', `padding count ${pad} in a ${size}-byte packet`, end - 1, pt);
      }
      bodyEnd = end - pad;
    }
    const r = decodeOne(pt, b0 & 0x1f, buf.subarray(offset + RTCP_HEADER_BYTES, bodyEnd), offset);
    if (!r.ok) return r;
    packets.push(r.value);
    offset = end;
  }
  return { ok: true, value: packets };
}

/** Parses a compound RTCP datagram with the RFC 3550 A.2 checks (strict). Views into `buf`. */
export function parseRtcpCompound(buf: Buffer): RtcpParseResult<RtcpPacket[]> {
  return parse(buf, true);
}

/**
 * Lenient: parses one or more RTCP packets without the compound rules (any first type, padding
 * on any packet). Use for datagrams that are not compound, e.g. a bare BYE. Views into `buf`.
 */
export function parseRtcpPackets(buf: Buffer): RtcpParseResult<RtcpPacket[]> {
  return parse(buf, false);
}

/** Size in bytes of one packet. Must match serializeRtcpPacketInto. */
export function rtcpPacketByteLength(p: RtcpPacket): number {
  switch (p.type) {
    case 'sr':
      return senderReportByteLength(p);
    case 'rr':
      return receiverReportByteLength(p);
    case 'sdes':
      return sourceDescriptionByteLength(p);
    case 'bye':
      return byeByteLength(p);
    case 'app':
      return appByteLength(p);
    case 'xr':
      return xrByteLength(p);
    case 'unknown':
      return rtcpPaddedLength(RTCP_HEADER_BYTES + p.body.length);
  }
}

/** Writes one packet at `offset`; returns bytes written. Throws RangeError on bad fields. */
export function serializeRtcpPacketInto(p: RtcpPacket, buf: Buffer, offset: number): number {
  switch (p.type) {
    case 'sr':
      return serializeSenderReportInto(p, buf, offset);
    case 'rr':
      return serializeReceiverReportInto(p, buf, offset);
    case 'sdes':
      return serializeSourceDescriptionInto(p, buf, offset);
    case 'bye':
      return serializeByeInto(p, buf, offset);
    case 'app':
      return serializeAppInto(p, buf, offset);
    case 'xr':
      return serializeXrInto(p, buf, offset);
    case 'unknown': {
      if (!Number.isInteger(p.packetType) || p.packetType < 0 || p.packetType > 255) {
        throw new RangeError(`RTCP packetType out of range: ${p.packetType}`);
      }
      if (p.count > RTCP_MAX_COUNT) throw new RangeError(`RTCP count out of range: ${p.count}`);
      const size = rtcpPaddedLength(RTCP_HEADER_BYTES + p.body.length);
      writeRtcpHeader(buf, offset, p.count, p.packetType, size);
      p.body.copy(buf, offset + RTCP_HEADER_BYTES);
      return finishRtcpPacket(buf, offset, RTCP_HEADER_BYTES + p.body.length);
    }
  }
}

/** Total size of the packets back to back. */
export function rtcpCompoundByteLength(packets: readonly RtcpPacket[]): number {
  let n = 0;
  for (const p of packets) n += rtcpPacketByteLength(p);
  return n;
}

/**
 * Serializes packets back to back into a new Buffer. Does not enforce the compound rules (so it
 * also writes a bare BYE); put an SR or RR first for a valid compound. Padding is written only for
 * opaque bodies whose length is not a multiple of 4 (see finishRtcpPacket).
 */
export function serializeRtcpCompound(packets: readonly RtcpPacket[]): Buffer {
  const buf = Buffer.alloc(rtcpCompoundByteLength(packets));
  let o = 0;
  for (const p of packets) o += serializeRtcpPacketInto(p, buf, o);
  return buf;
}
