/**
 * SR: Sender Report RTCP packet (PT=200).
 *
 * ```
 *         0                   1                   2                   3
 *         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * header |V=2|P|    RC   |   PT=SR=200   |             length            |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                         SSRC of sender                        |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * sender |              NTP timestamp, most significant word             |
 * info   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |             NTP timestamp, least significant word             |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                         RTP timestamp                         |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                     sender's packet count                     |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                      sender's octet count                     |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * report |                 SSRC_1 (SSRC of first source)                 |
 * block  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   1    :               ... 24 bytes, see report-block.ts ...           :
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *        :                  ... up to 31 report blocks ...               :
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *        |                  profile-specific extensions                  |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * @see RFC 3550 §6.4.1
 */

import { rtcpError, type RtcpParseResult } from './errors.ts';
import { finishRtcpPacket, RTCP_HEADER_BYTES, RTCP_MAX_COUNT, RTCP_PT_SR, rtcpPaddedLength, writeRtcpHeader } from './header.ts';
import { readReportBlock, REPORT_BLOCK_BYTES, writeReportBlock, type ReportBlock } from './report-block.ts';

export const SENDER_INFO_BYTES = 20;

export interface SenderInfo {
  /** NTP seconds since 1900 (most significant word). */
  ntpSeconds: number;
  /** NTP fraction (least significant word, units of 2^-32 s). */
  ntpFraction: number;
  /** RTP timestamp corresponding to the NTP time. */
  rtpTimestamp: number;
  /** Packets sent since starting transmission, mod 2^32. */
  packetCount: number;
  /** Payload octets sent since starting transmission, mod 2^32. */
  octetCount: number;
}

export interface RtcpSenderReport {
  type: 'sr';
  ssrc: number;
  senderInfo: SenderInfo;
  /** 0..31 report blocks. */
  reports: ReportBlock[];
  /**
   * Profile-specific extension bytes after the blocks (a view). A length that is not a multiple
   * of 4 (possible after padding removal) is serialized with RTCP padding.
   */
  profileExtension?: Buffer;
}

/** Decodes an SR body (bytes after the common header, padding removed). */
export function decodeSenderReport(body: Buffer, count: number, offset: number): RtcpParseResult<RtcpSenderReport> {
  const need = 4 + SENDER_INFO_BYTES + count * REPORT_BLOCK_BYTES;
  if (body.length < need) {
    return rtcpError('RTCP_ERR_SHORT_BODY', `SR with ${count} blocks needs ${need} body bytes, has ${body.length}`, offset, RTCP_PT_SR);
  }
  const reports: ReportBlock[] = [];
  for (let i = 0; i < count; i++) reports.push(readReportBlock(body, 24 + i * REPORT_BLOCK_BYTES));
  const sr: RtcpSenderReport = {
    type: 'sr',
    ssrc: body.readUInt32BE(0),
    senderInfo: {
      ntpSeconds: body.readUInt32BE(4),
      ntpFraction: body.readUInt32BE(8),
      rtpTimestamp: body.readUInt32BE(12),
      packetCount: body.readUInt32BE(16),
      octetCount: body.readUInt32BE(20),
    },
    reports,
  };
  if (body.length > need) sr.profileExtension = body.subarray(need);
  return { ok: true, value: sr };
}

function contentLength(p: RtcpSenderReport): number {
  return RTCP_HEADER_BYTES + 4 + SENDER_INFO_BYTES + p.reports.length * REPORT_BLOCK_BYTES + (p.profileExtension?.length ?? 0);
}

/** Packet size in bytes. Must match serializeSenderReportInto. */
export function senderReportByteLength(p: RtcpSenderReport): number {
  return rtcpPaddedLength(contentLength(p));
}

/** Writes the packet at `offset`; returns bytes written. Throws RangeError on bad fields. */
export function serializeSenderReportInto(p: RtcpSenderReport, buf: Buffer, offset: number): number {
  if (p.reports.length > RTCP_MAX_COUNT) throw new RangeError(`SR with ${p.reports.length} report blocks (max 31)`);
  const size = senderReportByteLength(p);
  writeRtcpHeader(buf, offset, p.reports.length, RTCP_PT_SR, size);
  const s = p.senderInfo;
  buf.writeUInt32BE(p.ssrc >>> 0, offset + 4);
  buf.writeUInt32BE(s.ntpSeconds >>> 0, offset + 8);
  buf.writeUInt32BE(s.ntpFraction >>> 0, offset + 12);
  buf.writeUInt32BE(s.rtpTimestamp >>> 0, offset + 16);
  buf.writeUInt32BE(s.packetCount >>> 0, offset + 20);
  buf.writeUInt32BE(s.octetCount >>> 0, offset + 24);
  let o = offset + 28;
  for (const b of p.reports) {
    writeReportBlock(b, buf, o);
    o += REPORT_BLOCK_BYTES;
  }
  if (p.profileExtension) {
    p.profileExtension.copy(buf, o);
    o += p.profileExtension.length;
  }
  return finishRtcpPacket(buf, offset, o - offset);
}
