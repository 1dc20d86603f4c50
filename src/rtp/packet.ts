/**
 * RTP fixed header, CSRC list, header extension and padding.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |
 * |                             ....                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      defined by profile       |           length              |  (X=1, §5.3.1;
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   length in
 * |                        header extension                       |   32-bit words)
 * |                             ....                              |
 * ```
 * Padding (P=1): the last octet of the packet counts the padding octets, itself included.
 *
 * @see RFC 3550 §5.1, §5.3.1
 */

import { rtpError, type RtpParseResult } from './errors.ts';

export const RTP_VERSION = 2;
export const RTP_FIXED_HEADER_BYTES = 12;
export const RTP_MAX_CSRCS = 15;
/** Largest extension data: the 16-bit length field counts 32-bit words. */
export const RTP_MAX_EXTENSION_DATA_BYTES = 0xffff * 4;
export const RTP_MAX_PADDING_BYTES = 255;

export interface RtpHeaderExtension {
  /** The 16-bit "defined by profile" field (0xBEDE: RFC 8285 one-byte, 0x100x: two-byte). */
  profile: number;
  /** Extension data (a view when parsed); its length must be a multiple of 4. */
  data: Buffer;
}

export interface RtpHeader {
  marker: boolean;
  /** 0..127 */
  payloadType: number;
  /** 0..65535 */
  sequenceNumber: number;
  /** 0..2^32-1 */
  timestamp: number;
  /** 0..2^32-1 */
  ssrc: number;
  /** Up to 15 CSRCs (empty when none). */
  csrcs: readonly number[];
  extension?: RtpHeaderExtension;
  /**
   * The P bit. Set by the parser; when serializing a header alone it is written as given
   * (serializeRtpPacket derives it from paddingSize instead).
   */
  padding?: boolean;
}

export interface RtpPacket extends RtpHeader {
  /** Payload without header or padding: a view into the parsed buffer. */
  payload: Buffer;
  /** Number of padding octets at the end (0 when P=0), including the count octet. */
  paddingSize: number;
}

const EMPTY_CSRCS: readonly number[] = Object.freeze([]);

/** Parses one RTP packet. `payload` and `extension.data` are views into `buf`. */
export function parseRtpPacket(buf: Buffer): RtpParseResult<RtpPacket> {
  const len = buf.length;
  if (len < RTP_FIXED_HEADER_BYTES) {
    return rtpError('RTP_ERR_SHORT_HEADER', `need 12 bytes, have ${len}`, 0);
  }
  const b0 = buf.readUInt8(0);
  const version = b0 >>> 6;
  if (version !== RTP_VERSION) return rtpError('RTP_ERR_BAD_VERSION', `version ${version}`, 0);
  const hasPadding = (b0 & 0x20) !== 0;
  const hasExtension = (b0 & 0x10) !== 0;
  const cc = b0 & 0x0f;
  const b1 = buf.readUInt8(1);
  let offset = RTP_FIXED_HEADER_BYTES;
  if (len < offset + cc * 4) {
    return rtpError('RTP_ERR_SHORT_HEADER', `CSRC count ${cc} needs ${offset + cc * 4} bytes, have ${len}`, 0);
  }
  let csrcs: readonly number[] = EMPTY_CSRCS;
  if (cc > 0) {
    const list: number[] = new Array(cc);
    for (let i = 0; i < cc; i++) list[i] = buf.readUInt32BE(offset + i * 4);
    csrcs = list;
    offset += cc * 4;
  }
  let extension: RtpHeaderExtension | undefined;
  if (hasExtension) {
    if (len < offset + 4) {
      return rtpError('RTP_ERR_EXTENSION_OVERFLOW', 'extension header past end', offset);
    }
    const profile = buf.readUInt16BE(offset);
    const words = buf.readUInt16BE(offset + 2);
    const end = offset + 4 + words * 4;
    if (end > len) {
      return rtpError('RTP_ERR_EXTENSION_OVERFLOW', `extension of ${words} words past end`, offset);
    }
    extension = { profile, data: buf.subarray(offset + 4, end) };
    offset = end;
  }
  let paddingSize = 0;
  if (hasPadding) {
    const count = len > offset ? buf.readUInt8(len - 1) : 0;
    if (count === 0 || count > len - offset) {
      return rtpError('RTP_ERR_BAD_PADDING', `padding count ${count} with ${len - offset} bytes after header`, len - 1);
    }
    paddingSize = count;
  }
  const packet: RtpPacket = {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequenceNumber: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    csrcs,
    padding: hasPadding,
    payload: buf.subarray(offset, len - paddingSize),
    paddingSize,
  };
  if (extension) packet.extension = extension;
  return { ok: true, value: packet };
}

