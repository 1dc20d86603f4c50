/**
 * stats/ owns the RFC 3550 statistics: per-source receive statistics (A.1 sequence validation,
 * A.3 loss, A.8 jitter) that fill RR/SR report blocks, the sender counters and SR sender info,
 * round-trip time from report blocks (§6.4.1), and the RTCP transmission interval (A.7). All
 * pure: times and randomness are parameters.
 */

export { MAX_DROPOUT, MAX_MISORDER, MIN_SEQUENTIAL, SEQ_HISTORY_SIZE, ReceiverSource } from './receiver-source.ts';
export type { SeqOutcome, ReceiverSourceOptions, ReceiverSourceSnapshot } from './receiver-source.ts';
export {
  RTCP_MIN_TIME_S,
  RTCP_SENDER_BW_FRACTION,
  RTCP_RCVR_BW_FRACTION,
  RTCP_COMPENSATION,
  RTCP_BANDWIDTH_FRACTION,
  rtcpDeterministicInterval,
  rtcpInterval,
  rtcpBandwidthFromSession,
  updateAvgRtcpSize,
} from './rtcp-interval.ts';
export type { RtcpIntervalParams } from './rtcp-interval.ts';
export { rttFromReportBlock, rttFromReportBlockAtWallMs } from './rtt.ts';
export { SenderStats, makeSenderInfo, rtpTimestampAt } from './sender-stats.ts';
export { RTCP_IP_UDP_OVERHEAD, ReceiverRtcpTiming, receiverReportPackets, serializeReceiverReport } from './receiver-report.ts';
export type { ReceiverReportCompound } from './receiver-report.ts';
export { BurstGapCounter } from './burst-gap.ts';
export type { BurstGapFigures } from './burst-gap.ts';
export { EMODEL_R_DEFAULT, G113, emodel, mosFromR } from './emodel.ts';
export type { EmodelCodec, EmodelResult } from './emodel.ts';
