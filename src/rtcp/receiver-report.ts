/**
 * RR: Receiver Report RTCP packet (PT=201).
 *
 * ```
 *         0                   1                   2                   3
 *         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * header |V=2|P|    RC   |   PT=RR=201   |             length            |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                     SSRC of packet sender                     |
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
 * An RR with RC=0 (8 bytes) is the empty report a silent receiver sends.
 *
 * @see RFC 3550 §6.4.2
 */

import { rtcpError, type RtcpParseResult } from './errors.ts';
import { finishRtcpPacket, RTCP_HEADER_BYTES, RTCP_MAX_COUNT, RTCP_PT_RR, rtcpPaddedLength, writeRtcpHeader } from './header.ts';
import { readReportBlock, REPORT_BLOCK_BYTES, writeReportBlock, type ReportBlock } from './report-block.ts';

export interface RtcpReceiverReport {
  type: 'rr';
  /** SSRC of the packet sender. */
  ssrc: number;
  /** 0..31 report blocks. */
  reports: ReportBlock[];
  /**
   * Profile-specific extension bytes after the blocks (a view). A length that is not a multiple
   * of 4 (possible after padding removal) is serialized with RTCP padding.
   */
  profileExtension?: Buffer;
}

/** Decodes an RR body (bytes after the common header, padding removed). */
export function decodeReceiverReport(body: Buffer, count: number, offset: number): RtcpParseResult<RtcpReceiverReport> {
  const need = 4 + count * REPORT_BLOCK_BYTES;
  if (body.length < need) {
    return rtcpError('RTCP_ERR_SHORT_BODY', `RR with ${count} blocks needs ${need} body bytes, has ${body.length}`, offset, RTCP_PT_RR);
  }
  const reports: ReportBlock[] = [];
  for (let i = 0; i < count; i++) reports.push(readReportBlock(body, 4 + i * REPORT_BLOCK_BYTES));
  const rr: RtcpReceiverReport = { type: 'rr', ssrc: body.readUInt32BE(0), reports };
  if (body.length > need) rr.profileExtension = body.subarray(need);
  return { ok: true, value: rr };
}

/** Packet size in bytes. Must match serializeReceiverReportInto. */
export function receiverReportByteLength(p: RtcpReceiverReport): number {
  return rtcpPaddedLength(RTCP_HEADER_BYTES + 4 + p.reports.length * REPORT_BLOCK_BYTES + (p.profileExtension?.length ?? 0));
}

/** Writes the packet at `offset`; returns bytes written. Throws RangeError on bad fields. */
export function serializeReceiverReportInto(p: RtcpReceiverReport, buf: Buffer, offset: number): number {
  if (p.reports.length > RTCP_MAX_COUNT) throw new RangeError(`RR with ${p.reports.length} report blocks (max 31)`);
  const size = receiverReportByteLength(p);
  writeRtcpHeader(buf, offset, p.reports.length, RTCP_PT_RR, size);
  buf.writeUInt32BE(p.ssrc >>> 0, offset + 4);
  let o = offset + 8;
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
