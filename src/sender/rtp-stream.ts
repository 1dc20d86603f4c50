import type { ScheduledTask } from '../transport/index.ts';
import { CHUNK_SAMPLES } from './packetized-track.ts';
import type { PacketizedSample, PacketizedTrack } from './packetized-track.ts';
import type { PlayTimeline } from './play-timeline.ts';
import { continueMapping, rtpAt } from './trick-play.ts';
import type { RtpMapping, TrickCursor } from './trick-play.ts';
import type { RtpSender } from './rtp-sender.ts';
import { latticeTimeOf } from './send-grid.ts';
import type { LatticeTimes } from './send-grid.ts';

/** What a stream sends from: a file's packetized track, or anything shaped like it (a looped one). */
export type SampleSource = Pick<PacketizedTrack, 'format' | 'sampleCount' | 'chunkOf' | 'peekChunk' | 'loadChunk' | 'growth'>;

/**
 * A track's samples paced out as RTP: a cursor over packetized samples (a file's, shared by every
 * session, or a looped one), sent through an RtpSender (the session's own for a file, the channel's
 * for a looped live file) when their decode time on the timeline has come. A task of the
 * process-wide scheduler.
 *
 * Three modes (see trick-play.ts): 'normal' sends every sample at its decode time (Scale 1, and
 * every video frame in slow motion), 'keyframes' follows a TrickCursor (fast forward, rewind) and
 * 'muted' sends nothing until the position reaches the segment's end (audio at Scale ≠ 1).
 */
export class RtpStream implements ScheduledTask {
  /** Media time → RTP time for the current segment (unwrapped); Scale 1 from the start. */
  private mapping: RtpMapping;
  /** Where the RTP clock stood (unwrapped) at a scheduler time, and its pace; set by the first retime. */
  private clock: { ms: number; rtp: number; ticksPerMs: number } | undefined;
  /** Highest RTP timestamp sent (unwrapped), to keep timestamps rising across Scale changes. */
  private maxTs: number | undefined;
  private mode: 'normal' | 'keyframes' | 'muted' = 'normal';
  private trick: TrickCursor | undefined;
  /** 'muted': the position where the segment ends (fast forward: the end; rewind: the start). */
  private mutedUntil = { npt: 0, forward: true };

  private next = 0;
  private chunk: PacketizedSample[] | undefined;
  private chunkIndex = -1;
  private loading: Promise<boolean> | undefined;
  private playing = false;
  private endNpt = Infinity;
  /** Unsubscribes from a growing source while waiting at its end. */
  private growthWait: (() => void) | undefined;
  /** Set while waiting at a growing end; the first sample after it re-anchors the timeline if late. */
  private stalled = false;
  ended = false;
  /**
   * 'normal' mode on a file's send lattice (send-grid.ts; the midpoints, set per segment by the
   * presentation for video tracks): each sample goes at the instant at or before its decoding time.
   */
  lattice: LatticeTimes | undefined;

  constructor(
    readonly control: string,
    readonly source: SampleSource,
    readonly sender: RtpSender,
    private readonly timeline: PlayTimeline,
    private readonly reschedule: (task: RtpStream) => void,
    private readonly onEnd: (stream: RtpStream) => void,
    private readonly onError: (stream: RtpStream, err: unknown) => void,
  ) {
    this.mapping = { npt: 0, rtp: sender.timestampBase, scale: 1 };
  }

  get clockRate(): number {
    return this.source.format.clockRate;
  }

  /** RTP timestamp for media time `npt` (seconds) on this stream, in the current segment. */
  rtpTimeAt(npt: number): number {
    return rtpAt(this.mapping, npt, this.clockRate) >>> 0;
  }

  /** The current segment's Scale (1 unless retimed for trick play). */
  get scale(): number {
    return this.mapping.scale;
  }

