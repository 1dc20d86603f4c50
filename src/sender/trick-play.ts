/**
 * Trick play, the pure part: which Scale and Speed we serve, which samples go out at a Scale, when
 * and with which RTP timestamp. No I/O and no clock: RtpStream runs these plans on the scheduler.
 *
 * - Scale (RFC 2326 §12.34, RFC 7826 §18.46): the presentation rate the viewer sees. RTP timestamps
 *   follow the playback (delivery) timing, not the media time (RFC 2326 Appendix B: "for scaling,
 *   RTP timestamps should correspond to the playback timing"), so a receiver maps them back to the
 *   position with RTP-Info (RFC 7826 Appendix C.1.4): npt = start + Scale × (ts − rtptime) / rate.
 *   Fast forward (> 1) and rewind (< 0): video keyframes only, each sent when the position passes
 *   it (|pts − start| / |Scale| seconds after the start); other tracks are not sent. Slow motion
 *   (0 < Scale < 1): every video frame at the slower pace, audio not sent (we do not time-stretch).
 * - Speed (RFC 2326 §12.35): delivery rate only; timestamps keep their normal spacing.
 */

import type { Track } from '../media/index.ts';

/** Largest |Scale| served; larger requests are answered with ±16. */
export const MAX_ABS_SCALE = 16;
/** Smallest |Scale| served (slowest slow motion); smaller requests are answered with ±1/16. */
export const MIN_ABS_SCALE = 1 / 16;
/** Speed range served (RFC 2326 §12.35 leaves the choice to the server); requests are clamped. */
export const MIN_SPEED = 0.25;
export const MAX_SPEED = 4;
/** Keyframes closer than this in wall time are skipped ("selected key frames", RFC 2326 §12.34). */
export const MIN_KEYFRAME_INTERVAL_SEC = 1 / 25;

export type PlayMode = 'normal' | 'slow' | 'keyframes';

export function playModeOf(scale: number): PlayMode {
  if (scale === 1) return 'normal';
  return scale > 0 && scale < 1 ? 'slow' : 'keyframes';
}

/**
 * The Scale we serve for a request: |Scale| between 1/16 and 16; 1 when the session has no video
 * track (keyframes are a video notion; audio-only trick play would need time-stretching). The
 * handler refuses 0; anything not finite gets 1.
 */
export function negotiateScale(requested: number, hasVideo: boolean): number {
  if (!hasVideo || !Number.isFinite(requested) || requested === 0) return 1;
  const abs = Math.max(MIN_ABS_SCALE, Math.min(MAX_ABS_SCALE, Math.abs(requested)));
  // Keep answers short and exact: 6 decimals is what formatScale writes.
  return (Math.sign(requested) * Math.round(abs * 1e6)) / 1e6;
}

export function negotiateSpeed(requested: number): number {
  if (!Number.isFinite(requested)) return 1;
  return Math.round(Math.max(MIN_SPEED, Math.min(MAX_SPEED, requested)) * 1e6) / 1e6;
}

/** A track's keyframes in presentation order: sample index (decode order) and pts in seconds. */
export interface KeyframeTable {
  index: number[];
  pts: number[];
}

const tables = new WeakMap<object, KeyframeTable>();

/** The keyframe table of a track, built once per track (the sample table never changes). */
export function keyframeTable(track: Pick<Track, 'samples' | 'timescale'>): KeyframeTable {
  let t = tables.get(track.samples);
  if (!t) {
    const { count, pts, keyframe } = track.samples;
    const idx: number[] = [];
    for (let i = 0; i < count; i++) if (keyframe[i]) idx.push(i);
    idx.sort((a, b) => pts[a]! - pts[b]! || a - b);
    t = { index: idx, pts: idx.map((i) => pts[i]! / track.timescale) };
    tables.set(track.samples, t);
  }
  return t;
}

/** Float tolerance when comparing a position with a keyframe time. */
const EPS = 1e-6;

/**
 * Where in `table` a trick segment starts for position `npt`: the last keyframe at or before it, or
 * the first at or after it. Returns -1 when there is none that way (fast forward past the last
 * keyframe); a position before the first keyframe gives the first keyframe when looking back.
 */
