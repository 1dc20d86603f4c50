/**
 * DtsDeriver: decode timestamps for video access units that arrive in decode order carrying only
 * presentation times (RTP timestamps, unwrapped by the caller to a monotonic-ish number).
 *
 * Method: "DTS = PTS delayed by the reorder depth". With a reorder depth D (no frame has more
 * than D frames that precede it in decode order and follow it in output order: H.264 VUI
 * max_num_reorder_frames, H.265 sps_max_num_reorder_pics), the frame decoded n-th gets
 *
 *     dts[n] = the (D+1)-th largest PTS among frames 0..n  (= sortedPts[n - D])
 *
 * which is strictly increasing, never above pts[n] (a frame at output position p arrives by
 * decode index p + D), and uses real PTS values, so lost frames, frame-rate changes and variable
 * frame rate need no frame duration. This is ffmpeg's rule (libavformat compute_pkt_fields:
 * pts_buffer of has_b_frames + 1 entries, dts = its smallest, i.e. the (delay+1)-th largest PTS),
 * and what an MP4 muxer writes for x264 output (sample.mp4: dts = sorted pts shifted by 2 frames).
 * GStreamer's h264timestamper (GstCodecTimestamper) holds D + 2 frames and takes the smallest
 * queued PTS minus D frame durations from the caps framerate: equal for constant rate; we keep
 * ffmpeg's form for steady state because it needs no frame rate.
 *
 * The first D frames have no (D+1)-th largest PTS yet: we hold them until frame D+1 has arrived
 * (frame D with a known frame duration), then extrapolate back from sortedPts[0] by whole frame
 * durations: dts[i] = sortedPts[0] - (D - i) * duration, duration = the VUI's, else
 * sortedPts[1] - sortedPts[0] (ffmpeg's muxer seeds its pts_buffer the same way). After that,
 * frames leave as they arrive, except for `lookahead` frames held back.
 *
 * Unknown depth: D starts at `defaultReorderDepth` (2) and grows when a frame shows more
 * (earlier-decoded frames with a larger PTS than D); it never shrinks. Growth would make the
 * formula step back; frames still held (the lookahead) absorb that: an already emitted DTS is
 * followed by +1 tick and the held frames keep dts <= pts. Without room, dts = previous + 1 and,
 * as a last resort, the output pts is raised to the dts (counted in stats.ptsRaised) so the two
 * guarantees hold for any input: dts strictly increasing, dts <= pts.
 *
 * A PTS more than maxBackwardJump below the largest seen is a discontinuity (sender restart):
 * pending frames are flushed and the derivation starts over.
 */

/** H.264's DPB holds at most 16 frames; deeper reordering is not representable. */
export const DTS_MAX_REORDER_DEPTH = 16;
export const DTS_DEFAULT_REORDER_DEPTH = 2;
/** Frame duration for the first frames' extrapolation when none is signalled or measurable (30 fps at 90 kHz). */
export const DTS_DEFAULT_FRAME_DURATION = 3000;
/** 10 s at 90 kHz. */
export const DTS_DEFAULT_MAX_BACKWARD_JUMP = 900_000;

export interface DtsDeriverOptions {
  /** Known reorder depth (from the SPS; see h264ReorderInfo). Still grows if the stream shows more. */
  reorderDepth?: number;
  /** Depth used while it is unknown. Default DTS_DEFAULT_REORDER_DEPTH. */
  defaultReorderDepth?: number;
  /** Frames held back in steady state to absorb depth growth. Default 0 with a known depth, else the default depth. */
  lookahead?: number;
  /** Frame duration in PTS ticks for the first frames (from the SPS VUI timing); else measured. */
  frameDuration?: number;
  /** Used when no duration is signalled or measurable. Default DTS_DEFAULT_FRAME_DURATION. */
  defaultFrameDuration?: number;
  /** Default DTS_DEFAULT_MAX_BACKWARD_JUMP (ticks). */
  maxBackwardJump?: number;
}

