/**
 * sender: the one packet path out. A track's payload format and packetized samples
 * (packetized-track), where PLAY starts (seek), the timeline and trick-play mappings, the RtpStream
 * that paces samples out at their decode time, the RtpSender that owns an RTP source (SSRC,
 * sequence numbers, timestamp base, sender statistics) and writes each header once, the looped
 * source for `push --loop` and simulated live, and RTCP for a sent stream (RtcpSession: SR + SDES,
 * BYE, receiver reports turned into QoS records). Used by file sessions, live channels, multicast,
 * `push` and the lab alike.
 */
export { RtpSender } from './rtp-sender.ts';
export type { RtpOutput, SenderFormat } from './rtp-sender.ts';
export { RtpStream } from './rtp-stream.ts';
export type { SampleSource } from './rtp-stream.ts';
export { RtcpSession, isNatKeepAlive } from './rtcp-session.ts';
export type { RtcpSessionOptions } from './rtcp-session.ts';
export { LoopedSource, loopTracks, loopPeriodSec } from './looped-source.ts';
export { PlayTimeline } from './play-timeline.ts';
export { startIndexFor } from './seek.ts';
export {
  MAX_LATTICE_MS,
  MAX_SEND_GRID_MS,
  MIN_SEND_GRID_MS,
  alignedStartMs,
  betweenLattice,
  latticeStartMs,
  latticeTimeOf,
  sendGridMs,
  sendLattice,
} from './send-grid.ts';
export type { LatticeTimes, SendLattice } from './send-grid.ts';
export { receiverReportRecord, voipMetricsRecord } from './qos.ts';
export type { ReceiverReportRecord, VoipMetricsRecord } from './qos.ts';
