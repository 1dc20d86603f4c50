/**
 * Time helpers over a track's sample table (pts on the presentation timeline, track ticks).
 */

import type { Track } from './types.ts';
import { at } from '../util/narrow.ts';

/** pts of sample `index` (0 <= index < count, else RangeError) in seconds; negative before the presentation start. */
export function sampleTimeSec(track: Track, index: number): number {
  return at(track.samples.pts, index) / track.timescale;
}

/**
 * Index (decode order) of the sync sample with the latest pts at or before `seconds`; the first
 * sync sample when every sync sample is later; 0 when the track has no sync sample; -1 when it
 * has no samples. Linear in the sample count (a seek, not a per-packet call).
 */
export function keyframeAtOrBefore(track: Track, seconds: number): number {
  const { count, pts, keyframe } = track.samples;
  if (count === 0) return -1;
  const target = seconds * track.timescale;
  // Tolerate float error in seconds * timescale (a millionth of a tick).
  const limit = target + Math.max(1e-6, Math.abs(target) * 1e-12);
  let best = -1;
  let first = -1;
  for (let i = 0; i < count; i++) {
    if (!keyframe[i]) continue;
    if (first < 0) first = i;
    const p = at(pts, i);
    if (p <= limit && (best < 0 || p > at(pts, best))) best = i;
  }
  if (best >= 0) return best;
  return first >= 0 ? first : 0;
}
