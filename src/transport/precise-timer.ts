import { realClock } from '../util/clock.ts';
import { nativeSendmmsg } from './native-sender.ts';
import type { WakeTimer } from './scheduler.ts';

/**
 * Sub-millisecond wake-ups for the server's scheduler, on the native addon's timer (native/timer.c:
 * a timerfd on CLOCK_MONOTONIC, the clock performance.now() reads, watched by the event loop).
 *
 * Why: Node's timers count whole milliseconds. File sessions and shared timelines send an AAC
 * track's packets every 21.33 ms; woken at whole milliseconds they leave 0, 0.67 and 0.33 ms late
 * in turn, and every receiver's RFC 3550 jitter reads ~0.44 ms on a perfect network. On this
 * timer a wake-up comes ~0.05 ms after its due time.
 *
 * The addon has one timer per thread; this module shares it between the thread's schedulers (a
 * process may run several servers: tests, the lab). Each WakeTimer it hands out is one slot; the
 * native timer is armed for the earliest slot.
 */
export interface NativeTimer {
  timerStart(onFire: () => void): void;
  timerArm(delayMs: number): void;
  timerStop(): void;
}

/** Slots due within this of the clock when the timer fires run in that fire (float rounding). */
const DUE_EPSILON_MS = 0.001;

class Slot implements WakeTimer {
  at = Infinity;
  fn: (() => void) | undefined;

  constructor(private readonly timers: SharedTimer) {}

  set(fn: () => void, delayMs: number): void {
    this.fn = fn;
    this.at = this.timers.now() + Math.max(0, delayMs);
    this.timers.update(this);
  }

  clear(): void {
    if (this.fn === undefined) return;
    this.fn = undefined;
    this.at = Infinity;
    this.timers.update(this);
  }
}

/** How SharedTimer defers its own work: the server's are the event loop's; tests pass queues of their own. */
export interface TimerDeferrals {
  /** Runs `fn` once the current task is over (queueMicrotask). */
  afterTask(fn: () => void): void;
  /** Runs `fn` in the event loop's next check phase, after I/O (setImmediate). */
  soon(fn: () => void): void;
}

const loopDeferrals: TimerDeferrals = {
  afterTask: queueMicrotask,
  soon: (fn) => setImmediate(fn),
};

/**
 * The thread's native timer and the slots armed on it. Each arming is a `timerfd_settime`, which
 * costs tens of microseconds on a VM when the deadline is near (the hypervisor reprograms its
 * timer), so the native timer is touched as little as possible:
 * - once per task at most: slots set and cleared in one macrotask (a PLAY schedules a stream per
 *   track and an RTCP timer, a TEARDOWN removes them) are looked at together in a microtask after
 *   it (at the end of a fire, at once), and the timer is re-armed only if the earliest deadline
 *   changed;
 * - not at all for a deadline already reached (a task scheduled to run now): the slots due then
 *   run in the loop's check phase, right after its I/O, as setImmediate would run them.
 */
export class SharedTimer {
  private readonly armed = new Set<Slot>();
  private armedAt = Infinity;
  private firing = false;
  private syncQueued = false;
  private soonQueued = false;
  /**
   * Fires (the native timer's, and the check phase's for slots due at once), fires that found no
   * slot due, and the calls that armed or stopped the native timer.
   */
  readonly stats = { fires: 0, early: 0, arms: 0 };

  /** `now`: the clock the native timer runs on (CLOCK_MONOTONIC: the real clock's performance.now()). */
  constructor(
    private readonly native: NativeTimer,
    readonly now: () => number = () => realClock.now(),
    private readonly deferrals: TimerDeferrals = loopDeferrals,
  ) {
    native.timerStart(this.fireNative);
  }

  /** A new slot: a WakeTimer of its own on the shared timer. */
  slot(): WakeTimer {
    return new Slot(this);
  }

  /** @internal A slot was set or cleared. */
  update(slot: Slot): void {
    if (slot.fn === undefined) this.armed.delete(slot);
    else this.armed.add(slot);
    this.rearm();
  }

  /** The native timer expired: it is disarmed (native/timer.c). */
  private readonly fireNative = (): void => {
    this.armedAt = Infinity;
    this.fire();
  };

  private readonly fireSoon = (): void => {
    this.soonQueued = false;
    this.fire();
  };

  private fire(): void {
    this.stats.fires++;
    this.firing = true;
    let ran = 0;
    try {
      const now = this.now() + DUE_EPSILON_MS;
      for (const s of this.armed) {
        if (s.at > now) continue;
        const fn = s.fn!;
        this.armed.delete(s);
        s.fn = undefined;
        s.at = Infinity;
        ran++;
        fn();
      }
    } finally {
      if (ran === 0) this.stats.early++;
      this.firing = false;
      // At once, not deferred: a fire's task is the wake-up itself, which has just armed its
      // slot for the next one (Node's queueMicrotask makes an AsyncResource per call).
      this.sync();
    }
  }

  /** After a change: the timer is brought up to date once the current task is over. */
  private rearm(): void {
    if (this.firing || this.syncQueued) return;
    this.syncQueued = true;
    this.deferrals.afterTask(this.sync);
  }

  private readonly sync = (): void => {
    this.syncQueued = false;
    let at = Infinity;
    for (const s of this.armed) if (s.at < at) at = s.at;
    if (at === this.armedAt) return;
    const delay = at - this.now();
    if (delay <= DUE_EPSILON_MS) {
      // Due already. The native timer, if armed for later, stays so (its slot is still later).
      if (!this.soonQueued) {
        this.soonQueued = true;
        this.deferrals.soon(this.fireSoon);
      }
      return;
    }
    this.armedAt = at;
    this.stats.arms++;
    if (at === Infinity) this.native.timerStop();
    else this.native.timerArm(delay);
  };
}

let shared: SharedTimer | null | undefined;

/** The thread's shared timer, made on first use; undefined without the addon or with `STREAMLAB_PRECISE_TIMER=0`. */
function sharedTimer(): SharedTimer | undefined {
  if (shared === undefined) {
    const addon = nativeSendmmsg();
    shared = process.env.STREAMLAB_PRECISE_TIMER !== '0' && addon?.timerStart ? new SharedTimer(addon as NativeTimer) : null;
  }
  return shared ?? undefined;
}

/** A sub-millisecond WakeTimer, or undefined: the scheduler then uses Node's timers. */
export function preciseWakeTimer(): WakeTimer | undefined {
  return sharedTimer()?.slot();
}

/** Which timer the server's scheduler wakes on: 'native' (sub-millisecond) or 'node' (whole milliseconds). */
export function wakeTimerKind(): 'native' | 'node' {
  return sharedTimer() ? 'native' : 'node';
}