export interface DtsInput {
  /** Presentation time, unwrapped (90 kHz for RTP video). */
  pts: number;
}

export interface DtsOutput<T> {
  unit: T;
  dts: number;
  /** unit.pts, unless it had to be raised to dts (stats.ptsRaised). */
  pts: number;
}

export interface DtsDeriverStats {
  /** Units handed out. */
  frames: number;
  /** Current reorder depth. */
  reorderDepth: number;
  depthIncreases: number;
  /** Times the formula's DTS was not above the previous one and previous + 1 was used. */
  dtsClamped: number;
  /** Times the output pts was raised to keep dts <= pts. */
  ptsRaised: number;
  discontinuities: number;
}

interface Pending<T> {
  unit: T;
  fixedDts?: number;
}

/** Inserts v into ascending `a`, keeping at most `cap` largest values. */
function insertSorted(a: number[], v: number, cap: number): void {
  let i = a.length;
  while (i > 0 && a[i - 1]! > v) i--;
  a.splice(i, 0, v);
  if (a.length > cap) a.shift();
}

function countGreater(a: readonly number[], v: number): number {
  let n = 0;
  for (let i = a.length - 1; i >= 0 && a[i]! > v; i--) n++;
  return n;
}

export class DtsDeriver<T extends DtsInput = DtsInput> {
  private readonly initialDepth: number;
  private readonly lookahead: number;
  private readonly frameDuration: number | undefined;
  private readonly defaultFrameDuration: number;
  private readonly maxBackwardJump: number;
  private depth: number;
  /** Ascending: the largest PTS of the emitted units (at most DTS_MAX_REORDER_DEPTH + 1). */
  private top: number[] = [];
  private pending: Pending<T>[] = [];
  private started = false;
  /** Frame duration used for the first frames (and while fewer than D+1 frames are out). */
  private startDuration = 0;
  private lastDts: number | undefined;
  private maxPts: number | undefined;
  private readonly counters = { frames: 0, depthIncreases: 0, dtsClamped: 0, ptsRaised: 0, discontinuities: 0 };

  constructor(options: DtsDeriverOptions = {}) {
    const known = options.reorderDepth;
    const depth = known ?? options.defaultReorderDepth ?? DTS_DEFAULT_REORDER_DEPTH;
    checkCount('reorder depth', depth, DTS_MAX_REORDER_DEPTH);
    this.initialDepth = depth;
    this.depth = depth;
    this.lookahead = options.lookahead ?? (known !== undefined ? 0 : depth);
    checkCount('lookahead', this.lookahead, 4 * DTS_MAX_REORDER_DEPTH);
    if (options.frameDuration !== undefined && !(options.frameDuration > 0)) throw new RangeError('frameDuration must be > 0');
    this.frameDuration = options.frameDuration;
    this.defaultFrameDuration = options.defaultFrameDuration ?? DTS_DEFAULT_FRAME_DURATION;
    if (!(this.defaultFrameDuration > 0)) throw new RangeError('defaultFrameDuration must be > 0');
    this.maxBackwardJump = options.maxBackwardJump ?? DTS_DEFAULT_MAX_BACKWARD_JUMP;
  }

  get reorderDepth(): number {
    return this.depth;
  }

  get stats(): DtsDeriverStats {
    return { ...this.counters, reorderDepth: this.depth };
  }

  /** Units held (startup and lookahead). */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Takes the next unit in decode order; returns the units whose DTS is now decided, in order. */
  push(unit: T): DtsOutput<T>[] {
    const p = unit.pts;
    if (!Number.isFinite(p)) throw new RangeError(`pts must be finite, got ${p}`);
    const out: DtsOutput<T>[] = [];
    if (this.maxPts !== undefined && p < this.maxPts - this.maxBackwardJump) {
      out.push(...this.reset());
      this.counters.discontinuities++;
    }
    let larger = countGreater(this.top, p);
    for (const q of this.pending) if (q.unit.pts > p) larger++;
    if (larger > this.depth) {
      this.depth = Math.min(larger, DTS_MAX_REORDER_DEPTH);
      this.counters.depthIncreases++;
    }
    this.pending.push({ unit });
    this.maxPts = this.maxPts === undefined ? p : Math.max(this.maxPts, p);
    if (!this.started) this.tryStart(false);
    if (this.started) this.drain(out, this.lookahead);
    return out;
  }

