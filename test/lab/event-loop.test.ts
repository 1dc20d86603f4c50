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

  it('an idle loop reads well under the period, not the period itself', async () => {
    const h = monitorEventLoopDelay({ resolution: LAB_ELD_RESOLUTION_MS });
    h.enable();
    await new Promise((r) => setTimeout(r, 300));
    h.disable();
    expect(h.count).toBeGreaterThan(5);
    // The raw histogram mean is the period (~10 ms) plus the lateness; the figure is the lateness.
    expect(h.mean / 1e6).toBeGreaterThanOrEqual(LAB_ELD_RESOLUTION_MS);
    expect(eventLoopFigures(h).meanMs).toBeLessThan(LAB_ELD_RESOLUTION_MS / 2);
  });
});
