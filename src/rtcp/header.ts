/**
 * The RTCP common header shared by every packet type.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|  count  |      PT       |             length            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 * length = packet size in 32-bit words minus one (header and padding included).
 *
 * @see RFC 3550 §6.4.1
 */

export const RTCP_VERSION = 2;
export const RTCP_HEADER_BYTES = 4;
/** Largest value of the 5-bit count field (report blocks, SSRCs, chunks, APP subtype). */
export const RTCP_MAX_COUNT = 31;
/** Largest packet the 16-bit length field can describe. */
export const RTCP_MAX_PACKET_BYTES = (0xffff + 1) * 4;

export const RTCP_PT_SR = 200;
export const RTCP_PT_RR = 201;
export const RTCP_PT_SDES = 202;
export const RTCP_PT_BYE = 203;
export const RTCP_PT_APP = 204;

/**
 * Writes a common header (P=0) for a packet of `byteLength` bytes (a multiple of 4).
 * Throws RangeError on a bad count or length (programmer errors).
 */
export function writeRtcpHeader(buf: Buffer, offset: number, count: number, packetType: number, byteLength: number): void {
  if (!Number.isInteger(count) || count < 0 || count > RTCP_MAX_COUNT) throw new RangeError(`RTCP count out of range: ${count}`);
  if (byteLength % 4 !== 0 || byteLength < 4 || byteLength > RTCP_MAX_PACKET_BYTES) {
    throw new RangeError(`RTCP packet length must be a multiple of 4 in [4, ${RTCP_MAX_PACKET_BYTES}]: ${byteLength}`);
  }
  if (offset < 0 || offset + byteLength > buf.length) throw new RangeError('buffer too small for RTCP packet');
  buf[offset] = 0x80 | count;
  buf[offset + 1] = packetType & 0xff;
  buf.writeUInt16BE(byteLength / 4 - 1, offset + 2);
}

/** Content length rounded up to a 32-bit boundary (the padded packet size). */
export function rtcpPaddedLength(contentBytes: number): number {
  return (contentBytes + 3) & ~3;
}

/**
 * Completes a packet whose content (header included) is `contentBytes` long: when that is not a
 * multiple of 4, appends RTCP padding (zeros, the last octet = the padding count) and sets the P
 * bit. Used for opaque bodies (unknown types, APP data, profile extensions) whose length came
 * from a parsed packet with its padding removed. Returns the padded size.
 */
export function finishRtcpPacket(buf: Buffer, offset: number, contentBytes: number): number {
  const size = rtcpPaddedLength(contentBytes);
  const pad = size - contentBytes;
  if (pad > 0) {
    buf.fill(0, offset + contentBytes, offset + size - 1);
    buf[offset + size - 1] = pad;
    buf.writeUInt8(buf.readUInt8(offset) | 0x20, offset);
  }
  return size;
}

/**
 * Demultiplexing hint for RTP and RTCP on one port or channel (RFC 5761 §4): true when the second
 * octet is 192..223, i.e. an RTCP packet type rather than M + an RTP payload type.
 */
export function looksLikeRtcp(buf: Buffer): boolean {
  if (buf.length < 2) return false;
  const b1 = buf.readUInt8(1);
  return buf.readUInt8(0) >>> 6 === 2 && b1 >= 192 && b1 <= 223;
}
