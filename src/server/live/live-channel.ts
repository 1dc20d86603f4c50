import { cryptoRandom } from '../../util/random.ts';
import type { Random } from '../../util/random.ts';
import type { Clock } from '../../util/clock.ts';
import { LiveTrack } from './live-track.ts';
import type { FanoutPacer, LiveTrackFormat } from './live-track.ts';

/** Where a channel's media comes from: a looped file, an ffmpeg process we run, an origin we pull from (RTSP), or any publisher. */
export type ChannelSource = 'file' | 'ffmpeg' | 'pull' | 'publish';

/** What a channel needs of a viewer session: to be told when the stream ends. */
export interface ChannelViewer {
  channelEnded(reason: string): void;
}

/** Channel names: one path segment after `live/`. */
export const CHANNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,63}$/;

function sameShape(a: LiveTrackFormat, b: LiveTrackFormat): boolean {
  return a.media === b.media && a.payloadType === b.payloadType && a.clockRate === b.clockRate && a.rtpmap === b.rtpmap;
}

/**
 * A live channel (`rtsp://host/live/NAME`): its tracks (one shared sender state each), whether
 * media flows now, the viewers to tell when it stops, and who publishes into it.
 */
export class LiveChannel {
  tracks: LiveTrack[] = [];
  live = false;
  readonly viewers = new Set<ChannelViewer>();
  /** The publisher session holding the path (from ANNOUNCE until it leaves). */
  publisher: object | undefined;
  /**
   * Secret an internal ffmpeg source puts in its ANNOUNCE URL (`?key=`), for `ffmpeg` channels on
   * systems where publisherCheck cannot be set (no /proc): visible in `ps` there.
   */
  publishKey: string | undefined;
  /** For `ffmpeg` channels: true when a connection is the one of the channel's own ffmpeg. */
  publisherCheck: ((conn: { remotePort?: number | undefined; localPort?: number | undefined }) => Promise<boolean>) | undefined;
  private waiters: ((live: boolean) => void)[] = [];
  /** Why the channel's source is down and when it tries again (clock ms); cleared when it goes live. */
  failure: { reason: string; retryAtMs: number } | undefined;
  /** Told about tracks that a new source run with another shape replaced (their multicast groups go). */
  onTracksReplaced: ((old: LiveTrack[]) => void) | undefined;
  /** The channel's URL path: `live/NAME`, or a path a config rule opened (`studio/cam1`). */
  readonly path: string;

  constructor(
    readonly name: string,
    readonly source: ChannelSource,
    private readonly clock: Clock,
    private readonly random: Random = cryptoRandom,
    path?: string,
    /** Paces its tracks' large fan-outs (LiveTrack); without it every packet goes to every viewer at once. */
    private readonly pacer?: FanoutPacer,
  ) {
    this.path = path ?? `live/${name}`;
  }

  /**
   * Sets the tracks for a new run of the source. When the shape is unchanged (same media, payload
   * types and clock rates) the tracks are kept, so SSRC, sequence numbers and timestamps continue.
   */
  setFormats(formats: LiveTrackFormat[]): void {
    // Each track with the new format of its place, where the shape is the same.
    const kept = this.tracks.flatMap((track, i) => {
      const format = formats[i];
      return format && sameShape(format, track.format) ? [{ track, format }] : [];
    });
    if (formats.length === this.tracks.length && kept.length === formats.length) {
      for (const k of kept) k.track.format = k.format;
    } else {
      const old = this.tracks;
      this.tracks = formats.map((f, i) => new LiveTrack(`trackID=${i + 1}`, f, this.clock, this.random, this.pacer));
      if (old.length > 0) this.onTracksReplaced?.(old);
    }
  }

  /** Whether an ANNOUNCE (with `key` from its URL, on `conn`) may publish into this `ffmpeg` channel. */
  async admitsSourcePublisher(
    key: string | null,
    conn: { remotePort?: number | undefined; localPort?: number | undefined },
  ): Promise<boolean> {
    if (this.publisherCheck) return this.publisherCheck(conn);
    return this.publishKey !== undefined && key === this.publishKey;
  }

  track(control: string): LiveTrack | undefined {
    return this.tracks.find((t) => t.control === control);
  }

  goLive(): void {
    this.live = true;
    this.failure = undefined;
    this.wake(true);
  }

  /** The source failed (an `ffmpeg:` source exited): DESCRIBEs waiting for it are answered now. */
  sourceFailed(reason: string, retryAtMs: number): void {
    this.failure = { reason, retryAtMs };
    this.wake(false);
  }

  private wake(live: boolean): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn(live);
  }

  /** The source stopped: every viewer gets its BYE; the channel waits for the source to come back. */
  end(reason: string): void {
    if (!this.live) return;
    this.live = false;
    for (const t of this.tracks) t.sinks.clear();
    for (const v of [...this.viewers]) v.channelEnded(reason);
  }

  /** Resolves true once the channel is live (at once if it is), false after `timeoutMs` or when its source fails. */
  waitLive(timeoutMs: number): Promise<boolean> {
    if (this.live) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (live: boolean) => {
        this.clock.clearTimeout(timer);
        resolve(live);
      };
      const timer = this.clock.setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(done);
    });
  }
}
