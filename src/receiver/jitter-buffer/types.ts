/**
 * Public types and named limits of the jitter buffer: options, the packet it takes, the events it
 * hands out, push outcomes and statistics.
 */

/** A.1: largest forward sequence jump still treated as the same stream (RFC 3550 MAX_DROPOUT). */
export const JB_MAX_DROPOUT = 3000;
/** A.1: largest backward sequence step still treated as a late packet (RFC 3550 MAX_MISORDER). */
export const JB_MAX_MISORDER = 100;
/** Default cap on packets held (a forced, early release of the oldest makes room). */
export const JB_DEFAULT_MAX_PACKETS = 2048;
/** Default lower bound of the adaptive target delay. */
export const JB_DEFAULT_MIN_DELAY_MS = 20;
/** Default upper bound of the target delay (adaptive) and cap on the applied delay (both modes). */
export const JB_DEFAULT_MAX_DELAY_MS = 1000;
/** Default adaptive target before any measurement (NetEQ starts at 80 ms). */
export const JB_DEFAULT_START_DELAY_MS = 80;
/** Default delay percentile the adaptive target follows. */
export const JB_DEFAULT_PERCENTILE = 0.95;
/** Default histogram bin width (NetEQ uses 20 ms for audio; finer suits video). */
export const JB_DEFAULT_BIN_MS = 10;
/** Default half-life of a histogram sample's weight (the target decays over tens of seconds). */
export const JB_DEFAULT_HALF_LIFE_MS = 10_000;
/** Default window of the clock-offset estimate: the fastest packet of the last 2 s (NetEQ). */
export const JB_DEFAULT_BASE_WINDOW_MS = 2000;
/** Default rate at which the applied delay may grow: ms per ms of elapsed time (a 20 % stretch). */
export const JB_DEFAULT_SLEW_UP = 0.2;
/** Default rate at which the applied delay may shrink: ms per ms of elapsed time (a 5 % speed-up). */
export const JB_DEFAULT_SLEW_DOWN = 0.05;
/** Default transit jump (ms, either way) that makes a packet a resync candidate. */
export const JB_DEFAULT_RESYNC_THRESHOLD_MS = 2000;
/** Consistent candidate packets that confirm a sender restart / jump (A.1's MIN_SEQUENTIAL). */
export const JB_DEFAULT_RESYNC_PACKETS = 2;
/** Cap on candidate packets kept while a restart is unconfirmed. */
export const JB_MAX_PROBATION_PACKETS = 16;
/** Sequence numbers remembered after release, to tell a duplicate from a late packet. */
export const JB_RELEASED_HISTORY = 4096;
/** Cap on entries of the sliding-window minimum behind the clock-offset estimate. */
export const JB_MAX_BASE_WINDOW_ENTRIES = 8192;

/** The fields of a received RTP packet the buffer needs; extra fields ride along untouched. */
export interface JitterPacketInput {
  /** 16-bit RTP sequence number. */
  sequence: number;
  /** 32-bit RTP timestamp. */
  timestamp: number;
  marker: boolean;
  payload: Buffer;
  ssrc: number;
}

export interface FixedDelayOptions {
  mode: 'fixed';
  /** Delay added over the fastest packet's path (GStreamer's `latency`, default there 200 ms). */
  delayMs: number;
}

export interface AdaptiveDelayOptions {
  mode?: 'adaptive';
  minDelayMs?: number;
  maxDelayMs?: number;
  startDelayMs?: number;
  /** 0 < percentile < 1; default 0.95. */
  percentile?: number;
  binMs?: number;
  halfLifeMs?: number;
}

export type JitterBufferOptions = (FixedDelayOptions | AdaptiveDelayOptions) & {
  /** RTP clock rate of the track (Hz). Required. */
  clockRate: number;
  /** Fixed mode: cap on the applied delay; default max(delayMs, JB_DEFAULT_MAX_DELAY_MS). */
  maxDelayMs?: number;
  maxPackets?: number;
  baseWindowMs?: number;
  slewUp?: number;
  slewDown?: number;
  resyncThresholdMs?: number;
  resyncPackets?: number;
  maxDropout?: number;
  maxMisorder?: number;
  /** Copy each held payload (`Buffer.from`) so a reused receive buffer cannot alter it; default true. */
  copyPayload?: boolean;
};

/** What push() did with a packet. */
export type JitterPushOutcome =
  /** Held until its deadline. */
  | 'accepted'
  /** Already held or already released: dropped. */
  | 'duplicate'
  /** Its deadline (or its place in sequence order) has passed: dropped, counted as late. */
  | 'late'
  /** A candidate for a sender restart (new SSRC, sequence or timestamp jump), held aside. */
  | 'probation'
  /** Confirmed a restart: the old stream was flushed and the buffer re-synced on the candidates. */
  | 'resync';

export type JitterResyncReason = 'ssrc' | 'sequence' | 'timestamp';

export interface JitterPacketEvent<P extends JitterPacketInput = JitterPacketInput> {
  type: 'packet';
  packet: P;
  /** Extended sequence number: increasing across 65535 -> 0 and across resyncs. */
  extendedSeq: number;
  /** Extended RTP timestamp (unwrapped across 2^32 -> 0; restarts at the raw value on a resync). */
  extendedTimestamp: number;
  /** When the packet's access unit was due (shared by all packets of one timestamp). */
  deadlineMs: number;
  arrivalMs: number;
  /** Time held: release time (the poll's nowMs, or the push/flush time when forced) - arrivalMs. */
  playoutDelayMs: number;
  /** Sequence numbers declared lost right before this packet (0 when none; see the 'lost' event). */
  lostBefore: number;
  /** Released before its deadline: flush(), a resync or the maxPackets cap. */
  forced: boolean;
}

export interface JitterLostEvent {
  type: 'lost';
  /** First lost extended sequence number. */
  fromSeq: number;
  count: number;
}

export interface JitterResyncEvent {
  type: 'resync';
  reason: JitterResyncReason;
  /** SSRC of the new stream. */
  ssrc: number;
}

export type JitterEvent<P extends JitterPacketInput = JitterPacketInput> = JitterPacketEvent<P> | JitterLostEvent | JitterResyncEvent;

export interface JitterBufferStats {
  mode: 'fixed' | 'adaptive';
  /** Delay the buffer aims for over the fastest packet's path (fixed: delayMs). */
  targetDelayMs: number;
  /** Mean of targetDelayMs sampled at each access-unit release (0 before the first). */
  meanTargetDelayMs: number;
  /** Delay applied now over the fastest packet's path: follows the target at the slew rates. */
  appliedDelayMs: number;
  /** playoutDelayMs of the last released packet (0 before the first). */
  playoutDelayMs: number;
  /** Mean playoutDelayMs over released packets (0 before the first). */
  meanPlayoutDelayMs: number;
  /** Packets held now. */
  depthPackets: number;
  /** Media time spanned by the held packets: newest minus oldest timestamp, in ms. */
  depthMs: number;
  /** push() calls. */
  received: number;
  /** Packets held at some point (accepted, or candidates confirmed by a resync). */
  accepted: number;
  released: number;
  /** Of released: released early (flush, resync, maxPackets). */
  forced: number;
  late: number;
  /** Sequence numbers reported in 'lost' events (never arrived, or arrived late). */
  lost: number;
  duplicates: number;
  /** Non-duplicate arrivals with a sequence number below the highest seen. */
  reordered: number;
  /** Restart candidates never confirmed, dropped. */
  discarded: number;
  resyncs: number;
}
