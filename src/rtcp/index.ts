/**
 * rtcp/ owns the RTCP wire format of RFC 3550 §6: the common header, SR and RR with their report
 * blocks (signed 24-bit cumulative loss), SDES (items kept as type + bytes), BYE (with optional
 * reason), APP, XR (RFC 3611: RRTR and DLRR blocks for a receiver's RTT, other blocks opaque),
 * unknown types (kept opaque), and compound datagrams, parsed strictly per
 * Appendix A.2 (`parseRtcpCompound`) or leniently for non-compound packets (`parseRtcpPackets`).
 * Parsers return results with RTCP_ERR_* codes and views into the input; they never throw.
 * Statistics that fill the report blocks live in stats/.
 */

export type { RtcpErrorCode, RtcpParseError, RtcpParseResult } from './errors.ts';
export {
  RTCP_VERSION,
  RTCP_HEADER_BYTES,
  RTCP_MAX_COUNT,
  RTCP_MAX_PACKET_BYTES,
  RTCP_PT_SR,
  RTCP_PT_RR,
  RTCP_PT_SDES,
  RTCP_PT_BYE,
  RTCP_PT_APP,
  looksLikeRtcp,
} from './header.ts';
export { REPORT_BLOCK_BYTES, CUMULATIVE_LOST_MAX, CUMULATIVE_LOST_MIN, clampCumulativeLost } from './report-block.ts';
export type { ReportBlock } from './report-block.ts';
export { SENDER_INFO_BYTES, senderReportByteLength, serializeSenderReportInto } from './sender-report.ts';
export type { SenderInfo, RtcpSenderReport } from './sender-report.ts';
export { receiverReportByteLength, serializeReceiverReportInto } from './receiver-report.ts';
export type { RtcpReceiverReport } from './receiver-report.ts';
export {
  SDES_END,
  SDES_CNAME,
  SDES_NAME,
  SDES_EMAIL,
  SDES_PHONE,
  SDES_LOC,
  SDES_TOOL,
  SDES_NOTE,
  SDES_PRIV,
  SDES_MAX_ITEM_BYTES,
  sdesChunkByteLength,
  sourceDescriptionByteLength,
  serializeSourceDescriptionInto,
  makeSdesCname,
  sdesTextItem,
  findSdesCname,
} from './sdes.ts';
export type { SdesItem, SdesChunk, RtcpSourceDescription } from './sdes.ts';
export { BYE_MAX_REASON_BYTES, byeByteLength, serializeByeInto } from './bye.ts';
export type { RtcpBye } from './bye.ts';
export { appByteLength, serializeAppInto } from './app.ts';
export type { RtcpApp } from './app.ts';
export {
  RFC3611_GMIN,
  RTCP_PT_XR,
  XR_BT_RRTR,
  XR_BT_DLRR,
  XR_BT_VOIP_METRICS,
  XR_UNAVAILABLE,
  decodeXr,
  xrByteLength,
  serializeXrInto,
  rttFromDlrr,
} from './xr.ts';
export type { RtcpXr, XrBlock, XrRrtr, XrDlrr, DlrrItem, XrOpaqueBlock, XrVoipMetrics } from './xr.ts';
export {
  parseRtcpCompound,
  parseRtcpPackets,
  rtcpPacketByteLength,
  serializeRtcpPacketInto,
  rtcpCompoundByteLength,
  serializeRtcpCompound,
} from './compound.ts';
export type { RtcpPacket, RtcpUnknown } from './compound.ts';
export { SenderReportTemplate } from './sr-template.ts';
