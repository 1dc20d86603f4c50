/**
 * Video freezes from the presentation times of the frames a receiver showed, with WebRTC's rule: a
 * gap between shown frames of at least max(3 × frame interval, frame interval + 150 ms) is a
 * freeze (the frame interval here is the source's nominal one). The span's start and end count as
 * frames, so a stream that starts late or stops early also froze.
 */

export interface FreezeStats {
  count: number;
  totalMs: number;
  longestMs: number;
  thresholdMs: number;
}

export function freezeThresholdMs(frameIntervalMs: number): number {
  return Math.max(3 * frameIntervalMs, frameIntervalMs + 150);
}

/**
 * @param ptsSec shown frames' presentation times (any order), seconds
 * @param span the presentation span the source covers, [from, to) seconds
 */
export function detectFreezes(ptsSec: readonly number[], frameIntervalMs: number, span?: { from: number; to: number }): FreezeStats {
  const threshold = freezeThresholdMs(frameIntervalMs);
  const t = [...ptsSec].sort((a, b) => a - b);
  if (span) {
    t.unshift(span.from - frameIntervalMs / 1000);
    t.push(span.to);
  }
  let count = 0;
  let totalMs = 0;
  let longestMs = 0;
  for (let i = 1; i < t.length; i++) {
    const gap = ((t[i] as number) - (t[i - 1] as number)) * 1000;
    if (gap + 1e-6 >= threshold) {
      count++;
      totalMs += gap;
      longestMs = Math.max(longestMs, gap);
    }
  }
  return { count, totalMs, longestMs, thresholdMs: threshold };
}
