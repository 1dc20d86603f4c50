/**
 * Event-loop delay of a lab run from `perf_hooks.monitorEventLoopDelay`, reported beyond the
 * monitor's own timer period (as the bench does): the histogram holds the time between timer
 * ticks, so an idle loop reads the period itself (10.09 ms for a 10 ms period), not 0.
 */

import type { IntervalHistogram } from 'node:perf_hooks';

/** Timer period of the lab's event-loop monitor, ms. */
export const LAB_ELD_RESOLUTION_MS = 10;

export interface EventLoopFigures {
  meanMs: number;
  p99Ms: number;
  maxMs: number;
}

/** A histogram value (ns) as delay beyond the period (ms), never negative; 0 without samples. */
export function delayBeyondPeriodMs(ns: number, resolutionMs: number): number {
  return Number.isFinite(ns) ? Math.max(0, ns / 1e6 - resolutionMs) : 0;
}

export function eventLoopFigures(
  h: Pick<IntervalHistogram, 'count' | 'mean' | 'max' | 'percentile'>,
  resolutionMs = LAB_ELD_RESOLUTION_MS,
): EventLoopFigures {
  if (h.count === 0) return { meanMs: 0, p99Ms: 0, maxMs: 0 };
  return {
    meanMs: delayBeyondPeriodMs(h.mean, resolutionMs),
    p99Ms: delayBeyondPeriodMs(h.percentile(99), resolutionMs),
    maxMs: delayBeyondPeriodMs(h.max, resolutionMs),
  };
}
