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

function setup() {
  let t = 100;
  const native = new FakeNative();
  const timers = new SharedTimer(native, () => t);
  return { native, timers, at: (ms: number) => (t = ms) };
}

describe('SharedTimer: the thread’s one native timer, shared by slots', () => {
  it('is armed for the earliest slot, to the fraction of a millisecond, and stopped when none is set', () => {
    const { native, timers } = setup();
    const a = timers.slot();
    const b = timers.slot();
    a.set(() => undefined, 21.25);
    b.set(() => undefined, 40); // later: the native timer stays where it is
    b.set(() => undefined, 0.25); // earlier: re-armed
    b.clear(); // a is next
    a.clear();
    expect(native.calls).toEqual(['arm 21.25', 'arm 0.25', 'arm 21.25', 'stop']);
  });

  it('a fire runs the slots due, each once, and arms once for what is left', () => {
    const { native, timers, at } = setup();
    const ran: string[] = [];
    const a = timers.slot();
    const b = timers.slot();
    const c = timers.slot();
    a.set(() => ran.push('a'), 1);
    b.set(() => ran.push('b'), 1.0004); // within the float epsilon of a: the same fire
    c.set(() => ran.push('c'), 5);
    native.calls.length = 0;
    at(101);
    native.fire();
    expect(ran).toEqual(['a', 'b']);
    expect(native.calls).toEqual(['arm 4']);
    at(105);
    native.fire();
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(native.calls).toEqual(['arm 4']); // a fired timer is disarmed (native/timer.c): no stop
    expect(timers.stats).toEqual({ fires: 2, early: 0 });
  });

  it('a slot set again from its own callback is armed after the fire, with one call', () => {
    const { native, timers, at } = setup();
    const s = timers.slot();
    let n = 0;
    const tick = () => {
      if (++n < 3) s.set(tick, 21.25);
    };
    s.set(tick, 21.25);
    at(121.25);
    native.fire();
    at(142.5);
    native.fire();
    at(163.75);
    native.fire();
    expect(n).toBe(3);
    expect(native.calls).toEqual(['arm 21.25', 'arm 21.25', 'arm 21.25']);
  });

  it('a fire that finds nothing due (the slot moved later meanwhile) runs nothing and arms again', () => {
    const { native, timers, at } = setup();
    const ran: string[] = [];
    const s = timers.slot();
    s.set(() => ran.push('s'), 2);
    at(102);
    s.set(() => ran.push('s'), 3); // moved after the kernel saw the expiry, before the callback ran
    native.fire();
    expect(ran).toEqual([]);
    expect(native.calls.at(-1)).toBe('arm 3');
    expect(timers.stats.early).toBe(1);
  });

  it('a callback that throws: the error goes up, the other slots stay armed', () => {
    const { native, timers, at } = setup();
    const a = timers.slot();
    const b = timers.slot();
    a.set(() => {
      throw new Error('task failed');
    }, 1);
    b.set(() => undefined, 3);
    at(101);
    expect(() => native.fire()).toThrow('task failed');
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
