/**
 * The typed form of a netem argument list. Probabilities and correlations are fractions in [0, 1]
 * (the grammar's `2%` is 0.02), times are milliseconds, rates bits per second.
 *
 * Semantics follow Linux `sch_netem.c` + iproute2 `tc/q_netem.c`; see netem-args.ts for the grammar
 * and the README-style notes in index.ts for where we deviate.
 */

/** netem's default queue limit (packets held in the emulator, delayed or queued). */
export const NETEM_DEFAULT_LIMIT = 1000;
/** Our cap on `limit` (the held-packet heap grows up to it). */
export const IMPAIR_MAX_LIMIT = 1_000_000;
/** Our cap on a bottleneck queue's byte limit (1 GB). */
export const IMPAIR_MAX_QUEUE_BYTES = 1_000_000_000;

export type DelayDistribution = 'uniform' | 'normal' | 'pareto' | 'paretonormal';

/** `loss random P [CORR]` (also plain `loss P`). */
export interface RandomLossConfig {
  readonly model: 'random';
  readonly p: number;
  readonly correlation: number;
}

/**
 * `loss state p13 [p31 [p32 [p23 [p14]]]]`: the 4-state Markov chain of Salsano et al. (netem "GI"
 * model). States: 1 good (received in a gap), 2 good within a burst, 3 lost in a burst, 4 isolated
 * loss. Defaults when omitted (tc): p31 = 1 - p13, p32 = 0, p23 = 1, p14 = 0.
 */
export interface StateLossConfig {
  readonly model: 'state';
  readonly p13: number;
  readonly p31: number;
  readonly p32: number;
  readonly p23: number;
  readonly p14: number;
}

/**
 * `loss gemodel p [r [1-h [1-k]]]`: Gilbert-Elliott. p good→bad, r bad→good, 1-h loss probability in
 * the bad state, 1-k loss probability in the good state. Defaults (tc): r = 1 - p, 1-h = 1, 1-k = 0.
 */
export interface GeLossConfig {
  readonly model: 'gemodel';
  readonly p: number;
  readonly r: number;
  readonly oneMinusH: number;
  readonly oneMinusK: number;
}

/** Our extension `trace FILE`: replay of a 0/1 loss trace (1 = lost), loaded by the caller. */
export interface TraceLossConfig {
  readonly model: 'trace';
  readonly path: string;
}

export type LossConfig = RandomLossConfig | StateLossConfig | GeLossConfig | TraceLossConfig;

export interface DelayConfig {
  readonly delayMs: number;
  readonly jitterMs: number;
  readonly correlation: number;
  /** Absent: netem's built-in uniform jitter (what `uniform` also selects here). */
  readonly distribution?: DelayDistribution;
}

export interface RateConfig {
  readonly bitsPerSecond: number;
  /** Bytes added to (or, negative, removed from) every packet before the serialization time. */
  readonly packetOverhead: number;
  /** Link-layer cell size in bytes (0 = none), e.g. 53 for ATM. */
  readonly cellSize: number;
  /** Bytes added per cell. */
  readonly cellOverhead: number;
}

export interface QueueConfig {
  readonly discipline: 'droptail' | 'codel';
  /** Packets the queue holds at most (tail drop beyond). */
  readonly packets: number;
  /** Bytes the queue holds at most; undefined: no byte limit. */
  readonly bytes?: number;
  /** CoDel target and interval (ms). */
  readonly targetMs: number;
  readonly intervalMs: number;
}

/** Linux's default queue length (txqueuelen, pfifo, codel `limit`). */
export const QUEUE_DEFAULT_PACKETS = 1000;
/** RFC 8289 §4.3, §4.4. */
export const CODEL_TARGET_MS = 5;
export const CODEL_INTERVAL_MS = 100;

export const DEFAULT_QUEUE: QueueConfig = {
  discipline: 'droptail',
  packets: QUEUE_DEFAULT_PACKETS,
  targetMs: CODEL_TARGET_MS,
  intervalMs: CODEL_INTERVAL_MS,
};

/** `link FILE`: a Mahimahi delivery-opportunity trace drains the bottleneck queue (time-traces.ts). */
export interface LinkTraceConfig {
  readonly path: string;
}

export interface NetemConfig {
  /** Packets held in the emulator at once (delayed or queued); more are dropped ('queue'). */
  readonly limit: number;
  readonly delay?: DelayConfig;
  readonly loss?: LossConfig;
  readonly duplicate?: { readonly p: number; readonly correlation: number };
  readonly corrupt?: { readonly p: number; readonly correlation: number };
  /** `reorder P [CORR] [gap N]`; gap defaults to 1 (every packet is a candidate). */
  readonly reorder?: { readonly p: number; readonly correlation: number; readonly gap: number };
  readonly rate?: RateConfig;
  /** `link FILE`: the bottleneck queue drains at the trace's delivery opportunities. */
  readonly link?: LinkTraceConfig;
  /**
   * `queue droptail|codel [packets N] [bytes N] [target T] [interval T]`: the bottleneck queue in
   * front of `link` (default droptail, 1000 packets) or of `rate` (then `rate` is that queue's
   * link instead of netem's tfifo). See bottleneck.ts.
   */
  readonly queue?: QueueConfig;
  /** `delaytrace FILE`: one-way delay as a step function of time, after the bottleneck (time-traces.ts). */
  readonly delayTrace?: { readonly path: string };
  /** `seed N` (tc: u64); used when the caller gives no seed of its own. */
  readonly seed?: number;
}

/** A config that impairs nothing (netem with no options). */
export const EMPTY_NETEM_CONFIG: NetemConfig = { limit: NETEM_DEFAULT_LIMIT };
