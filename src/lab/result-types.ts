/**
 * What one run records: its parameters and every measure (ground truth, RTCP both ways, jitter
 * buffer, picture, sound, event loop). `results.json` holds these; `results.csv` flattens them.
 */

import type { BurstGapMetrics, DelaySummary, RunHistogramEntry } from '../impair/index.ts';
import type { EmodelResult } from '../stats/emodel.ts';
import type { FreezeStats } from './freezes.ts';

export interface RunParams {
  condition: string;
  mode: 'fast' | 'realtime';
  media: string;
  durationSec: number;
  startNpt: number;
  seed: number;
  repetition: number;
  netem: string;
  jitter: string;
  transport: 'udp' | 'tcp';
  /** What the condition impairs (RTP per track or shared link, RTCP each way), in words. */
  impairmentScope?: string;
  /** Where traces start: 'seeded' (an offset per path from its seed) or 0 (from their beginning). */
  traceOffset?: 'seeded' | 0;
  /** Where each path's traces started in this run (paths with a trace only; filled after the run). */
  traceOffsets?: { path: string; fraction: number; lossStart?: number; linkOffsetMs?: number; delayOffsetMs?: number }[];
  /** Long-run loss the netem model should give (undefined: no closed form). */
  configuredLoss: number | undefined;
  /** 1/r for a Gilbert channel. */
  configuredMeanBurst: number | undefined;
}

/** Ground truth from the emulator's fate log for one track's RTP. */
export interface TruthFigures {
  sent: number;
  /** Packets with no copy delivered. */
  lost: number;
  lossRate: number;
  droppedByLoss: number;
  /** Dropped by netem's `limit`. */
  droppedByQueue: number;
  /** Dropped by the bottleneck queue: full on arrival (tail), by CoDel (aqm). */
  droppedByTail: number;
  droppedByAqm: number;
  /** Still in the emulator at the end of the run (not delivered, not dropped). */
  inFlight: number;
  /** Bottleneck sojourn times of delivered packets (ms; count 0 without a bottleneck). */
  sojourn: { count: number; p50: number; p95: number; max: number; mean: number };
  /** Delivered with more than 0.5 ms emulator delay. */
  delayed: number;
  reordered: number;
  duplicated: number;
  /** TCP paths: segments the model lost that arrived by retransmission (late, never lost). */
  retransmitted: number;
  lossRuns: RunHistogramEntry[];
  gapRuns: RunHistogramEntry[];
  meanLossRun: number;
  meanGapRun: number;
  burstGap: BurstGapMetrics;
  delay: DelaySummary;
  /**
   * When copies actually left the emulator against when the model said (releasedAtMs −
   * deliveredAtMs): copies more than LATE_RELEASE_MS late, and the worst. Zero in simulated time;
   * in real time a late release is a host stall, and the run is flagged (RunResult.flags).
   */
  release: { lateCopies: number; maxLateMs: number };
  /**
   * The packets the receiver's RFC 3550 statistics cover (from the packet that ended probation to
   * the highest received): RTCP's cumulative lost is comparable with the truth only there.
   */
  window:
    | {
        fromId: number;
        toId: number;
        packets: number;
        /** Window packets with no copy delivered: the true loss. */
        lost: number;
        /**
         * What an exact RFC 3550 A.1/A.3 receiver reports for these arrivals: `lost` minus the
         * copies it also counts as received, namely packets from before the window that arrived
         * after the one that ended probation (reordered at the start) and duplicates in the window.
         */
        rfcLost: number;
        countedBeforeWindow: number;
        duplicatesInWindow: number;
      }
    | undefined;
}

/** Ground truth of an impaired RTCP path (server → receiver, or receiver → server). */
export interface RtcpPathTruth {
  sent: number;
  lost: number;
  lossRate: number;
  meanDelayMs: number;
}

