/**
 * APP: Application-Defined RTCP packet (PT=204), kept opaque.
 *
 * ```
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |V=2|P| subtype |   PT=APP=204  |             length            |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                           SSRC/CSRC                           |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                          name (ASCII)                         |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                   application-dependent data                ...
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * @see RFC 3550 §6.7
 */

import { rtcpError, type RtcpParseResult } from './errors.ts';
import { finishRtcpPacket, RTCP_HEADER_BYTES, RTCP_MAX_COUNT, RTCP_PT_APP, rtcpPaddedLength, writeRtcpHeader } from './header.ts';

export interface RtcpApp {
  type: 'app';
  /** 5-bit subtype (0..31). */
  subtype: number;
  ssrc: number;
  /** Four characters, each 0..255 (decoded as latin1 so any bytes round-trip). */
  name: string;
  /** Application data (a view when parsed). A length not a multiple of 4 is sent with RTCP padding. */
  data: Buffer;
}

/** Decodes an APP body (bytes after the common header, padding removed). */
export function decodeApp(body: Buffer, count: number, offset: number): RtcpParseResult<RtcpApp> {
  if (body.length < 8) {
    return rtcpError('RTCP_ERR_SHORT_BODY', `APP needs 8 body bytes, has ${body.length}`, offset, RTCP_PT_APP);
  }
  return {
    ok: true,
    value: { type: 'app', subtype: count, ssrc: body.readUInt32BE(0), name: body.toString('latin1', 4, 8), data: body.subarray(8) },
  };
}

/** Packet size in bytes. Must match serializeAppInto. */
export function appByteLength(p: RtcpApp): number {
  return rtcpPaddedLength(RTCP_HEADER_BYTES + 8 + p.data.length);
}

/** Writes the packet at `offset`; returns bytes written. Throws RangeError on bad fields. */
export function serializeAppInto(p: RtcpApp, buf: Buffer, offset: number): number {
  if (!Number.isInteger(p.subtype) || p.subtype < 0 || p.subtype > RTCP_MAX_COUNT)
    throw new RangeError(`APP subtype out of range: ${p.subtype}`);
  // eslint-disable-next-line no-control-regex -- the name must be four Latin-1 octets
  if (p.name.length !== 4 || Buffer.byteLength(p.name, 'latin1') !== 4 || /[^\x00-\xff]/.test(p.name)) {
    throw new RangeError(`APP name must be 4 latin1 characters: ${JSON.stringify(p.name)}`);
  }
  const size = appByteLength(p);
  writeRtcpHeader(buf, offset, p.subtype, RTCP_PT_APP, size);
  buf.writeUInt32BE(p.ssrc >>> 0, offset + 4);
  buf.write(p.name, offset + 8, 4, 'latin1');
  p.data.copy(buf, offset + 12);
  return finishRtcpPacket(buf, offset, 12 + p.data.length);
}
