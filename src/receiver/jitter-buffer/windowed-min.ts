/**
 * Sliding-window minimum over time-stamped samples (a monotonic deque): O(1) amortized per
 * sample. Behind the clock-offset estimate: the minimum transit (arrival - media time) of the last
 * `windowMs` is the fastest packet's path, the reference NetEQ measures relative delay against.
 */

import { JB_MAX_BASE_WINDOW_ENTRIES } from './types.ts';
import { at, last } from '../../util/narrow.ts';

export class WindowedMin {
  private times: number[] = [];
  private values: number[] = [];
  private head = 0;

  constructor(
    readonly windowMs: number,
    readonly maxEntries: number = JB_MAX_BASE_WINDOW_ENTRIES,
  ) {
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${windowMs}`);
  }

  /** Adds a sample at `timeMs` and drops samples older than timeMs - windowMs (the newest stays). */
  add(timeMs: number, value: number): void {
    while (this.times.length > this.head && last(this.values) >= value) {
      this.times.pop();
      this.values.pop();
    }
    this.times.push(timeMs);
    this.values.push(value);
    const from = timeMs - this.windowMs;
    while (this.times.length - this.head > 1 && (at(this.times, this.head) < from || this.times.length - this.head > this.maxEntries)) {
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.values = this.values.slice(this.head);
      this.head = 0;
    }
  }

  /** Minimum of the samples in the window; undefined before the first sample. */
  get min(): number | undefined {
    return this.times.length > this.head ? this.values[this.head] : undefined;
  }

  reset(): void {
    this.times = [];
    this.values = [];
    this.head = 0;
  }
}
