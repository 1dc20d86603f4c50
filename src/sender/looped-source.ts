import type { PacketizedSample, PacketizedTrack } from './packetized-track.ts';
import { CHUNK_SAMPLES } from './packetized-track.ts';
import { startIndexFor } from './seek.ts';

/** Looped chunks kept built (each is CHUNK_SAMPLES small objects whose payloads are shared). */
const MAX_BUILT_CHUNKS = 4;

/**
 * A track played over and over as one endless sample sequence, so that an RtpStream sending it
 * keeps its sequence numbers, timestamps and timeline running across loops (RFC 3550: a loop is
 * not a new source). Pass 0 is the whole track (the stream's seek picks where it starts); every
 * later pass starts at `loopFirst` (the sample the track would start with at npt 0) and is shifted
 * by `periodSec` per pass in decode time, presentation time and RTP time. Payloads are the base
 * track's, not copies.
 */
export class LoopedSource {
  readonly format: PacketizedTrack['format'];
  /** Endless, unless `passes` was given. */
  readonly sampleCount: number;
  private readonly n: number;
  private readonly perPass: number;
  private readonly built = new Map<number, PacketizedSample[]>();

  constructor(
    private readonly base: PacketizedTrack,
    private readonly loopFirst: number,
    private readonly periodSec: number,
    passes = Infinity,
  ) {
    this.format = base.format;
    this.n = base.sampleCount;
    if (loopFirst < 0 || loopFirst >= this.n) throw new RangeError(`loop start ${loopFirst} outside 0-${this.n - 1}`);
    if (!(periodSec > 0)) throw new RangeError(`loop period ${periodSec} s`);
    this.perPass = this.n - loopFirst;
    this.sampleCount = passes === Infinity ? Infinity : this.n + (passes - 1) * this.perPass;
  }

  /** Which pass sample `i` belongs to and its index in the base track. */
  locate(i: number): { pass: number; index: number } {
    if (i < this.n) return { pass: 0, index: i };
    const k = i - this.n;
    return { pass: 1 + Math.floor(k / this.perPass), index: this.loopFirst + (k % this.perPass) };
  }

  chunkOf(sample: number): number {
    return Math.floor(sample / CHUNK_SAMPLES);
  }

  peekChunk(chunk: number): PacketizedSample[] | undefined {
    const hit = this.built.get(chunk);
    if (hit) return hit;
    const parts = new Map<number, PacketizedSample[]>();
    for (const b of this.baseChunksOf(chunk)) {
      const c = this.base.peekChunk(b);
      if (!c) return undefined;
      parts.set(b, c);
    }
    return this.build(chunk, parts);
  }

  async loadChunk(chunk: number): Promise<PacketizedSample[]> {
    const hit = this.built.get(chunk);
    if (hit) return hit;
    const wanted = this.baseChunksOf(chunk);
    const loaded = await Promise.all(wanted.map((b) => this.base.loadChunk(b)));
    return this.build(chunk, new Map(wanted.map((b, i) => [b, loaded[i]!])));
  }

  private range(chunk: number): [number, number] {
    const from = chunk * CHUNK_SAMPLES;
    return [from, Math.min(from + CHUNK_SAMPLES, this.sampleCount)];
  }

  private baseChunksOf(chunk: number): number[] {
    const [from, to] = this.range(chunk);
    const set = new Set<number>();
    for (let i = from; i < to; i++) set.add(this.base.chunkOf(this.locate(i).index));
    return [...set];
  }

  private build(chunk: number, parts: Map<number, PacketizedSample[]>): PacketizedSample[] {
    const [from, to] = this.range(chunk);
    const out: PacketizedSample[] = [];
    for (let i = from; i < to; i++) {
      const { pass, index } = this.locate(i);
      const s = parts.get(this.base.chunkOf(index))![index % CHUNK_SAMPLES]!;
      out.push(
        pass === 0
          ? s
          : {
              dtsSec: s.dtsSec + pass * this.periodSec,
              ptsSec: s.ptsSec + pass * this.periodSec,
              // Rounded from the total shift, not pass × a rounded period, so the RTP time stays the
              // one the sender reports map npt to (no drift over many loops).
              rtpTime: s.rtpTime + Math.round(pass * this.periodSec * this.format.clockRate),
              keyframe: s.keyframe,
              payloads: s.payloads,
            },
      );
    }
    this.built.set(chunk, out);
    if (this.built.size > MAX_BUILT_CHUNKS) this.built.delete(this.built.keys().next().value!);
    return out;
  }
}

/**
 * A file's tracks looped together (`push --loop`, a simulated live channel): every later pass of
 * each track starts at its sample for npt 0 (startIndexFor), and all share one period, so they stay
 * in sync and their timestamps never step back. `passes` bounds the loop (default endless).
 */
export function loopTracks(
  movieDurationSec: number,
  tracks: readonly PacketizedTrack[],
  passes = Infinity,
  /**
   * The file's send lattice period (send-grid.ts): the loop period is rounded up to a whole
   * number of them, so every pass has its samples at the same lattice instants as the first.
   */
  latticePeriodSec?: number,
): { periodSec: number; sources: LoopedSource[] } {
  const first = startIndexFor(
    tracks.map((t) => t.track),
    0,
  ).indices;
  const fit = loopPeriodSec(movieDurationSec, tracks, first);
  // The tolerance keeps a period already on the lattice (up to float error) where it is.
  const periodSec = latticePeriodSec ? Math.ceil(fit / latticePeriodSec - 1e-9) * latticePeriodSec : fit;
  return { periodSec, sources: tracks.map((t, i) => new LoopedSource(t, first[i] ?? 0, periodSec, passes)) };
}

/**
 * The loop period: at least the movie duration, and long enough that every track's last sample
 * (presentation time plus one sample duration, taken from the last decode-time step) ends before
 * the next pass's earliest presentation time (from sample `first[i]` on) begins.
 */
export function loopPeriodSec(movieDurationSec: number, tracks: readonly PacketizedTrack[], first: readonly number[]): number {
  let end = movieDurationSec;
  tracks.forEach((t, ti) => {
    const { pts, dts, count } = t.track.samples;
    if (count === 0) return;
    let maxPts = -Infinity;
    let minNext = Infinity;
    for (let i = 0; i < count; i++) {
      const p = pts[i] ?? 0;
      maxPts = Math.max(maxPts, p);
      if (i >= (first[ti] ?? 0)) minNext = Math.min(minNext, p);
    }
    const step = count > 1 ? (dts[count - 1] ?? 0) - (dts[count - 2] ?? 0) : 0;
    end = Math.max(end, (maxPts + step - Math.min(0, minNext)) / t.track.timescale);
  });
  return end;
}
