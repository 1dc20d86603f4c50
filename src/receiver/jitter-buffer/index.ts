/**
 * receiver/jitter-buffer owns the per-track jitter buffer of the receiver: ordering by extended
 * sequence number, duplicate and late-packet dropping, loss declaration at the next packet's
 * deadline, and release by playout deadline (RTP timestamp mapped to the local clock through the
 * fastest packet's transit, plus a fixed or adaptive target delay that changes smoothly between
 * access units). It tracks clock drift, handles sequence/timestamp wrap and sender restarts, and
 * reports statistics. Pure: time is passed in (`push(packet, arrivalMs)`, `poll(nowMs)`,
 * `nextDeadline()`), so the receiver drives it from its clock and tests run in simulated time.
 */

export { JitterBuffer } from './jitter-buffer.ts';
export { PlayoutClock } from './playout-clock.ts';
export type { PlayoutClockOptions } from './playout-clock.ts';
export { DelayEstimator } from './delay-estimator.ts';
export type { DelayEstimatorOptions } from './delay-estimator.ts';
export { WindowedMin } from './windowed-min.ts';
export {
  JB_MAX_DROPOUT,
  JB_MAX_MISORDER,
  JB_DEFAULT_MAX_PACKETS,
  JB_DEFAULT_MIN_DELAY_MS,
  JB_DEFAULT_MAX_DELAY_MS,
  JB_DEFAULT_START_DELAY_MS,
  JB_DEFAULT_PERCENTILE,
  JB_DEFAULT_BIN_MS,
  JB_DEFAULT_HALF_LIFE_MS,
  JB_DEFAULT_BASE_WINDOW_MS,
  JB_DEFAULT_SLEW_UP,
  JB_DEFAULT_SLEW_DOWN,
  JB_DEFAULT_RESYNC_THRESHOLD_MS,
  JB_DEFAULT_RESYNC_PACKETS,
  JB_MAX_PROBATION_PACKETS,
  JB_RELEASED_HISTORY,
  JB_MAX_BASE_WINDOW_ENTRIES,
} from './types.ts';
export type {
  JitterPacketInput,
  FixedDelayOptions,
  AdaptiveDelayOptions,
  JitterBufferOptions,
  JitterPushOutcome,
  JitterResyncReason,
  JitterPacketEvent,
  JitterLostEvent,
  JitterResyncEvent,
  JitterEvent,
  JitterBufferStats,
} from './types.ts';
