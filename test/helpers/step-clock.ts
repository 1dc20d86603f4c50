/**
 * A hand-driven Clock for tests that need more than ManualClock: its time can be set without
 * firing what is due (a wake and a timer of the same instant kept apart), its pending timers can
 * be listed, and `advance` can let promise jobs run after each timer it fires.
 */
import type { Clock, TimerHandle } from '../../src/util/clock.ts';

interface Timer {
  at: number;
  fn: () => void;
}

/** Drains the promise jobs queued so far (and those they queue). */
export const flushPromises = (): Promise<void> => new Promise((r) => setImmediate(r));

export class StepClock implements Clock {
  /** The time; set it to move without firing anything. */
  t = 0;
  private readonly timers = new Map<number, Timer>();
  private next = 1;

  now(): number {
    return this.t;
  }

  wallNow(): number {
    return this.t;
  }

  wallAt(nowMs: number): number {
    return nowMs;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const id = this.next++;
    this.timers.set(id, { at: this.t + Math.max(0, delayMs), fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete(handle.id);
  }

  /** When the pending timers are due. */
  pending(): number[] {
    return [...this.timers.values()].map((x) => x.at);
  }

  /** Moves to `t` and fires the timers due by then, in time order (ties in the order they were set), each seeing `t`. */
  fireUntil(t: number): void {
    this.t = t;
    while (this.fireFirst(t, false));
  }

  /**
   * Moves `ms` on, firing the timers due meanwhile in time order, each at its own time (one set by
   * a timer fires in the same advance), and lets promise jobs run after each.
   */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    while (this.fireFirst(end, true)) await flushPromises();
    this.t = end;
    await flushPromises();
  }

  /** Fires the first timer due by `limit` (moving the time to it with `moveTime`); false when none is. */
  private fireFirst(limit: number, moveTime: boolean): boolean {
    let first: [number, Timer] | undefined;
    for (const e of this.timers) if (e[1].at <= limit && (!first || e[1].at < first[1].at)) first = e;
    if (!first) return false;
    this.timers.delete(first[0]);
    if (moveTime) this.t = Math.max(this.t, first[1].at);
    first[1].fn();
    return true;
  }
}
