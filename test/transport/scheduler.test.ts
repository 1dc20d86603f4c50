import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.ts';
import { Scheduler } from '../../src/transport/scheduler.ts';
import type { ScheduledTask } from '../../src/transport/scheduler.ts';

/** A task that records when it ran and then asks to run again `period` ms later, `times` times. */
function periodic(log: string[], name: string, period: number, times: number): ScheduledTask {
  let left = times;
  return {
    run(now) {
      log.push(`${name}@${now}`);
      return --left > 0 ? now + period : Infinity;
    },
  };
}

describe('Scheduler', () => {
  it('runs tasks in due order with one clock timer, interleaving periodic tasks', () => {
    const clock = new ManualClock();
    const s = new Scheduler(clock);
    const log: string[] = [];
    s.schedule(periodic(log, 'a', 40, 3), 0); // a at 0, 40, 80
    s.schedule(periodic(log, 'b', 30, 3), 10); // b at 10, 40, 70
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(100);
    // At 40 both are due: a was added first, so it goes first.
    expect(log).toEqual(['a@0', 'b@10', 'a@40', 'b@40', 'b@70', 'a@80']);
    expect(s.size).toBe(2); // finished tasks stay registered but idle
    expect(clock.pendingTimers()).toBe(0);
  });

  it('moves a task when rescheduled and forgets a removed one', () => {
    const clock = new ManualClock();
    const s = new Scheduler(clock);
    const log: string[] = [];
    const a = periodic(log, 'a', 10, 100);
    const b = periodic(log, 'b', 10, 100);
    s.schedule(a, 50);
    s.schedule(b, 20);
    s.schedule(a, 5); // moved earlier
    clock.advance(25);
    expect(log).toEqual(['a@5', 'a@15', 'b@20', 'a@25']);
    s.remove(a);
    log.length = 0;
    clock.advance(20);
    expect(log).toEqual(['b@30', 'b@40']);
  });

  it('lets a running task remove itself or schedule others', () => {
    const clock = new ManualClock();
    const s = new Scheduler(clock);
    const log: string[] = [];
    const late = periodic(log, 'late', 1000, 1);
    const self: ScheduledTask = {
      run(now) {
        log.push(`self@${now}`);
        s.remove(self);
        s.schedule(late, now + 3);
        return now + 1; // ignored: removed
      },
    };
    s.schedule(self, 2);
    clock.advance(10);
    expect(log).toEqual(['self@2', 'late@5']);
    expect(s.has(self)).toBe(false);
  });

  it('keeps the heap ordered over many random due times', () => {
    const clock = new ManualClock();
    const s = new Scheduler(clock);
    const ran: number[] = [];
    let x = 12345;
    const rand = () => (x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const dues: number[] = [];
    for (let i = 0; i < 500; i++) {
      const due = Math.floor(rand() * 1000);
      dues.push(due);
      s.schedule({ run: (now) => (ran.push(now), Infinity) }, due);
    }
    clock.advance(1000);
    expect(ran).toEqual([...dues].sort((p, q) => p - q));
  });
});

describe('Scheduler wake-up resolution', () => {
  it('runs a task woken early as of its due time and never spins on a due time in the past', () => {
    const clock = new ManualClock();
    const s = new Scheduler(clock, 1);
    const seen: number[] = [];
    let calls = 0;
    s.schedule(
      {
        run(now) {
          calls++;
          seen.push(now);
          // Misbehaving task: always asks to run again "now".
          return calls < 5 ? now : Infinity;
        },
      },
      10.3,
    );
    clock.advance(10); // not due yet
    clock.advance(10);
    expect(seen[0]).toBe(10.3);
    // Each re-run is pushed one resolution step later instead of looping at the same instant.
    expect(seen).toEqual([10.3, 11.3, 12.3, 13.3, 14.3]);
  });
});
