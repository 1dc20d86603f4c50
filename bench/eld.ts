/** Event-loop delay from `perf_hooks.monitorEventLoopDelay`, reported beyond the timer's period. */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';

/**
 * Timer period of the event-loop delay monitor; reported delays are beyond this period. 10 ms (the
 * default) keeps the monitor's own cost in the measured server near 0.3 % of a core.
 */
export const ELD_RESOLUTION_MS = 10;

export interface EventLoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  samples: number;
}

/** Event-loop delay beyond the monitor's own timer period, in ms (the histogram is in ns). */
export function eldFromHistogram(h: IntervalHistogram, resolutionMs = ELD_RESOLUTION_MS): EventLoopDelay {
  const beyond = (ns: number): number => (h.count === 0 || !Number.isFinite(ns) ? 0 : Math.max(0, ns / 1e6 - resolutionMs));
  return {
    p50Ms: beyond(h.percentile(50)),
    p99Ms: beyond(h.percentile(99)),
    maxMs: beyond(h.max),
    meanMs: beyond(h.mean),
    samples: h.count,
  };
}

export function startEventLoopMonitor(): IntervalHistogram {
  const h = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  h.enable();
  return h;
}