  /**
   * Starts a new RTP timing segment at `startNpt` with `scale` and `speed`, at scheduler time
   * `nowMs` (the segment's first sample is due then). The RTP clock runs with wall time across
   * PLAYs, as a client timing media by the last SR's NTP/RTP pair extrapolates it (live555, VLC):
   * the segment starts at the timestamp the clock has reached at `nowMs` (and above anything sent),
   * so a seek, a resume or a Scale change shows no jump to such a client; RTP-Info maps that
   * timestamp to the new position. Before the first PLAY the initial mapping stands.
   */
  retime(startNpt: number, scale: number, speed: number, nowMs: number, frameTicks: number): void {
    const minRtp = this.maxTs === undefined ? undefined : this.maxTs + Math.max(1, frameTicks);
    if (this.clock || scale !== 1) {
      const reached = this.clock ? this.clockAt(nowMs) : this.mapping.rtp;
      this.mapping = continueMapping(reached, minRtp, startNpt, scale, this.clockRate);
    }
    this.clock = { ms: nowMs, rtp: rtpAt(this.mapping, startNpt, this.clockRate), ticksPerMs: (this.clockRate * speed) / 1000 };
  }

  /** The RTP time (unwrapped) the clock has reached at `nowMs`. */
  private clockAt(nowMs: number): number {
    const c = this.clock!;
    return c.rtp + Math.round((nowMs - c.ms) * c.ticksPerMs);
  }

  /** Keyframes only, from the cursor's current keyframe (fast forward, rewind). */
  async seekTrick(cursor: TrickCursor): Promise<void> {
    this.mode = 'keyframes';
    this.trick = cursor;
    const step = cursor.current;
    this.endNpt = Infinity;
    this.next = step?.sample ?? this.source.sampleCount;
    this.ended = step === undefined;
    this.chunk = undefined;
    this.chunkIndex = -1;
    if (!this.ended) await this.ensureChunk();
  }

  /** Sends nothing; ends when the position reaches `untilNpt` (moving forward or back). */
  mute(untilNpt: number, forward: boolean): void {
    this.mode = 'muted';
    this.trick = undefined;
    this.mutedUntil = { npt: untilNpt, forward };
    this.ended = false;
  }

  /** Positions the cursor on sample `index` (decode order) and loads its chunk. */
  async seek(index: number, endNpt = Infinity): Promise<void> {
    this.mode = 'normal';
    this.trick = undefined;
    this.next = index;
    this.endNpt = endNpt;
    this.ended = index >= this.source.sampleCount;
    this.chunk = undefined;
    this.chunkIndex = -1;
    if (!this.ended) await this.ensureChunk();
  }

  start(): void {
    this.playing = true;
  }

  /**
   * Stops sending. Given the time, the RTP clock runs on from where it stands at the wall-clock
   * rate while stopped (not at a Speed ≠ 1's rate).
   */
  stop(nowMs?: number): void {
    this.playing = false;
    if (nowMs !== undefined && this.clock) {
      this.clock = { ms: nowMs, rtp: this.clockAt(nowMs), ticksPerMs: this.clockRate / 1000 };
    }
  }

  get isPlaying(): boolean {
    return this.playing && !this.ended;
  }

  run(nowMs: number): number {
    if (!this.playing || this.ended) return Infinity;
    if (this.mode === 'keyframes') return this.runKeyframes(nowMs);
    let mediaNow = this.timeline.mediaTimeAt(nowMs);
    if (this.mode === 'muted') {
      const { npt, forward } = this.mutedUntil;
      if (forward ? mediaNow >= npt : mediaNow <= npt) return this.finish();
      return this.timeline.clockTimeOf(npt);
    }
    for (;;) {
      if (this.next >= this.source.sampleCount) return this.waitForMore() ? Infinity : this.finish();
      const s = this.currentSample();
      if (!s) return Infinity; // chunk loading; reschedule() brings us back
      if (this.stalled) {
        // Back from waiting for a growing source that was slower than real time: continue from
        // here at the normal pace (a pause in delivery, timestamps unchanged) instead of a burst.
        this.stalled = false;
        if (s.dtsSec < mediaNow) {
          this.timeline.start(s.dtsSec, nowMs, this.timeline.scale);
          mediaNow = s.dtsSec;
        }
      }
      if (s.ptsSec >= this.endNpt) return this.finish();
      // Compared in clock time, as returned: a sample due at `nowMs` to within rounding (another
      // session's grid point, the same instant computed another way) goes now, not one
      // scheduler step later for a due time that is not after `nowMs`.
      const due = this.timeline.clockTimeOf(this.lattice ? latticeTimeOf(s.dtsSec, this.lattice) : s.dtsSec);
      if (due > nowMs) return due;
      this.send(s);
      this.next++;
    }
  }