  /** Hands out every held unit (end of stream). The derivation continues if more units come. */
  flush(): DtsOutput<T>[] {
    const out: DtsOutput<T>[] = [];
    if (!this.started && this.pending.length > 0) this.tryStart(true);
    this.drain(out, 0);
    return out;
  }

  /** flush(), then forget everything (a new stream, a seek, a sender restart). */
  reset(): DtsOutput<T>[] {
    const out = this.flush();
    this.top = [];
    this.pending = [];
    this.started = false;
    this.startDuration = 0;
    this.lastDts = undefined;
    this.maxPts = undefined;
    this.depth = this.initialDepth;
    return out;
  }

  /** Decides the first frames' DTS once frames D (and D+1, or a known duration) are in. */
  private tryStart(force: boolean): void {
    const d = this.depth;
    const n = this.pending.length;
    if (!force) {
      if (n <= this.lookahead) return;
      if (d > 0 && (n <= d || (this.frameDuration === undefined && n <= d + 1))) return;
    }
    const sorted = this.pending.map((q) => q.unit.pts).sort((a, b) => a - b);
    // The (d+1)-th largest of frames 0..d, and of 0..d+1, are sortedPts[0] and sortedPts[1]
    // for a stream within depth d; recompute them from the prefix to stay exact.
    const prefixCand = (k: number): number | undefined => {
      if (k >= n) return undefined;
      const pre = this.pending
        .slice(0, k + 1)
        .map((q) => q.unit.pts)
        .sort((a, b) => a - b);
      return pre[pre.length - 1 - d];
    };
    const c0 = prefixCand(d) ?? sorted[0]!;
    let dur = this.frameDuration;
    if (dur === undefined) {
      const c1 = prefixCand(d + 1);
      if (c1 !== undefined && c1 > c0) dur = c1 - c0;
    }
    if (dur === undefined) {
      for (let i = 1; i < sorted.length; i++) {
        const g = sorted[i]! - sorted[i - 1]!;
        if (g > 0 && (dur === undefined || g < dur)) dur = g;
      }
    }
    dur ??= this.defaultFrameDuration;
    this.startDuration = dur;
    for (let i = 0; i < Math.min(d, n); i++) this.pending[i]!.fixedDts = c0 - (d - i) * dur;
    this.started = true;
  }

  private drain(out: DtsOutput<T>[], keep: number): void {
    while (this.pending.length > keep) {
      const q = this.pending.shift()!;
      insertSorted(this.top, q.unit.pts, DTS_MAX_REORDER_DEPTH + 1);
      const t = this.top;
      // Fewer than D+1 frames out (the depth grew early): keep extrapolating back from the smallest.
      const cand =
        q.fixedDts ?? (t.length > this.depth ? t[t.length - 1 - this.depth]! : t[0]! - (this.depth - t.length + 1) * this.startDuration);
      out.push(this.finish(q.unit, cand));
    }
  }

  private finish(unit: T, cand: number): DtsOutput<T> {
    let dts = cand;
    if (this.lastDts !== undefined && !(dts > this.lastDts)) {
      dts = this.lastDts + 1;
      this.counters.dtsClamped++;
    }
    let pts = unit.pts;
    if (dts > pts) {
      pts = dts;
      this.counters.ptsRaised++;
    }
    this.lastDts = dts;
    this.counters.frames++;
    return { unit, dts, pts };
  }
}

function checkCount(what: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${what} must be an integer 0..${max}, got ${v}`);
}
