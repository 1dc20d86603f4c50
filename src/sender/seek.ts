import type { Track } from '../media/index.ts';
import { keyframeAtOrBefore } from '../media/index.ts';

/**
 * Where each track starts for PLAY at `npt`: video at the keyframe at or before it (the first
 * video track decides the actual start time), other tracks at their last sample presented at or
 * before that time. Returns indices in decode order.
 */
export function startIndexFor(tracks: readonly Track[], npt: number): { startNpt: number; indices: number[] } {
  const lead = tracks.find((t) => t.kind === 'video') ?? tracks[0];
  let startNpt = Math.max(0, npt);
  if (lead && lead.kind === 'video') {
    const k = keyframeAtOrBefore(lead, startNpt);
    startNpt = Math.max(0, lead.samples.pts[k]! / lead.timescale);
  }
  const indices = tracks.map((t) => (t.kind === 'video' ? keyframeAtOrBefore(t, startNpt) : lastAtOrBefore(t, startNpt)));
  return { startNpt, indices };
}

/** Last sample (decode order) whose presentation time is at or before `npt`; 0 if none is. */
function lastAtOrBefore(track: Track, npt: number): number {
  const { pts, count } = track.samples;
  const target = npt * track.timescale + 1e-6;
  let lo = 0;
  let hi = count - 1;
  let best = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (pts[mid]! <= target) {
      best = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}
