/**
 * The scheduler's sub-millisecond wake-ups (src/transport/precise-timer.ts) over a stand-in for
 * the addon's one timer per thread: which slot the native timer is armed for, which slots a fire
 * runs, and what a fire that finds nothing due does. The real timer: test/integration/precise-timer.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { SharedTimer } from '../../src/transport/precise-timer.ts';
import type { NativeTimer } from '../../src/transport/precise-timer.ts';
import { LATE_BUCKETS, Scheduler, latenessPercentile } from '../../src/transport/scheduler.ts';
import type { WakeTimer } from '../../src/transport/scheduler.ts';
import { ManualClock } from '../../src/util/clock.ts';

/** The addon's timer as calls: `arm 2.5` (ms from now), `stop`; fire() calls the callback. */
class FakeNative implements NativeTimer {
  readonly calls: string[] = [];
  private onFire: (() => void) | undefined;
  timerStart(onFire: () => void): void {
    this.onFire = onFire;
  }
  timerArm(delayMs: number): void {
    this.calls.push(`arm ${delayMs}`);
  }
  timerStop(): void {
    this.calls.push('stop');
  }
  fire(): void {
    this.onFire!();
  }
}

/**
 * A shared timer on a stand-in clock. Its deferred re-arming (a microtask in the server) waits in
 * `deferred` until `endTask()` runs it, as the end of a macrotask would; what it runs in the loop's
 * check phase (setImmediate in the server) waits in `checks` until `checkPhase()`.
 */
function setup() {
  let t = 100;
  const native = new FakeNative();
  const deferred: (() => void)[] = [];
  const checks: (() => void)[] = [];
  const timers = new SharedTimer(native, () => t, { afterTask: (fn) => deferred.push(fn), soon: (fn) => checks.push(fn) });
  const endTask = () => {
    while (deferred.length > 0) deferred.shift()!();
  };
  /** Runs `task`, then what it deferred. */
  const task = (fn: () => void) => {
    try {
      fn();
    } finally {
      endTask();
    }
  };
  /** The native timer fires, then its task ends. */
  const fire = () => task(() => native.fire());
  const checkPhase = () => {
    for (const fn of checks.splice(0)) task(fn);
  };
  return { native, timers, at: (ms: number) => (t = ms), endTask, fire, checkPhase, deferred, checks };
}