function checkHeader(h: RtpHeader): void {
  if (!Number.isInteger(h.payloadType) || h.payloadType < 0 || h.payloadType > 127) {
    throw new RangeError(`RTP payloadType out of range: ${h.payloadType}`);
  }
  if (h.csrcs.length > RTP_MAX_CSRCS) throw new RangeError(`too many CSRCs: ${h.csrcs.length}`);
  if (h.extension) {
    const n = h.extension.data.length;
    if (n % 4 !== 0 || n > RTP_MAX_EXTENSION_DATA_BYTES) {
      throw new RangeError(`RTP extension data must be a multiple of 4 bytes, <= ${RTP_MAX_EXTENSION_DATA_BYTES}: ${n}`);
    }
  }
}

/** Header size in bytes: 12 + 4·CSRCs + (4 + extension data). Must match serializeRtpHeaderInto. */
export function rtpHeaderByteLength(h: RtpHeader): number {
  return RTP_FIXED_HEADER_BYTES + h.csrcs.length * 4 + (h.extension ? 4 + h.extension.data.length : 0);
}

/**
 * Writes the header at `offset`; returns the number of bytes written (rtpHeaderByteLength(h)).
 * Throws RangeError on out-of-range fields or a too-small buffer (programmer errors).
 */
export function serializeRtpHeaderInto(h: RtpHeader, buf: Buffer, offset: number): number {
  checkHeader(h);
  const size = rtpHeaderByteLength(h);
  if (offset < 0 || offset + size > buf.length) throw new RangeError('buffer too small for RTP header');
  buf[offset] = 0x80 | (h.padding ? 0x20 : 0) | (h.extension ? 0x10 : 0) | h.csrcs.length;
  buf[offset + 1] = (h.marker ? 0x80 : 0) | h.payloadType;
  buf.writeUInt16BE(h.sequenceNumber & 0xffff, offset + 2);
  buf.writeUInt32BE(h.timestamp >>> 0, offset + 4);
  buf.writeUInt32BE(h.ssrc >>> 0, offset + 8);
  let o = offset + RTP_FIXED_HEADER_BYTES;
  for (const c of h.csrcs) {
    buf.writeUInt32BE(c >>> 0, o);
    o += 4;
  }
  if (h.extension) {
    buf.writeUInt16BE(h.extension.profile & 0xffff, o);
    buf.writeUInt16BE(h.extension.data.length / 4, o + 2);
    h.extension.data.copy(buf, o + 4);
    o += 4 + h.extension.data.length;
  }
  return o - offset;
}

/** Total packet size: header + payload + paddingSize. */
export function rtpPacketByteLength(p: RtpPacket): number {
  return rtpHeaderByteLength(p) + p.payload.length + p.paddingSize;
}

/**
 * Writes header, payload and padding (zeros, the last octet = paddingSize); returns bytes written.
 * The P bit follows `paddingSize > 0`, whatever `p.padding` says.
 */
export function serializeRtpPacketInto(p: RtpPacket, buf: Buffer, offset: number): number {
  if (!Number.isInteger(p.paddingSize) || p.paddingSize < 0 || p.paddingSize > RTP_MAX_PADDING_BYTES) {
    throw new RangeError(`RTP paddingSize out of range: ${p.paddingSize}`);
  }
  const total = rtpPacketByteLength(p);
  if (offset < 0 || offset + total > buf.length) throw new RangeError('buffer too small for RTP packet');
  let o = offset + serializeRtpHeaderInto({ ...p, padding: p.paddingSize > 0 }, buf, offset);
  p.payload.copy(buf, o);
  o += p.payload.length;
  if (p.paddingSize > 0) {
    buf.fill(0, o, o + p.paddingSize - 1);
    buf[o + p.paddingSize - 1] = p.paddingSize;
    o += p.paddingSize;
  }
  return o - offset;
}

/** Serializes a packet into a new Buffer. */
export function serializeRtpPacket(p: RtpPacket): Buffer {
  const buf = Buffer.allocUnsafe(rtpPacketByteLength(p));
  serializeRtpPacketInto(p, buf, 0);
  return buf;
}

/**
 * Hot path: writes a 12-byte fixed header (V=2, P=0, X=0, CC=0) at `offset` without allocating
 * or validating beyond masking. sequenceNumber is masked to 16 bits, timestamp/ssrc to 32 bits,
 * payloadType to 7 bits. The caller guarantees `offset + 12 <= buf.length`.
 */
export function writeRtpFixedHeader(
  buf: Buffer,
  offset: number,
  marker: boolean,
  payloadType: number,
  sequenceNumber: number,
  timestamp: number,
  ssrc: number,
): void {
  buf[offset] = 0x80;
  buf[offset + 1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  buf[offset + 2] = (sequenceNumber >>> 8) & 0xff;
  buf[offset + 3] = sequenceNumber & 0xff;
  buf[offset + 4] = timestamp >>> 24;
  buf[offset + 5] = (timestamp >>> 16) & 0xff;
  buf[offset + 6] = (timestamp >>> 8) & 0xff;
  buf[offset + 7] = timestamp & 0xff;
  buf[offset + 8] = ssrc >>> 24;
  buf[offset + 9] = (ssrc >>> 16) & 0xff;
  buf[offset + 10] = (ssrc >>> 8) & 0xff;
  buf[offset + 11] = ssrc & 0xff;
}
