import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { LAB_ELD_RESOLUTION_MS, eventLoopFigures } from '../../src/lab/event-loop.ts';

describe('event-loop delay beyond the monitor period', () => {
  it('subtracts the period from hand values, never below 0', () => {
    const h = { count: 3, mean: 10.09e6, max: 25e6, percentile: (q: number) => (q === 99 ? 12.5e6 : 0) };
    const f = eventLoopFigures(h, 10);
    expect(f.meanMs).toBeCloseTo(0.09, 9);
    expect(f.p99Ms).toBeCloseTo(2.5, 9);
    expect(f.maxMs).toBeCloseTo(15, 9);
    expect(eventLoopFigures({ ...h, mean: 9.5e6 }, 10).meanMs).toBe(0);
    expect(eventLoopFigures({ ...h, count: 0 }, 10)).toEqual({ meanMs: 0, p99Ms: 0, maxMs: 0 });
  });

  it('the mean of a real histogram includes the period, and the figure takes it out', async () => {
    const h = monitorEventLoopDelay({ resolution: LAB_ELD_RESOLUTION_MS });
    h.enable();
    await new Promise((r) => setTimeout(r, 300));
    h.disable();
    expect(h.count).toBeGreaterThan(5);
    // A real histogram's samples are the intervals between the monitor's wakes: the period
    // (~10 ms) plus the lateness, so their mean is at least about the period; the lab's figure is
    // the lateness alone. (How late depends on the machine's load: not asserted.)
    expect(h.mean / 1e6).toBeGreaterThanOrEqual(LAB_ELD_RESOLUTION_MS * 0.95);
    const f = eventLoopFigures(h);
    expect(f.meanMs).toBeCloseTo(h.mean / 1e6 - LAB_ELD_RESOLUTION_MS, 9);
    expect(f.maxMs).toBeCloseTo(h.max / 1e6 - LAB_ELD_RESOLUTION_MS, 9);
    expect(f.meanMs).toBeLessThan(h.mean / 1e6);
  });
});