export function keyframePosition(table: KeyframeTable, npt: number, snap: 'at-or-before' | 'at-or-after'): number {
  const { pts } = table;
  if (pts.length === 0) return -1;
  let lo = 0;
  let hi = pts.length - 1;
  let before = -1; // last with pts <= npt
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (pts[mid]! <= npt + EPS) {
      before = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (snap === 'at-or-before') return Math.max(0, before);
  if (before >= 0 && Math.abs(pts[before]! - npt) <= EPS) return before;
  return before + 1 < pts.length ? before + 1 : -1;
}

/** One keyframe to send: when (wall seconds after the segment start) and with which RTP time. */
export interface TrickStep {
  /** Sample index (decode order) in the track. */
  sample: number;
  ptsSec: number;
  /** |pts − start| / |Scale| / Speed. */
  dueSec: number;
  /** RTP clock units after the segment's anchor: (pts − start) / Scale × clockRate, rounded. */
  rtpTicks: number;
}

export interface TrickSegment {
  /** Media position where the segment starts (the anchor of its RTP mapping). */
  startNpt: number;
  /** ≠ 1 and not in (0, 1): fast forward or rewind. */
  scale: number;
  speed: number;
  clockRate: number;
  /**
   * Fast forward: keyframes with pts at or after this are not sent. Rewind: keyframes before this
   * are not sent (the lower end of the range, 0 by default).
   */
  endNpt: number;
}

/**
 * Walks the keyframes of one track from `position` in the direction of the Scale, yielding when
 * each is due and its RTP time. Keyframes due less than MIN_KEYFRAME_INTERVAL_SEC after the one
 * before are skipped.
 */
export class TrickCursor {
  private pos: number;
  private step: TrickStep | undefined;
  private readonly dir: 1 | -1;

  constructor(
    private readonly table: KeyframeTable,
    readonly segment: TrickSegment,
    position: number,
    private readonly minIntervalSec = MIN_KEYFRAME_INTERVAL_SEC,
  ) {
    if (playModeOf(segment.scale) !== 'keyframes') throw new RangeError(`scale ${segment.scale} is not a keyframe scale`);
    if (!(segment.speed > 0)) throw new RangeError(`speed ${segment.speed} must be > 0`);
    this.dir = segment.scale > 0 ? 1 : -1;
    this.pos = position;
    // A keyframe behind the start (snap at-or-before while fast forwarding from a Range) is sent
    // first, at once; one already behind in the other direction is skipped.
    this.step = this.stepAt(position, true);
  }

  /** The next keyframe to send, or undefined at the end of the segment. */
  get current(): TrickStep | undefined {
    return this.step;
  }

  /** Sample index the cursor will need after the current one (for read-ahead), or undefined. */
  peekNextSample(): number | undefined {
    const p = this.pos + this.dir;
    return p >= 0 && p < this.table.index.length ? this.table.index[p] : undefined;
  }

  advance(): void {
    if (!this.step) return;
    const last = this.step.dueSec;
    for (;;) {
      this.pos += this.dir;
      const s = this.stepAt(this.pos, false);
      if (!s || s.dueSec >= last + this.minIntervalSec - EPS) {
        this.step = s;
        return;
      }
    }
  }

  private stepAt(pos: number, first: boolean): TrickStep | undefined {
    const { index, pts } = this.table;
    if (pos < 0 || pos >= index.length) return undefined;
    const p = pts[pos]!;
    const seg = this.segment;
    if (this.dir > 0 ? p >= seg.endNpt - EPS : p < seg.endNpt - EPS) return undefined;
    let delta = p - seg.startNpt;
    if (delta * this.dir < -EPS) {
      if (!first) return undefined;
      delta = 0;
    }
    const wall = delta / seg.scale; // >= 0 in both directions
    return {
      sample: index[pos]!,
      ptsSec: p,
      dueSec: Math.max(0, wall / seg.speed),
      rtpTicks: Math.round(Math.max(0, wall) * seg.clockRate),
    };
  }
}

/**
 * How a stream's RTP timestamps relate to media time during one play segment (unwrapped, before
 * `>>> 0`): ts(npt) = rtp + round((npt − npt0) / scale × clockRate). At Scale 1 the anchor is kept
 * at npt0 = 0, so ts = rtp + the sample's own precomputed RTP time, exactly as without trick play.
 */
export interface RtpMapping {
  npt: number;
  rtp: number;
  scale: number;
}

export function rtpAt(m: RtpMapping, npt: number, clockRate: number): number {
  return m.rtp + Math.round(((npt - m.npt) / m.scale) * clockRate);
}

/**
 * The mapping for a new segment starting at `startNpt` with `scale`, whose first timestamp is
 * `reached` (where the stream's RTP clock stands), never at or below `minRtp` (what was already
 * sent, plus a frame): timestamps continuous and monotonic across NPT jumps (RFC 2326 Appendix B).
 */
export function continueMapping(
  reached: number,
  minRtp: number | undefined,
  startNpt: number,
  scale: number,
  clockRate: number,
): RtpMapping {
  const at = minRtp !== undefined && reached < minRtp ? minRtp : reached;
  if (scale === 1) return { npt: 0, rtp: at - Math.round(startNpt * clockRate), scale: 1 };
  return { npt: startNpt, rtp: at, scale };
}
