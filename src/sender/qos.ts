import { XR_UNAVAILABLE } from '../rtcp/index.ts';
import type { ReportBlock, XrVoipMetrics } from '../rtcp/index.ts';
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
  /**
   * What in the raw figures cannot be loss (RFC 3550 A.3): `fraction-without-loss`, a fraction lost
   * above 0 while the packets lost in the interval (cumulative minus the previous report's, or the
   * cumulative itself in a first report) are ≤ 0 (live555's first report says 255/256);
   * `negative-cumulative`, fewer than 0 lost in all (duplicates can do it; live555 says −1 with no
   * loss). The raw values stay as reported; empty when the report is consistent.
   */
  quirks: ReportQuirk[];
  /** The loss the QoS view and any adaptation read: the raw figures with the quirks taken out. */
  qos: { fractionLost: number; cumulativeLost: number };
  /** The receiver's RTCP XR VoIP metrics about this stream (RFC 3611 §4.7), when it sent them in the same compound. */
  voip?: VoipMetricsRecord;
}

/** An XR VoIP metrics block in people's units: fractions 0..1, ms, R 0..100, MOS 1..5; undefined where unavailable. */
export interface VoipMetricsRecord {
  lossRate: number;
  /** Packets the receiver's jitter buffer discarded (late). */
  discardRate: number;
  burstDensity: number;
  gapDensity: number;
  burstDurationMs: number;
  gapDurationMs: number;
  roundTripDelayMs: number;
  /** The receiver's own delay from arrival to playout. */
  endSystemDelayMs: number;
  gmin: number;
  rFactor: number | undefined;
  mosLq: number | undefined;
  mosCq: number | undefined;
  jitterBuffer: { adaptive: boolean | undefined; nominalMs: number; maximumMs: number; absMaxMs: number };
}

export function voipMetricsRecord(b: XrVoipMetrics): VoipMetricsRecord {
  const known = (v: number, scale = 1) => (v === XR_UNAVAILABLE ? undefined : v / scale);
  const jba = (b.rxConfig >> 4) & 3;
  return {
    lossRate: b.lossRate / 256,
    discardRate: b.discardRate / 256,
    burstDensity: b.burstDensity / 256,
    gapDensity: b.gapDensity / 256,
    burstDurationMs: b.burstDurationMs,
    gapDurationMs: b.gapDurationMs,
    roundTripDelayMs: b.roundTripDelayMs,
    endSystemDelayMs: b.endSystemDelayMs,
    gmin: b.gmin,
    rFactor: known(b.rFactor),
    mosLq: known(b.mosLq, 10),
    mosCq: known(b.mosCq, 10),
    jitterBuffer: {
      adaptive: jba === 3 ? true : jba === 2 ? false : undefined,
      nominalMs: b.jbNominalMs,
      maximumMs: b.jbMaximumMs,
      absMaxMs: b.jbAbsMaxMs,
    },
  };
}

export type ReportQuirk = 'fraction-without-loss' | 'negative-cumulative';

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
    /** This reporter's previous report about the same stream, if any. */
    previous?: Pick<ReceiverReportRecord, 'cumulativeLost'>;
  },
): ReceiverReportRecord {
  const quirks: ReportQuirk[] = [];
  const lostInInterval = block.cumulativeLost - (ctx.previous?.cumulativeLost ?? 0);
  if (block.fractionLost > 0 && lostInInterval <= 0) quirks.push('fraction-without-loss');
  if (block.cumulativeLost < 0) quirks.push('negative-cumulative');
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
    quirks,
    qos: {
      fractionLost: quirks.includes('fraction-without-loss') ? 0 : block.fractionLost / 256,
      cumulativeLost: Math.max(0, block.cumulativeLost),
    },
  };
}