  private runKeyframes(nowMs: number): number {
    const cursor = this.trick!;
    for (;;) {
      const step = cursor.current;
      if (!step) return this.finish();
      this.next = step.sample;
      const s = this.currentSample();
      if (!s) return Infinity;
      const due = this.timeline.startMs + step.dueSec * 1000;
      if (due > nowMs) return due;
      this.send(s, this.mapping.rtp + step.rtpTicks);
      cursor.advance();
      const ahead = cursor.peekNextSample();
      if (ahead !== undefined) this.source.loadChunk(this.source.chunkOf(ahead)).catch(() => undefined);
    }
  }

  /** RTP time of a sample in 'normal' mode: its own at Scale 1, stretched in slow motion. */
  private sampleRtp(s: PacketizedSample): number {
    const m = this.mapping;
    return m.scale === 1 ? m.rtp + s.rtpTime : rtpAt(m, s.ptsSec, this.clockRate);
  }

  private send(s: PacketizedSample, unwrapped = this.sampleRtp(s)): void {
    if (this.maxTs === undefined || unwrapped > this.maxTs) this.maxTs = unwrapped;
    // Only the first packet of a keyframe (or of any audio frame) is a place a new viewer of a
    // live fan-out can start from; a single-client egress ignores the flag.
    let start = s.keyframe || this.source.format.media !== 'video';
    for (const p of s.payloads) {
      this.sender.send(p.marker, unwrapped, p.payload, start);
      start = false;
    }
  }

  /**
   * At the end of a source still being written: wait (no timer) until it grows or stops growing,
   * then back to the scheduler. False when the source is not growing: the stream ends.
   */
  private waitForMore(): boolean {
    const g = this.source.growth;
    if (!g?.growing) return false;
    this.stalled = true;
    this.growthWait ??= g.onChange(() => {
      this.growthWait?.();
      this.growthWait = undefined;
      if (this.playing && !this.ended) this.reschedule(this);
    });
    return true;
  }

  private finish(): number {
    this.ended = true;
    this.playing = false;
    this.onEnd(this);
    return Infinity;
  }

  private currentSample(): PacketizedSample | undefined {
    const want = this.source.chunkOf(this.next);
    // A chunk made while its source was still shorter (growing) is made again now that it is longer.
    if (want === this.chunkIndex && this.next - want * CHUNK_SAMPLES >= this.chunk!.length) this.chunkIndex = -1;
    if (want !== this.chunkIndex) {
      const c = this.source.peekChunk(want);
      if (!c) {
        // Back to the scheduler once loaded, unless stopped meanwhile (PAUSE, TEARDOWN): a stopped
        // stream re-added here would sit in the scheduler's task map for good.
        // A failed read is the owner's to handle (onError): no retry from here.
        void this.ensureChunk().then((loaded) => {
          if (loaded && this.playing) this.reschedule(this);
        });
        return undefined;
      }
      this.chunk = c;
      this.chunkIndex = want;
      this.readAhead(want);
    }
    return this.chunk![this.next - want * CHUNK_SAMPLES];
  }

  /** Starts loading the chunk after `chunk` so that it is ready before it is due. */
  private readAhead(chunk: number): void {
    if (this.mode === 'keyframes') return; // runKeyframes reads ahead the next keyframe's chunk
    // Most streams of a file find it loaded by another session: no promise made for those.
    const next = chunk + 1;
    if (next * CHUNK_SAMPLES < this.source.sampleCount && !this.source.peekChunk(next)) {
      this.source.loadChunk(next).catch(() => undefined);
    }
  }

  /** Loads the chunk holding the cursor's sample; concurrent callers share one load. False if it failed. */
  private ensureChunk(): Promise<boolean> {
    const want = this.source.chunkOf(this.next);
    this.loading ??= this.source
      .loadChunk(want)
      .then(
        (c) => {
          this.chunk = c;
          this.chunkIndex = want;
          // A chunk loaded on demand (seek, or a read-ahead that was not ready) must also read
          // ahead, or every later chunk boundary stalls the stream until its read completes.
          this.readAhead(want);
          return true;
        },
        (err: unknown) => {
          this.onError(this, err);
          return false;
        },
      )
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }
}
