/**
 * How on time RTP packets arrive: each packet's transit (arrival minus its RTP timestamp's place on
 * the media clock, relative to the first packet) less the smallest transit in the window, so 0 is
 * "as early as any packet of the window" and a packet the sender or the network held back shows
 * as lateness. Its percentiles say whether something disturbed the stream's timing, independent
 * of the constant offset. RTP timestamps wrap at 2^32 (unwrapped here). Shared by the feed timing
 * test and `npm run bench:dashboard`.
 */
export interface Arrival {
  /** RTP timestamp. */
  timestamp: number;
  /** performance.now() at arrival. */
  arrivalMs: number;
}

export interface ArrivalTiming {
  packets: number;
  /** Lateness beyond the earliest packet of the window, ms. */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function arrivalTiming(arrivals: readonly Arrival[], clockRate: number): ArrivalTiming {
  if (arrivals.length === 0) return { packets: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0 };
  const first = arrivals[0]!;
  let unwrapped = 0;
  let prev = first.timestamp;
  const transit = arrivals.map((a) => {
    // Signed 32-bit difference from the previous timestamp: forward steps and small reorderings.
    unwrapped += ((a.timestamp - prev) << 0) | 0;
    prev = a.timestamp;
    return a.arrivalMs - first.arrivalMs - (unwrapped / clockRate) * 1000;
  });
  const min = Math.min(...transit);
  const late = transit.map((t) => t - min).sort((a, b) => a - b);
  const at = (p: number) => late[Math.min(late.length - 1, Math.floor((p / 100) * late.length))]!;
  return { packets: late.length, p50Ms: at(50), p90Ms: at(90), p99Ms: at(99), maxMs: late[late.length - 1]! };
}
