/**
 * CleanEnd: the last video access units of a recording, held back so the recording can end on a
 * whole picture sequence. A stop (`--duration`, Ctrl-C, a TEARDOWN) cuts the stream in decode
 * order: with B-frames, the last anchor (P) may have arrived while B-frames presented before it
 * had not, so the recording would show the anchor where a B-frame belongs. At finish(), the first
 * missing presentation slot among the held units is found (sorted PTS with a gap above 1.5 frame
 * durations; the duration is the signalled one, else the smallest PTS step seen); the first held unit (in decode order)
 * presented after that slot and every unit decoded after it are dropped: they are the anchor
 * and the B-frames that reference it. What remains presents without a hole. Pure.
 *
 * Units leave in decode order once more than `hold` are held; `hold` must exceed the reorder
 * depth (the dropped units are at most depth + 1 units from the end).
 */

export interface TimedUnit<T> {
  pts: number;
  dts: number;
  unit: T;
}

/** PTS kept of released units, for the gap search (a few GOPs of B-frame reordering). */
const RECENT_PTS = 32;

export class CleanEnd<T> {
  private readonly tail: TimedUnit<T>[] = [];
  private readonly recent: number[] = [];
  /** Units dropped at finish(). */
  dropped = 0;

  constructor(
    private readonly hold: number,
    private readonly frameDuration?: number,
  ) {
    if (!Number.isInteger(hold) || hold < 1) throw new RangeError(`hold must be a positive integer, got ${hold}`);
  }

  /** Adds a unit (decode order); returns the units released. */
  push(u: TimedUnit<T>): TimedUnit<T>[] {
    this.tail.push(u);
    const out: TimedUnit<T>[] = [];
    while (this.tail.length > this.hold) {
      const r = this.tail.shift()!;
      this.recent.push(r.pts);
      if (this.recent.length > RECENT_PTS) this.recent.shift();
      out.push(r);
    }
    return out;
  }

  /** Every held unit, in decode order (the stream was not cut). */
  release(): TimedUnit<T>[] {
    return this.tail.splice(0);
  }

  /** The held units that end the recording cleanly, in decode order. */
  finish(): TimedUnit<T>[] {
    const held = this.tail.splice(0);
    const all = [...this.recent, ...held.map((u) => u.pts)].sort((a, b) => a - b);
    let duration = this.frameDuration ?? Infinity;
    if (this.frameDuration === undefined)
      for (let i = 1; i < all.length; i++) if (all[i]! > all[i - 1]!) duration = Math.min(duration, all[i]! - all[i - 1]!);
    if (!Number.isFinite(duration) || held.length === 0) return held;
    const heldPts = new Set(held.map((u) => u.pts));
    let missing: number | undefined;
    for (let i = 1; i < all.length; i++) {
      if (all[i]! - all[i - 1]! > 1.5 * duration && heldPts.has(all[i]!)) {
        missing = all[i - 1]! + duration;
        break;
      }
    }
    if (missing === undefined) return held;
    const cut = held.findIndex((u) => u.pts > missing);
    this.dropped = held.length - cut;
    return held.slice(0, cut);
  }
}
