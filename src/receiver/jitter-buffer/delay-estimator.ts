/**
 * The adaptive target: a decaying histogram of relative packet delay (NetEQ's delay manager).
 * Each sample is a packet's transit minus the fastest transit of the recent window, in ms. Bins
 * are `binMs` wide, the last bin collects everything from maxDelayMs up. A sample's weight halves
 * every `halfLifeMs` of arrival time, so a jitter spike raises the percentile at once (its mass is
 * fresh) and stops counting only after its weight has decayed below (1 - percentile) of the total:
 * the target rises fast and decays slowly. The target is the upper edge of the bin holding the
 * percentile, clamped to [minDelayMs, maxDelayMs]; before the first sample it is startDelayMs.
 */

import { at } from '../../util/narrow.ts';

export interface DelayEstimatorOptions {
  minDelayMs: number;
  maxDelayMs: number;
  startDelayMs: number;
  percentile: number;
  binMs: number;
  halfLifeMs: number;
}

export class DelayEstimator {
  readonly options: DelayEstimatorOptions;
  private readonly bins: Float64Array;
  private lastMs: number | undefined;
  private t0 = 0;

  constructor(options: DelayEstimatorOptions) {
    const o = options;
    if (!(o.binMs > 0) || !(o.halfLifeMs > 0)) throw new RangeError('binMs and halfLifeMs must be > 0');
    if (!(o.percentile > 0 && o.percentile < 1)) throw new RangeError(`percentile must be in (0, 1), got ${o.percentile}`);
    if (!(o.minDelayMs >= 0 && o.maxDelayMs >= o.minDelayMs)) throw new RangeError('need 0 <= minDelayMs <= maxDelayMs');
    this.options = { ...o };
    this.bins = new Float64Array(Math.ceil(o.maxDelayMs / o.binMs) + 1);
  }

  /** Adds one relative-delay sample (ms, >= 0) observed at `nowMs`. */
  add(relativeDelayMs: number, nowMs: number): void {
    // Instead of decaying every bin at each sample, new samples weigh 2^((t - t0) / halfLife):
    // the same proportions, O(1) per sample; rescaled before the weights grow too large.
    if (this.lastMs === undefined) {
      this.lastMs = nowMs;
      this.t0 = nowMs;
    } else if (nowMs > this.lastMs) {
      this.lastMs = nowMs;
    }
    let w = Math.pow(2, (this.lastMs - this.t0) / this.options.halfLifeMs);
    if (w > 1e100) {
      const b = this.bins;
      for (const [i, v] of b.entries()) b[i] = v / w;
      this.t0 = this.lastMs;
      w = 1;
    }
    const i = Math.min(this.bins.length - 1, Math.max(0, Math.floor(relativeDelayMs / this.options.binMs)));
    this.bins[i] = at(this.bins, i) + w;
  }

  /** The current target delay (ms). */
  get targetMs(): number {
    const o = this.options;
    let sum = 0;
    for (const v of this.bins) sum += v;
    if (!(sum > 0)) return clamp(o.startDelayMs, o.minDelayMs, o.maxDelayMs);
    // A relative tolerance so that a percentile met exactly is not missed by rounding.
    const need = o.percentile * sum * (1 - 1e-12);
    let cum = 0;
    let k = 0;
    for (; k < this.bins.length - 1; k++) {
      cum += at(this.bins, k);
      if (cum >= need) break;
    }
    return clamp((k + 1) * o.binMs, o.minDelayMs, o.maxDelayMs);
  }

  /** Total sample weight, each sample decayed to the last sample's time: 0 before the first. */
  get weight(): number {
    if (this.lastMs === undefined) return 0;
    let sum = 0;
    for (const v of this.bins) sum += v;
    return sum / Math.pow(2, (this.lastMs - this.t0) / this.options.halfLifeMs);
  }
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
