import { describe, expect, it } from 'vitest';
import { MAX_TIMER_MS, Scheduler } from '../../src/transport/scheduler.ts';
import { ManualClock } from '../../src/util/clock.ts';
import type { TimerHandle } from '../../src/util/clock.ts';

/** A ManualClock that records every delay it is asked to arm. */
class RecordingClock extends ManualClock {
  readonly armed: number[] = [];
  override setTimeout(fn: () => void, delayMs: number): TimerHandle {
    this.armed.push(delayMs);
    return super.setTimeout(fn, delayMs);
  }
}

describe('Scheduler timer bounds (issue 13)', () => {
  it('never arms a timer longer than 2^31-1 ms and still runs a far task on time', () => {
    const clock = new RecordingClock();
    const s = new Scheduler(clock);
    const ran: number[] = [];
    const far = 3 * MAX_TIMER_MS + 5;
    s.once(far, (now) => ran.push(now));
    expect(clock.armed).toEqual([MAX_TIMER_MS]);
    clock.advance(MAX_TIMER_MS);
    // Woke with nothing due: re-armed once for the next step, no spinning.
    expect(ran).toEqual([]);
    expect(clock.armed).toEqual([MAX_TIMER_MS, MAX_TIMER_MS]);
    expect(s.stats.wakeups).toBe(1);
    clock.advance(far - MAX_TIMER_MS);
    expect(ran).toEqual([far]);
    expect(clock.armed.every((d) => d >= 0 && d <= MAX_TIMER_MS)).toBe(true);
    expect(s.stats.wakeups).toBe(4);
  });

  it('an absurd due time (1e17 ms) arms one bounded timer and removing it leaves none', () => {
    const clock = new RecordingClock();
    const s = new Scheduler(clock);
    const t = s.once(1e17, () => undefined);
    expect(clock.armed).toEqual([MAX_TIMER_MS]);
    s.remove(t);
    expect(clock.pendingTimers()).toBe(0);
  });
});
