import type { ReportBlock } from '../rtcp/index.ts';
import { rttFromReportBlockAtWallMs } from '../stats/index.ts';

/**
 * What a client said about one of our streams in an RTCP receiver report (RFC 3550 §6.4), with the
 * derived figures people read: loss as a fraction, jitter in ms, round-trip time.
 */
export interface ReceiverReportRecord {
  sessionId: string;
  media: string;
  control: string;
  transport: 'udp' | 'tcp';
  /** Address the report came from (`ip:port`, or `tcp:<channel>`). */
  from: string;
  /** SSRC of our stream the block is about. */
  ssrc: number;
  /** SSRC of the reporting receiver. */
  reporterSsrc: number;
  /** Fraction lost since the previous report, 0..1 (the 8-bit field / 256). */
  fractionLost: number;
  /** Signed cumulative number of packets lost. */
  cumulativeLost: number;
  extendedHighestSeq: number;
  /** Interarrival jitter in RTP timestamp units, as reported. */
  jitter: number;
  jitterMs: number;
  /** Round-trip time from LSR/DLSR, undefined when the client has not seen an SR yet. */
  rttMs: number | undefined;
  /** Wall-clock time (Unix ms) the report arrived. */
  receivedAt: number;
}

export function receiverReportRecord(
  block: ReportBlock,
  ctx: {
    sessionId: string;
    media: string;
    control: string;
    transport: 'udp' | 'tcp';
    from: string;
    reporterSsrc: number;
    clockRate: number;
    arrivalWallMs: number;
  },
): ReceiverReportRecord {
  return {
    sessionId: ctx.sessionId,
    media: ctx.media,
    control: ctx.control,
    transport: ctx.transport,
    from: ctx.from,
    ssrc: block.ssrc,
    reporterSsrc: ctx.reporterSsrc,
    fractionLost: block.fractionLost / 256,
    cumulativeLost: block.cumulativeLost,
    extendedHighestSeq: block.extendedHighestSeq,
    jitter: block.jitter,
    jitterMs: (block.jitter / ctx.clockRate) * 1000,
    rttMs: rttFromReportBlockAtWallMs(block, ctx.arrivalWallMs),
    receivedAt: ctx.arrivalWallMs,
  };
}
