/**
 * The playout clock: maps RTP timestamps to local deadlines.
 *
 *   media(ts)    = (extTs - extTs0) * 1000 / clockRate            ms of media time since sync
 *   transit      = arrival - media(ts)                             sender->receiver offset + delay
 *   base         = min transit over the last baseWindowMs          the fastest packet (NetEQ)
 *   deadline(ts) = media(ts) + offset,   offset -> base + target   (applied delay = offset - base)
 *
 * Timestamps are unwrapped across 2^32 -> 0 relative to the last committed one, so B-frame
 * timestamps that step backwards stay correct. Clock drift between sender and receiver makes
 * transit creep by (drift x elapsed): a faster sender lowers it, which the minimum follows at
 * once; a slower sender raises it, which the minimum follows once the older, faster samples leave
 * the window (a lag of at most baseWindowMs x drift: 0.2 ms for 100 ppm over 2 s). `offset` moves
 * towards base + target only through update(), which the buffer calls once per access unit,
 * by at most slewUp x elapsed (growing) or slewDown x elapsed (shrinking): output never jumps.
 * The applied delay is capped at maxDelayMs at once (only a sudden drop of the network delay by
 * more than maxDelayMs - target can hit this).
 */

import { tsDiff } from '../../util/seq.ts';
import { WindowedMin } from './windowed-min.ts';

export interface PlayoutClockOptions {
  clockRate: number;
  baseWindowMs: number;
  slewUp: number;
  slewDown: number;
  maxDelayMs: number;
}

export class PlayoutClock {
  readonly options: PlayoutClockOptions;
  private readonly window: WindowedMin;
  private extTs0 = 0;
  private refExtTs = 0;
  private offset = 0;
  private lastUpdateMs = 0;
  private isSynced = false;

  constructor(options: PlayoutClockOptions) {
    const o = options;
    if (!(o.clockRate > 0)) throw new RangeError(`clockRate must be > 0, got ${o.clockRate}`);
    if (!(o.slewUp >= 0 && o.slewDown >= 0)) throw new RangeError('slew rates must be >= 0');
    this.options = { ...o };
    this.window = new WindowedMin(o.baseWindowMs);
  }

  get synced(): boolean {
    return this.isSynced;
  }

  /** Starts the mapping at a first packet: base = its transit, offset = base + targetMs. */
  sync(timestamp: number, arrivalMs: number, targetMs: number): number {
    this.extTs0 = timestamp;
    this.refExtTs = timestamp;
    this.window.reset();
    this.window.add(arrivalMs, arrivalMs);
    this.offset = arrivalMs + Math.min(targetMs, this.options.maxDelayMs);
    this.lastUpdateMs = arrivalMs;
    this.isSynced = true;
    return timestamp;
  }

  reset(): void {
    this.isSynced = false;
    this.window.reset();
  }

  /** Extended timestamp nearest to the last committed one (does not commit). */
  unwrap(timestamp: number): number {
    return this.refExtTs + tsDiff(timestamp, this.refExtTs >>> 0);
  }

  /** Makes `extTs` the reference for later unwrapping. */
  commit(extTs: number): void {
    this.refExtTs = extTs;
  }

  mediaMs(extTs: number): number {
    return ((extTs - this.extTs0) * 1000) / this.options.clockRate;
  }

  /** Records a packet's transit; returns its relative delay (transit - base, >= 0). */
  observe(extTs: number, arrivalMs: number): number {
    const transit = arrivalMs - this.mediaMs(extTs);
    this.window.add(arrivalMs, transit);
    return transit - this.baseMs;
  }

  /** Transit of a packet relative to the current base (positive: slower than the fastest). */
  relativeTransit(extTs: number, arrivalMs: number): number {
    return arrivalMs - this.mediaMs(extTs) - this.baseMs;
  }

  /** The fastest transit in the window (ms). */
  get baseMs(): number {
    return this.window.min ?? 0;
  }

  /** Delay applied over the fastest packet's path now: offset - base. */
  get appliedDelayMs(): number {
    return this.offset - this.baseMs;
  }

  deadline(extTs: number): number {
    return this.mediaMs(extTs) + this.offset;
  }

  /**
   * Moves the offset towards base + targetMs at the slew rates; true when it changed. A decrease
   * stops at `floorOffset()` when given (the caller passes the offset below which a held packet's
   * deadline would fall before now), so speeding up never makes a held packet overdue.
   */
  update(nowMs: number, targetMs: number, floorOffset?: () => number): boolean {
    const o = this.options;
    const dt = Math.max(0, nowMs - this.lastUpdateMs);
    if (nowMs > this.lastUpdateMs) this.lastUpdateMs = nowMs;
    const base = this.baseMs;
    const want = base + Math.min(targetMs, o.maxDelayMs);
    const diff = want - this.offset;
    let next = this.offset + (diff > 0 ? Math.min(diff, o.slewUp * dt) : Math.max(diff, -o.slewDown * dt));
    if (next - base > o.maxDelayMs) next = base + o.maxDelayMs;
    if (next < this.offset && floorOffset) next = Math.min(this.offset, Math.max(next, floorOffset()));
    if (next === this.offset) return false;
    this.offset = next;
    return true;
  }

  /** The current offset: deadline(ts) = media(ts) + offset. */
  get offsetMs(): number {
    return this.offset;
  }
}
