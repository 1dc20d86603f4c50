import type { ScheduledTask, Scheduler } from '../../transport/index.ts';
import type { Clock } from '../../util/clock.ts';
import { createLogger } from '../../util/log.ts';
import type { MediaEntry } from '../media-catalog.ts';
import { CHUNK_SAMPLES } from '../packetized-track.ts';
import type { PacketizedSample, PacketizedTrack } from '../packetized-track.ts';
import type { LiveChannel } from './live-channel.ts';
import type { LiveTrack } from './live-track.ts';

const log = createLogger('live');

/**
 * The loop period of a file played as simulated live: long enough that every track's last sample
 * (presentation time plus its duration) ends before the next loop's first one starts, so RTP
 * timestamps never go backwards across a loop even when audio and video differ in length.
 */
export function loopPeriodSec(entry: Pick<MediaEntry, 'durationSec' | 'tracks'>): number {
  let period = entry.durationSec;
  for (const t of entry.tracks) {
    const { samples, timescale } = t.source.track;
    const n = samples.count;
    if (n === 0) continue;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      min = Math.min(min, samples.pts[i]!);
      max = Math.max(max, samples.pts[i]!);
    }
    const last = n > 1 ? samples.dts[n - 1]! - samples.dts[n - 2]! : 0;
    period = Math.max(period, (max + last - Math.min(0, min)) / timescale);
  }
  return period;
}

/**
 * One track of a file looped on a channel's timeline: media time t of loop k is due at
 * `startMs + (k * period + t) * 1000`, and its RTP timestamp is the track's base plus
 * `round(k * period * rate)` plus the sample's own presentation time, so sequence numbers and
 * timestamps run on across loops. A task of the process-wide scheduler, like a session's RtpStream.
 */
class LoopedTrackFeeder implements ScheduledTask {
  private next = 0;
  private loop = 0;
  private chunk: PacketizedSample[] | undefined;
  private chunkIndex = -1;
  private loading = false;
  stopped = false;

  constructor(
    private readonly source: PacketizedTrack,
    private readonly track: LiveTrack,
    private readonly startMs: number,
    private readonly periodSec: number,
    private readonly scheduler: Scheduler,
    private readonly clock: Clock,
  ) {}

  run(nowMs: number): number {
    if (this.stopped || this.source.sampleCount === 0) return Infinity;
    const rate = this.source.format.clockRate;
    for (;;) {
      if (this.next >= this.source.sampleCount) {
        this.next = 0;
        this.loop++;
      }
      const s = this.sample();
      if (!s) return Infinity; // loading; scheduled again when loaded
      const loopStart = this.loop * this.periodSec;
      const due = this.startMs + (loopStart + s.dtsSec) * 1000;
      if (due > nowMs) return due;
      const ts = this.track.timestampBase + Math.round(loopStart * rate) + s.rtpTime;
      s.payloads.forEach((p, i) => this.track.send(p.marker, ts, p.payload, i === 0 && (s.keyframe || !this.track.isVideo)));
      this.next++;
    }
  }

  private sample(): PacketizedSample | undefined {
    const want = this.source.chunkOf(this.next);
    if (want !== this.chunkIndex) {
      const c = this.source.peekChunk(want);
      if (!c) {
        this.load(want);
        return undefined;
      }
      this.chunk = c;
      this.chunkIndex = want;
      // Read ahead, wrapping to the first chunk at the end of the file.
      const ahead = (want + 1) * CHUNK_SAMPLES < this.source.sampleCount ? want + 1 : 0;
      this.source.loadChunk(ahead).catch(() => undefined);
    }
    return this.chunk![this.next - want * CHUNK_SAMPLES];
  }

  private load(chunk: number): void {
    if (this.loading) return;
    this.loading = true;
    this.source.loadChunk(chunk).then(
      () => {
        this.loading = false;
        if (!this.stopped) this.scheduler.schedule(this, 0);
      },
      (err: unknown) => {
        this.loading = false;
        if (this.stopped) return; // the channel stopped and closed its file meanwhile
        log.error('cannot read live file', { file: this.source.file.path, error: String(err) });
        // Try again in a second rather than stopping the channel for good.
        if (!this.stopped) this.scheduler.schedule(this, this.clock.now() + 1000);
      },
    );
  }
}

/** `serve --live NAME=FILE`: the file's tracks looped on the channel from `start()` on. */
export class FileLoopSource {
  private feeders: LoopedTrackFeeder[] = [];
  readonly periodSec: number;

  constructor(
    readonly entry: MediaEntry,
    private readonly channel: LiveChannel,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
  ) {
    this.periodSec = loopPeriodSec(entry);
  }

  start(): void {
    this.channel.setFormats(this.entry.tracks.map((t) => ({ ...t.source.format })));
    const startMs = this.clock.now();
    const wall = this.clock.wallNow();
    this.feeders = this.entry.tracks.map((t, i) => {
      const track = this.channel.tracks[i]!;
      // Media time 0 of loop 0 is RTP time `timestampBase`, at the wall clock of the start.
      track.setReference(wall, track.timestampBase);
      const f = new LoopedTrackFeeder(t.source, track, startMs, this.periodSec, this.scheduler, this.clock);
      this.scheduler.schedule(f, startMs);
      return f;
    });
    this.channel.goLive();
  }

  stop(): void {
    for (const f of this.feeders) {
      f.stopped = true;
      this.scheduler.remove(f);
    }
  }
}