/** RTCP as it happened: the server's view of our RRs, and our view of the server's SRs. */
export interface RtcpFigures {
  /** RRs the server received about this track. */
  receiverReports: number;
  lastFractionLost: number | undefined;
  /** Mean of the per-interval fraction lost over all RRs (each RR weighs the same). */
  meanFractionLost: number | undefined;
  cumulativeLost: number | undefined;
  /** Reported cumulative lost minus the ground-truth losses in the window. */
  cumulativeLostError: number | undefined;
  /** cumulativeLost / window packets. */
  reportedLossRate: number | undefined;
  jitterMs: number | undefined;
  maxJitterMs: number | undefined;
  rttMs: number | undefined;
  /** SRs our receiver got from the server. */
  senderReports: number;
  byeReceived: boolean;
}

export interface JitterBufferFigures {
  mode: 'fixed' | 'adaptive';
  late: number;
  /** Sequence numbers the buffer declared lost (network loss + late). */
  lost: number;
  /** lost / expected: what the decoder missed. */
  effectiveLossRate: number;
  meanPlayoutDelayMs: number;
  meanTargetDelayMs: number;
  forced: number;
  duplicates: number;
}

export interface TrackResult {
  track: number;
  media: string;
  codec: string;
  truth: TruthFigures;
  rtcp: RtcpFigures;
  /** Ground truth of the track's RTCP paths, when the condition impairs them. */
  rtcpPaths?: { forward?: RtcpPathTruth; return?: RtcpPathTruth };
  /** Our RFC 3550 receiver statistics at the end (what the last RR said, unrounded). */
  receiver: { received: number; expected: number; lost: number; duplicates: number; reordered: number; jitterMs: number };
  jitterBuffer: JitterBufferFigures;
  units: { total: number; incomplete: number; skippedUntilKeyframe: number };
}

export interface VideoQuality {
  sourceFrames: number;
  /** Frames the receiver's recording decodes to, within the span. */
  decodedFrames: number;
  /** Source frames with no own received frame (shown as the previous one, EvalVid). */
  missingFrames: number;
  freezes: FreezeStats;
  /** Mean of the per-frame PSNRs, each capped at psnrCapDb (kept for comparison; see psnrDb). */
  psnrMean: number | undefined;
  ssimMean: number | undefined;
  /** PSNR of the mean MSE over exactly the compared frames, capped at psnrCapDb: the PSNR to report. */
  psnrDb?: number | undefined;
  /** The cap on PSNRs (identical frames have an infinite PSNR). */
  psnrCapDb?: number;
  /** Frames compared (the source frames of the span that ffmpeg scored). */
  comparedFrames?: number;
  /** Compared frames identical to the source (PSNR at the cap). */
  framesAtCap?: number;
  /** Per-frame distributions: 5th percentile and median. */
  psnrP05?: number | undefined;
  psnrMedian?: number | undefined;
  ssimP05?: number | undefined;
  ssimMedian?: number | undefined;
  /** Mean VMAF when the installed ffmpeg has libvmaf; undefined otherwise. */
  vmafMean?: number | undefined;
  /** Per-frame values (files in the run folder). */
  perFrameFile: string | undefined;
  error?: string;
}

export interface SeriesPoint {
  t: number;
  track: number;
  media: string;
  playoutDelayMs: number;
  targetDelayMs: number;
  jitterMs: number;
  late: number;
  lost: number;
  packets: number;
}

export interface RunResult {
  index: number;
  id: string;
  status: 'ok' | 'failed';
  reason?: string;
  params: RunParams;
  startedAt: string;
  wallMs: number;
  tracks: TrackResult[];
  series: SeriesPoint[];
  video?: VideoQuality;
  audio?: EmodelResult & { codec: string };
  eventLoop?: { meanMs: number; p99Ms: number; maxMs: number };
  /** Datagrams the kernel dropped on the receiver's UDP sockets (real time on Linux). */
  kernelDrops?: number;
  /** What makes this run's figures doubtful, one sentence each (e.g. a host stall). */
  flags?: string[];
  /** Receiver session end reason. */
  end?: string;
  recording?: string;
  /** Packet-level files in the run folder: sent/arrived pcaps and the fate log, per track. */
  captures?: string[];
}
