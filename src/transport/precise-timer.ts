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

/** The thread's native timer and the slots armed on it. */
export class SharedTimer {
  private readonly armed = new Set<Slot>();
  private armedAt = Infinity;
  private firing = false;
  /** Native fires, and fires that found no slot due (re-armed after the loop saw the expiry). */
  readonly stats = { fires: 0, early: 0 };

  /** `now`: the clock the native timer runs on (CLOCK_MONOTONIC: the real clock's performance.now()). */
  constructor(
    private readonly native: NativeTimer,
    readonly now: () => number = () => realClock.now(),
  ) {
    native.timerStart(this.fire);
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

  private readonly fire = (): void => {
    this.stats.fires++;
    this.armedAt = Infinity;
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
      this.rearm();
    }
  };

  private rearm(): void {
    if (this.firing) return;
    let at = Infinity;
    for (const s of this.armed) if (s.at < at) at = s.at;
    if (at === this.armedAt) return;
    this.armedAt = at;
    if (at === Infinity) this.native.timerStop();
    else this.native.timerArm(Math.max(0, at - this.now()));
  }
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
