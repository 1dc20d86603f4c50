/**
 * Time is injected: everything that waits or stamps takes a Clock. This is the only module that
 * reads the real clock. `ManualClock` runs timers in simulated time for tests and the lab.
 */

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Monotonic milliseconds (fractional). */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch, moving with now(); used for NTP timestamps. */
  wallNow(): number;
  /**
   * The wall-clock time of an earlier reading of now(): an NTP timestamp and a media time derived
   * from one reading name the same instant, where two readings may be milliseconds apart (the
   * process preempted between them).
   */
  wallAt(nowMs: number): number;
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** A real timer: the handle holds Node's Timeout itself (no table to look it up in). */
class RealTimer implements TimerHandle {
  constructor(
    readonly id: number,
    readonly timeout: NodeJS.Timeout,
  ) {}
}

class RealClock implements Clock {
  private nextId = 1;

  now(): number {
    return performance.now();
  }

  wallNow(): number {
    return this.wallAt(performance.now());
  }

  wallAt(nowMs: number): number {
    return performance.timeOrigin + nowMs;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    return new RealTimer(this.nextId++, setTimeout(fn, Math.max(0, delayMs)));
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle instanceof RealTimer) clearTimeout(handle.timeout);
  }
}

export const realClock: Clock = new RealClock();

interface ManualTimer {
  id: number;
  at: number;
  fn: () => void;
}

/** A clock that only moves when told to; timers fire in time order during advance(). */
export class ManualClock implements Clock {
  private t: number;
  private readonly epochMs: number;
  private timers: ManualTimer[] = [];
  private nextId = 1;

  constructor(startMs = 0, epochMs = Date.UTC(2026, 0, 1)) {
    this.t = startMs;
    this.epochMs = epochMs;
  }

  now(): number {
    return this.t;
  }

  wallNow(): number {
    return this.wallAt(this.t);
  }

  wallAt(nowMs: number): number {
    return this.epochMs + nowMs;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const timer = { id: this.nextId++, at: this.t + Math.max(0, delayMs), fn };
    this.timers.push(timer);
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    this.timers = this.timers.filter((x) => x.id !== handle.id);
  }

  /** Moves time forward by `ms`, firing due timers in order (ties in creation order). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const x of this.timers) {
        if (x.at <= end && (!next || x.at < next.at || (x.at === next.at && x.id < next.id))) next = x;
      }
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = end;
  }

  pendingTimers(): number {
    return this.timers.length;
  }
}