describe('SharedTimer: the thread’s one native timer, shared by slots', () => {
  it('is armed for the earliest slot, to the fraction of a millisecond, and stopped when none is set', () => {
    const { native, timers, endTask } = setup();
    const a = timers.slot();
    const b = timers.slot();
    a.set(() => undefined, 21.25);
    endTask();
    b.set(() => undefined, 40); // later: the native timer stays where it is
    endTask();
    b.set(() => undefined, 0.25); // earlier: re-armed
    endTask();
    b.clear(); // a is next
    endTask();
    a.clear();
    endTask();
    expect(native.calls).toEqual(['arm 21.25', 'arm 0.25', 'arm 21.25', 'stop']);
    expect(timers.stats.arms).toBe(4);
  });

  it('is armed once per task, after it, for what the task left set', () => {
    const { native, timers, endTask, deferred } = setup();
    const a = timers.slot();
    const b = timers.slot();
    a.set(() => undefined, 5);
    b.set(() => undefined, 0.5);
    b.set(() => undefined, 2);
    expect(native.calls).toEqual([]); // nothing before the task ends
    expect(deferred).toHaveLength(1); // one re-arming queued, however many changes
    endTask();
    expect(native.calls).toEqual(['arm 2']);
    // A task that sets and clears and ends where it began touches nothing.
    b.clear();
    b.set(() => undefined, 2);
    endTask();
    a.clear();
    b.clear();
    endTask();
    expect(native.calls).toEqual(['arm 2', 'stop']);
  });

  it('a slot due at once runs in the loop’s check phase, without the native timer', () => {
    const { native, timers, endTask, checkPhase, checks } = setup();
    const ran: string[] = [];
    const later = timers.slot();
    const now = timers.slot();
    later.set(() => ran.push('later'), 10);
    endTask();
    now.set(() => ran.push('now'), 0);
    endTask();
    expect(checks).toHaveLength(1);
    expect(native.calls).toEqual(['arm 10']); // not re-armed for the slot due now
    checkPhase();
    expect(ran).toEqual(['now']);
    expect(native.calls).toEqual(['arm 10']); // still armed for the later one: nothing to do
    // Due at once again, twice in one task: one check-phase fire.
    now.set(() => ran.push('now 2'), 0);
    now.set(() => ran.push('now 3'), -1);
    endTask();
    expect(checks).toHaveLength(1);
    checkPhase();
    expect(ran).toEqual(['now', 'now 3']);
    // Cleared before the check phase: that fire finds nothing.
    now.set(() => ran.push('never'), 0);
    endTask();
    now.clear();
    endTask();
    checkPhase();
    expect(ran).toEqual(['now', 'now 3']);
    expect(timers.stats).toEqual({ fires: 3, early: 1, arms: 1 });
  });

  it('a fire runs the slots due, each once, and arms once for what is left', () => {
    const { native, timers, at, endTask, fire } = setup();
    const ran: string[] = [];
    const a = timers.slot();
    const b = timers.slot();
    const c = timers.slot();
    a.set(() => ran.push('a'), 1);
    b.set(() => ran.push('b'), 1.0004); // within the float epsilon of a: the same fire
    c.set(() => ran.push('c'), 5);
    endTask();
    native.calls.length = 0;
    at(101);
    fire();
    expect(ran).toEqual(['a', 'b']);
    expect(native.calls).toEqual(['arm 4']);
    at(105);
    fire();
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(native.calls).toEqual(['arm 4']); // a fired timer is disarmed (native/timer.c): no stop
    expect(timers.stats).toEqual({ fires: 2, early: 0, arms: 2 });
  });

  it('a slot set again from its own callback is armed after the fire, with one call', () => {
    const { native, timers, at, endTask, fire } = setup();
    const s = timers.slot();
    let n = 0;
    const tick = () => {
      if (++n < 3) s.set(tick, 21.25);
    };
    s.set(tick, 21.25);
    endTask();
    at(121.25);
    fire();
    at(142.5);
    fire();
    at(163.75);
    fire();
    expect(n).toBe(3);
    expect(native.calls).toEqual(['arm 21.25', 'arm 21.25', 'arm 21.25']);
  });

  it('a fire that finds nothing due (the slot moved later meanwhile) runs nothing and arms again', () => {
    const { native, timers, at, endTask, fire } = setup();
    const ran: string[] = [];
    const s = timers.slot();
    s.set(() => ran.push('s'), 2);
    endTask();
    at(102);
    s.set(() => ran.push('s'), 3); // moved after the kernel saw the expiry, before the callback ran
    fire();
    expect(ran).toEqual([]);
    expect(native.calls.at(-1)).toBe('arm 3');
    expect(timers.stats.early).toBe(1);
  });

  it('a callback that throws: the error goes up, the other slots stay armed', () => {
    const { native, timers, at, endTask, fire } = setup();
    const a = timers.slot();
    const b = timers.slot();
    a.set(() => {
      throw new Error('task failed');
    }, 1);
    b.set(() => undefined, 3);
    endTask();
    at(101);
    expect(() => fire()).toThrow('task failed');
    expect(native.calls.at(-1)).toBe('arm 2');
  });
});

describe('Scheduler: the WakeTimer it is given', () => {
  it('arms it for the next due time, to the fraction of a millisecond', () => {
    const clock = new ManualClock();
    const calls: string[] = [];
    let fire: (() => void) | undefined;
    const timer: WakeTimer = {
      set(fn, delayMs) {
        fire = fn;
        calls.push(`set ${delayMs}`);
      },
      clear() {
        calls.push('clear');
      },
    };
    const s = new Scheduler(clock, 1, undefined, timer);
    const ran: number[] = [];
    let left = 2;
    s.schedule({ run: (now) => (ran.push(now), --left > 0 ? now + 21.25 : Infinity) }, 10.5);
    clock.advance(10.5);
    fire!();
    clock.advance(21.25);
    fire!();
    expect(ran).toEqual([10.5, 31.75]);
    expect(calls).toEqual(['set 10.5', 'set 21.25']); // it fired: nothing to clear
    expect(clock.pendingTimers()).toBe(0); // the clock's own timers are not used
  });

  it('records how late each wake-up came after the time its timer was armed for', () => {
    const clock = new ManualClock();
    let fire: (() => void) | undefined;
    const s = new Scheduler(clock, 1, undefined, { set: (fn) => (fire = fn), clear: () => undefined });
    let left = 3;
    s.schedule({ run: (now) => (--left > 0 ? now + 20 : Infinity) }, 10);
    // Three wake-ups: 0.3 ms late, on time, 2.6 ms late.
    for (const [at, late] of [
      [10, 0.3],
      [30.3, 0],
      [50.3, 2.6],
    ] as const) {
      clock.advance(at + late - clock.now());
      fire!();
    }
    expect(s.lateness.reduce((a, b) => a + b, 0)).toBe(3);
    expect(latenessPercentile(s.lateness, 0)).toBeCloseTo(0.025, 6);
    expect(latenessPercentile(s.lateness, 50)).toBeCloseTo(0.325, 6);
    expect(latenessPercentile(s.lateness, 100)).toBeCloseTo(2.625, 6);
    expect(latenessPercentile(new Uint32Array(LATE_BUCKETS), 50)).toBe(0);
  });
});
