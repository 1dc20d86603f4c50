import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.ts';
import { LAZY_SLACK_MS, MAX_RUNS_PER_WAKE, Scheduler } from '../../src/transport/scheduler.ts';
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

  it('keeps the due time of a task removed and added again while it ran, not the one it returned', () => {
    const clock = new ManualClock();
    const s = new Scheduler(clock);
    const log: string[] = [];
    let first = true;
    const again: ScheduledTask = {
      run(now) {
        log.push(`again@${now}`);
        if (first) {
          first = false;
          s.remove(again);
          s.schedule(again, now + 7); // the same task, back under the id it just gave up
        }
        return now + 1; // ignored the first time: it was removed
      },
    };
    s.schedule(again, 0);
    clock.advance(9);
    expect(log).toEqual(['again@0', 'again@7', 'again@8', 'again@9']);
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

describe('Scheduler against a reference', () => {
  it('runs periodic tasks that stop, start others and leave in the order of a sorted list', () => {
    const spec = fc.array(
      fc.record({
        first: fc.integer({ min: 0, max: 100 }),
        period: fc.integer({ min: 1, max: 40 }),
        runs: fc.integer({ min: 1, max: 30 }),
        /** After this many runs the task removes itself (beyond `runs`: never). */
        leaveAfter: fc.integer({ min: 1, max: 40 }),
        /** At its first run it schedules the task with this index (if there is one) `delay` later. */
        starts: fc.nat(20),
        delay: fc.integer({ min: 0, max: 30 }),
      }),
      { minLength: 1, maxLength: 20 },
    );
    fc.assert(
      fc.property(spec, (tasks) => {
        // The reference: every task's next due time in a list; the earliest (then the first made) runs.
        const ref: string[] = [];
        const due = new Map<number, number>();
        const made: number[] = [];
        const count = tasks.map(() => 0);
        const step = (i: number, now: number): number | undefined => {
          const t = tasks[i]!;
          count[i]!++;
          if (count[i] === 1 && t.starts < tasks.length && t.starts !== i && !due.has(t.starts) && count[t.starts] === 0) {
            if (!made.includes(t.starts)) made.push(t.starts);
            due.set(t.starts, now + t.delay);
          }
          if (count[i]! >= t.leaveAfter) return undefined;
          return count[i]! < t.runs ? now + t.period : undefined;
        };
        const initial = tasks.map((_, i) => i).filter((i) => i % 3 !== 2);
        for (const i of initial) {
          made.push(i);
          due.set(i, tasks[i]!.first);
        }
        for (;;) {
          let best: number | undefined;
          for (const i of made) {
            const d = due.get(i);
            if (d === undefined) continue;
            if (best === undefined || d < due.get(best)!) best = i;
          }
          if (best === undefined) break;
          const now = due.get(best)!;
          if (now > 2000) break;
          due.delete(best);
          ref.push(`${best}@${now}`);
          const next = step(best, now);
          if (next !== undefined) due.set(best, next);
        }

        // The scheduler, resolution 0 (every task at its exact time).
        const clock = new ManualClock();
        const s = new Scheduler(clock, 0);
        const got: string[] = [];
        const runs = tasks.map(() => 0);
        const objs: ScheduledTask[] = tasks.map((t, i) => ({
          run(now) {
            got.push(`${i}@${now}`);
            runs[i]!++;
            if (runs[i] === 1 && t.starts < tasks.length && t.starts !== i && !s.has(objs[t.starts]!) && runs[t.starts] === 0)
              s.schedule(objs[t.starts]!, now + t.delay);
            if (runs[i]! >= t.leaveAfter) {
              s.remove(objs[i]!);
              return now + 1; // ignored: removed
            }
            return runs[i]! < t.runs ? now + t.period : Infinity;
          },
        }));
        for (const i of initial) s.schedule(objs[i]!, tasks[i]!.first);
        clock.advance(2000);
        expect(got).toEqual(ref);
      }),
    );
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

describe('Scheduler: the run limit of a wake-up', () => {
  it(`ends a wake-up after ${MAX_RUNS_PER_WAKE} runs and does the rest in the next, counted`, () => {
    const clock = new ManualClock();
    const s = new Scheduler(clock, 1);
    // A chain of one-shot tasks, each scheduling the next at the same time (what a bug would do).
    let left = MAX_RUNS_PER_WAKE + 5000;
    const step = (now: number): void => {
      if (--left > 0) s.once(now, step);
    };
    s.once(10, step);
    clock.advance(20);
    expect(left).toBe(0);
    expect(s.stats.runLimitHits).toBe(1);
    expect(s.stats.wakeups).toBe(2);
  });
});

describe('Scheduler: lazy tasks (scheduleLazy)', () => {
  it('alone, a lazy task runs LAZY_SLACK_MS after its due time, and stays lazy', () => {
    const clock = new ManualClock();
    const s = new Scheduler(clock, 1);
    const log: string[] = [];
    s.scheduleLazy(periodic(log, 'rtcp', 1000, 3), 100);
    clock.advance(3000);
    expect(log).toEqual([`rtcp@${100 + LAZY_SLACK_MS}`, `rtcp@${1100 + 2 * LAZY_SLACK_MS}`, `rtcp@${2100 + 3 * LAZY_SLACK_MS}`]);
    expect(s.stats.wakeups).toBe(3);
  });

  it('joins the first wake-up at or after its due time: no wake-up of its own', () => {
    const clock = new ManualClock();
    const s = new Scheduler(clock, 1);
    const log: string[] = [];
    s.schedule(periodic(log, 'media', 7, 1000), 0);
    clock.advance(500);
    s.scheduleLazy(periodic(log, 'rtcp', 250, 1000), 600);
    clock.advance(500);
    // media at 0, 7, ..., 994: the reports due at 600 and 850 go at 602 and 854.
    expect(log.filter((l) => l.startsWith('rtcp'))).toEqual(['rtcp@602', 'rtcp@854']);
    // One wake-up per media instant in [0, 1000), none for the reports.
    expect(s.stats.wakeups).toBe(Math.ceil(1000 / 7));
  });

  it('is removed, and moved between lanes, like any task', () => {
    const clock = new ManualClock();
    const s = new Scheduler(clock, 1);
    const log: string[] = [];
    const a = periodic(log, 'a', 100, 10);
    s.scheduleLazy(a, 10);
    s.remove(a);
    clock.advance(100);
    expect(log).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
    s.scheduleLazy(a, 110);
    s.schedule(a, 110); // back to an exact due time
    clock.advance(15);
    expect(log).toEqual(['a@110']);
  });

  it('runs every task once per due time, in due order, whatever the mix of lanes (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ due: fc.integer({ min: 0, max: 500 }), lazy: fc.boolean() }), { minLength: 1, maxLength: 30 }),
        (specs) => {
          const clock = new ManualClock();
          const s = new Scheduler(clock, 1);
          const ran: { i: number; at: number }[] = [];
          specs.forEach(({ due, lazy }, i) => {
            const task: ScheduledTask = {
              run: (now) => {
                ran.push({ i, at: now });
                return Infinity;
              },
            };
            if (lazy) s.scheduleLazy(task, due);
            else s.schedule(task, due);
          });
          clock.advance(600);
          if (ran.length !== specs.length) return false;
          return ran.every(({ i, at }) => {
            const { due, lazy } = specs[i]!;
            return at >= due - 0.5 && at <= due + (lazy ? LAZY_SLACK_MS : 0.5);
          });
        },
      ),
    );
  });
});
