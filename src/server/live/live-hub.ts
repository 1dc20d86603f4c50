import path from 'node:path';
import type { RtspRequest } from '../../rtsp/index.ts';
import type { TimerHandle } from '../../util/clock.ts';
import { createLogger } from '../../util/log.ts';
import type { ChunkCache } from '../../sender/packetized-track.ts';
import { openMediaEntry } from '../media-catalog.ts';
import type { MediaEntry } from '../media-catalog.ts';
import type { SessionContext } from '../session/context.ts';
import { sessionIdOfHeader } from '../session/lookup.ts';
import type { FfmpegLiveSource } from './ffmpeg-source.ts';
import type { FileLoopSource } from './file-source.ts';
import { splitArgs } from './split-args.ts';
import { CHANNEL_NAME, LiveChannel } from './live-channel.ts';
import { parseLiveTarget } from './live-target.ts';
import type { RtspPullSource } from './pull-source.ts';
import { pullTlsFor } from './pull-tls.ts';
import type { PullTlsSetting } from './pull-tls.ts';
import type { PullCounters, PullOptions, PullTimings, PullTransport } from './pull-source.ts';
import { parseRtspUrl, withoutUserinfo } from '../../rtsp/index.ts';
import { MulticastAllocator } from './multicast.ts';
import type { MulticastGroup, MulticastOptions } from './multicast.ts';
import type { PublisherCounters, RecordTarget } from './record-target.ts';
import { liveRtcp } from './rtcp-view.ts';

const log = createLogger('live');

/** Most channels at once; channels made by publishers and idle (no publisher, no viewer) are dropped to make room. */
export const MAX_LIVE_CHANNELS = 1000;

/**
 * `serve --live NAME=FILE`, `NAME=ffmpeg:<input args>` or `NAME=rtsp://ORIGIN/PATH` (an edge
 * pulling from an origin); `path` is the channel's URL path when a config rule places it
 * elsewhere than `live/NAME`.
 */
export type LiveChannelSpec =
  | { name: string; file: string; path?: string }
  | { name: string; ffmpegArgs: string[]; path?: string }
  | {
      name: string;
      pull: string;
      path?: string;
      /** Default: the hub's `pullTransport` (tcp). */
      transport?: PullTransport;
      /** Its own trust for an `rtsps://` origin (a rule's sourceTlsCa / sourceTlsInsecure); default: the hub's `pullTls`. */
      tls?: PullTlsSetting;
      /**
       * Pull only while there are viewers: the first DESCRIBE starts the pull (and waits for it),
       * the pull stops `closeAfterMs` after the last viewer left. Absent: pulled from the start.
       */
      onDemand?: { closeAfterMs: number };
    };

/** How long an on-demand pull outlives its last viewer, by default (MediaMTX's sourceOnDemandCloseAfter). */
export const ON_DEMAND_CLOSE_AFTER_MS = 10_000;

/** The URL path of a spec's channel. */
export function liveSpecPath(spec: LiveChannelSpec): string {
  return spec.path ?? `live/${spec.name}`;
}

/** Parses one `--live` value. Throws with the reason (a CLI error). */
export function parseLiveSpec(value: string): LiveChannelSpec {
  const eq = value.indexOf('=');
  const name = eq < 0 ? '' : value.slice(0, eq);
  const src = eq < 0 ? '' : value.slice(eq + 1);
  if (!CHANNEL_NAME.test(name) || src === '')
    throw new Error(`--live wants NAME=FILE, NAME=ffmpeg:<input args> or NAME=rtsp://ORIGIN/PATH, got ${withoutUserinfo(value)}`);
  if (/^rtsps?:\/\//i.test(src)) {
    if (!parseRtspUrl(src).ok) throw new Error(`--live ${name}: not an rtsp:// URL: ${withoutUserinfo(src)}`);
    return { name, pull: src };
  }
  if (src.startsWith('ffmpeg:')) {
    const args = splitArgs(src.slice('ffmpeg:'.length));
    if (args.length === 0) throw new Error(`--live ${name}: ffmpeg: needs input arguments, e.g. ffmpeg:-re -f lavfi -i testsrc2`);
    return { name, ffmpegArgs: args };
  }
  return { name, file: src };
}

/** An on-demand pull's state: pulling or not, since when nobody watches, the watch's timer. */
interface OnDemandPull {
  closeAfterMs: number;
  active: boolean;
  idleSinceMs: number | undefined;
  timer: TimerHandle | undefined;
}

/** Why a channel could not be started at run time (the operator's API maps codes to HTTP statuses). */
export class LiveHubError extends Error {
  constructor(
    readonly code: 'LIVE_ERR_EXISTS' | 'LIVE_ERR_FULL' | 'LIVE_ERR_NAME' | 'LIVE_ERR_OPEN' | 'LIVE_ERR_NOT_FOUND',
    message: string,
  ) {
    super(message);
    this.name = 'LiveHubError';
  }
}

export interface LiveHubOptions {
  channels: LiveChannelSpec[];
  multicast?: MulticastOptions;
  maxPayloadSize: number;
  cache: ChunkCache;
  /** Paths outside `live/` that are live channels by a config rule (publisher, looped file, ffmpeg). */
  isLivePath?: (path: string) => boolean;
  /** Timings of `NAME=rtsp://` channels (reconnect backoff, grace before viewers get a BYE). */
  pull?: Partial<PullTimings>;
  /** For `NAME=rtsps://` origins: the CA to check their certificate against, or accept any. */
  pullTls?: PullOptions['tls'];
  /** Transport of pulls whose spec names none (`serve --pull-transport`); default tcp. */
  pullTransport?: PullTransport;
}

export interface LiveChannelSnapshot {
  name: string;
  /** The channel's URL path (`live/NAME`, or a config rule's path). */
  path: string;
  source: string;
  live: boolean;
  viewers: number;
  publisher: PublisherCounters | undefined;
  /**
   * An edge channel: its origin (without credentials), whether it plays now, the transport its
   * runs use (udp until a fallback), whether it pulls on demand (and is pulling now), its counters.
   */
  pull: (PullCounters & { origin: string; playing: boolean; transport: PullTransport; onDemand: boolean; active: boolean }) | undefined;
  tracks: {
    control: string;
    ssrc: number;
    packets: number;
    octets: number;
    sinks: number;
    /** Packets whose fan-out waited for a later millisecond (large audiences), and overflows of that hold. */
    heldPackets: number;
    pacingOverflows: number;
    multicast: { group: string; port: number; ttl: number; members: number; sent: number } | undefined;
  }[];
}

/**
 * Live channels of the server (`rtsp://host/live/NAME`): the channels and their sources (looped
 * files, ffmpeg processes, publishers) and multicast groups; its sessions live in the registry.
 * The RTSP handlers hand it every request about `live/...` (see live-handlers.ts). The sources'
 * modules (pull-source.ts with its relays, ffmpeg-source.ts, file-source.ts) are loaded when a
 * channel of that kind starts: a server without one does not carry them.
 */
export class LiveHub {
  readonly channels = new Map<string, LiveChannel>();
  /** Connections recognized as an `ffmpeg:` channel's own publisher, with that channel's path. */
  private readonly ownPublisherConns = new WeakMap<object, string>();
  readonly multicast: MulticastAllocator | undefined;
  private readonly fileSources: FileLoopSource[] = [];
  private readonly entries: MediaEntry[] = [];
  private readonly ffmpegSources: FfmpegLiveSource[] = [];
  private readonly pulls = new Map<LiveChannel, RtspPullSource>();
  /** On-demand pulls: how long they outlive their last viewer, and the idle watch while one runs. */
  private readonly onDemand = new Map<LiveChannel, OnDemandPull>();
  private readonly groupsByTrack = new Map<object, MulticastGroup>();
  /** The configured channels (`--live`) with their specs, for start(). */
  private readonly configured: { spec: LiveChannelSpec; channel: LiveChannel }[] = [];

  constructor(
    readonly ctx: SessionContext,
    private readonly opts: LiveHubOptions,
  ) {
    for (const spec of opts.channels) {
      const p = liveSpecPath(spec);
      if (this.channels.has(p)) throw new Error(`--live ${spec.name}: ${p} given twice`);
      const channel = this.newChannel(spec.name, 'file' in spec ? 'file' : 'pull' in spec ? 'pull' : 'ffmpeg', p);
      this.channels.set(p, channel);
      this.configured.push({ spec, channel });
    }
    this.multicast = opts.multicast
      ? new MulticastAllocator(opts.multicast, ctx.random, (g) =>
          liveRtcp(g.track, g.egress, () => g.sending, ctx, {
            sessionId: 'multicast',
            media: `multicast ${g.address}:${g.port}`,
            onActivity: () => undefined,
          }),
        )
      : undefined;
  }

  /** Opens the files of simulated live channels and starts the ffmpeg sources (publishing to `rtspPort`, over TLS when `secure`). */
  async start(rtspPort: number, secure = false): Promise<void> {
    for (const { spec, channel } of this.configured) {
      if ('file' in spec) {
        await this.startFileChannel(channel, spec.file, `--live ${spec.name}`);
      } else if ('pull' in spec) {
        const { RtspPullSource } = await import('./pull-source.ts');
        const tls = await pullTlsFor(spec.tls, this.opts.pullTls, `the CA of ${channel.path}`);
        const source = new RtspPullSource(channel, spec.pull, this.ctx, this.opts.pull, {
          transport: spec.transport ?? this.opts.pullTransport ?? 'tcp',
          ...(tls ? { tls } : {}),
        });
        this.pulls.set(channel, source);
        log.info('edge channel', {
          channel: channel.path,
          origin: source.url,
          transport: source.transportNow,
          pull: spec.onDemand ? 'on demand' : 'from start',
        });
        if (spec.onDemand)
          this.onDemand.set(channel, { closeAfterMs: spec.onDemand.closeAfterMs, active: false, idleSinceMs: undefined, timer: undefined });
        else source.start();
      } else {
        // ffmpeg's command line is public (ps): where /proc tells whose connection it is, the URL
        // carries no secret; elsewhere a key, visible in ps (peer-process.ts).
        const [{ FfmpegLiveSource }, { peerProcessCheckAvailable }] = await Promise.all([
          import('./ffmpeg-source.ts'),
          import('./peer-process.ts'),
        ]);
        const byProcess = peerProcessCheckAvailable();
        if (!byProcess) {
          channel.publishKey = this.ctx.random.hex(12);
          log.warn('no /proc: the ffmpeg source publishes with a key other local users can read in ps', { channel: spec.name });
        }
        const url = `${secure ? 'rtsps' : 'rtsp'}://127.0.0.1:${rtspPort}/${channel.path}${byProcess ? '' : `?key=${channel.publishKey}`}`;
        const source = new FfmpegLiveSource(spec.name, spec.ffmpegArgs, url, this.ctx.clock, (reason, retryInMs) =>
          channel.sourceFailed(reason, this.ctx.clock.now() + retryInMs),
        );
        if (byProcess) channel.publisherCheck = (conn) => source.owns(conn);
        this.ffmpegSources.push(source);
        source.start();
      }
    }
  }

  /** Opens `file` and plays it (looped, or once) into `channel`. Throws with `what` and the reason. */
  private async startFileChannel(channel: LiveChannel, file: string, what: string, loop = true): Promise<void> {
    const filePath = path.resolve(file);
    const { FileLoopSource } = await import('./file-source.ts');
    const entry = await openMediaEntry(filePath, path.basename(filePath), this.opts.maxPayloadSize, this.opts.cache).catch(
      (err: unknown) => {
        throw new Error(`${what}: cannot open ${file}: ${String(err)}`);
      },
    );
    if (entry.tracks.length === 0) {
      await entry.file.close();
      throw new Error(`${what}: ${file} has no track we can stream`);
    }
    this.entries.push(entry);
    const once = loop ? undefined : { onEnded: () => void this.removeChannel(channel.path, 'end of file') };
    const source = new FileLoopSource(entry, channel, this.ctx.clock, this.ctx.scheduler, once);
    this.fileSources.push(source);
    source.start();
    log.info(loop ? 'simulated live channel' : 'live channel playing a file once', {
      channel: channel.path,
      file: filePath,
      loopSec: source.periodSec,
    });
  }

  /**
   * A channel `live/NAME` from a file, added while the server runs (the operator's API): looped, or
   * played once and then stopped as by removeChannel. `filePath` is checked by the caller. Throws
   * LiveHubError: LIVE_ERR_NAME, LIVE_ERR_EXISTS, LIVE_ERR_FULL, LIVE_ERR_OPEN.
   */
  async addFileChannel(name: string, filePath: string, loop = true): Promise<void> {
    if (!CHANNEL_NAME.test(name)) throw new LiveHubError('LIVE_ERR_NAME', `channel name ${JSON.stringify(name)} not allowed`);
    const p = `live/${name}`;
    if (this.channels.has(p)) throw new LiveHubError('LIVE_ERR_EXISTS', `${p} exists`);
    if (this.channels.size >= MAX_LIVE_CHANNELS) throw new LiveHubError('LIVE_ERR_FULL', `${MAX_LIVE_CHANNELS} channels in use`);
    const channel = this.newChannel(name, 'file', p);
    // Held while the file opens, so a second request for the name is refused.
    this.channels.set(p, channel);
    try {
      await this.startFileChannel(channel, filePath, p, loop);
    } catch (err) {
      this.channels.delete(p);
      throw new LiveHubError('LIVE_ERR_OPEN', err instanceof Error ? err.message : String(err));
    }
  }

  /**
   * Stops a channel for good, named by its name (`NAME` of `live/NAME`) or its URL path: its file
   * stops and closes, an `ffmpeg:` source is stopped and waited for, a publisher's session ends,
   * its viewers get their BYE. False when there is none. A publisher may publish to it again.
   */
  async removeChannel(nameOrPath: string, reason = 'channel stopped'): Promise<boolean> {
    const p = this.channels.has(`live/${nameOrPath}`) ? `live/${nameOrPath}` : nameOrPath;
    const channel = this.channels.get(p);
    if (!channel) return false;
    this.channels.delete(p);
    const i = this.fileSources.findIndex((s) => s.channelPath === p);
    const source = i >= 0 ? this.fileSources.splice(i, 1)[0] : undefined;
    source?.stop();
    // An ffmpeg: source would only come back and publish again: it is stopped for good.
    const f = this.ffmpegSources.findIndex((x) => x.name === channel.name && channel.source === 'ffmpeg');
    const ffmpegExited = f >= 0 ? this.ffmpegSources.splice(f, 1)[0]!.stop() : undefined;
    // An edge channel leaves its origin (TEARDOWN) and its on-demand watch.
    this.pulls.get(channel)?.stop(reason);
    this.pulls.delete(channel);
    this.ctx.clock.clearTimeout(this.onDemand.get(channel)?.timer);
    this.onDemand.delete(channel);
    channel.end(reason);
    for (const s of [...this.ctx.registry.values()]) if (s.kind !== 'file' && s.media === p) s.close(reason);
    for (const t of channel.tracks) this.multicast?.release(t);
    if (source) {
      const e = this.entries.indexOf(source.entry);
      if (e >= 0) this.entries.splice(e, 1);
      await source.entry.file.close();
    }
    await ffmpegExited;
    log.info('live channel stopped', { channel: p, reason });
    return true;
  }

  /**
   * A DESCRIBE of `channel`: an on-demand pull that is not running starts now (the caller then
   * waits for the channel to go live), and one that runs counts it as demand (the grace after the
   * last viewer starts again). Other channels: nothing.
   */
  demand(channel: LiveChannel): void {
    const d = this.onDemand.get(channel);
    const source = this.pulls.get(channel);
    if (!d || !source) return;
    d.idleSinceMs = undefined;
    if (d.active) return;
    d.active = true;
    // A failure of an earlier run says nothing about this one: DESCRIBE waits for it.
    channel.failure = undefined;
    log.info('on-demand pull starts', { channel: channel.path, origin: source.url });
    source.start();
    this.watchIdle(channel, d, source);
  }

  /** Stops an on-demand pull once nobody watched for closeAfterMs. */
  private watchIdle(channel: LiveChannel, d: OnDemandPull, source: RtspPullSource): void {
    const every = Math.max(50, Math.min(1000, d.closeAfterMs / 4));
    d.timer = this.ctx.clock.setTimeout(() => {
      const now = this.ctx.clock.now();
      if (channel.viewers.size > 0) d.idleSinceMs = undefined;
      else d.idleSinceMs ??= now;
      if (d.idleSinceMs !== undefined && now - d.idleSinceMs >= d.closeAfterMs) {
        d.active = false;
        d.timer = undefined;
        d.idleSinceMs = undefined;
        log.info('on-demand pull stops: no viewer', { channel: channel.path, afterMs: d.closeAfterMs });
        source.stop('no viewer');
        channel.end('no viewer');
        channel.failure = undefined;
        return;
      }
      this.watchIdle(channel, d, source);
    }, every);
  }

  /**
   * The channel at a URL path (`live/NAME`, a rule's path) for a publisher or a configured
   * channel, created for publishing when missing (undefined when MAX_LIVE_CHANNELS are in use).
   */
  channel(path: string, create: boolean): LiveChannel | undefined {
    let c = this.channels.get(path);
    if (!c && create) {
      if (this.channels.size >= MAX_LIVE_CHANNELS) {
        for (const [n, x] of this.channels) {
          if (x.source !== 'publish' || x.publisher || x.viewers.size > 0) continue;
          this.channels.delete(n);
          for (const t of x.tracks) this.multicast?.release(t);
        }
        if (this.channels.size >= MAX_LIVE_CHANNELS) return undefined;
      }
      c = this.newChannel(path.startsWith('live/') ? path.slice('live/'.length) : path, 'publish', path);
      this.channels.set(path, c);
    }
    return c;
  }

  /**
   * True when a request is the live module's: a `live/` URI or a path a config rule makes live, or
   * a live session's id. ANNOUNCE and RECORD anywhere else stay with the file handlers (405).
   */
  claims(req: RtspRequest): boolean {
    if (this.target(req.uri) !== 'other') return true;
    const session = req.headers.get('Session');
    if (session === undefined) return false;
    const id = sessionIdOfHeader(session);
    const kind = this.ctx.registry.get(id)?.kind;
    return kind === 'live-viewer' || kind === 'publisher';
  }

  /**
   * Whether `req` (a publishing request: ANNOUNCE, SETUP mode=record, RECORD) comes from the ffmpeg
   * this server runs for that path's `ffmpeg:` channel. That publisher has no credentials, so
   * `--auth publish` would refuse it; it is recognized by process (or key) instead, once per
   * connection: the SETUPs and RECORD that follow its ANNOUNCE pass on the same connection.
   */
  async isOwnSourcePublisher(
    req: RtspRequest,
    conn: object & { remotePort?: number | undefined; localPort?: number | undefined },
  ): Promise<boolean> {
    const t = this.target(req.uri);
    if (t === undefined || t === 'other') return false;
    const channel = this.channels.get(t.path);
    if (channel?.source !== 'ffmpeg') return false;
    if (this.ownPublisherConns.get(conn) === t.path) return true;
    if (req.method !== 'ANNOUNCE' || !(await channel.admitsSourcePublisher(t.query.get('key'), conn))) return false;
    this.ownPublisherConns.set(conn, t.path);
    return true;
  }

  /** What a request URI names for the live module: see parseLiveTarget (with the config's live paths). */
  target(uri: string): ReturnType<typeof parseLiveTarget> {
    return parseLiveTarget(uri, this.opts.isLivePath);
  }

  private newChannel(name: string, source: LiveChannel['source'], path: string): LiveChannel {
    const c = new LiveChannel(name, source, this.ctx.clock, this.ctx.random, path, {
      scheduler: this.ctx.scheduler,
      totals: this.ctx.counters,
    });
    c.onTracksReplaced = (old) => {
      for (const t of old) this.multicast?.release(t);
    };
    return c;
  }

  async multicastGroup(
    track: object & Parameters<MulticastAllocator['groupFor']>[0],
    chosen?: { address: string; port?: number },
  ): Promise<MulticastGroup> {
    if (!this.multicast) throw new Error('multicast is not configured');
    const g = await this.multicast.groupFor(track, chosen);
    this.groupsByTrack.set(track, g);
    return g;
  }

  snapshot(): LiveChannelSnapshot[] {
    return [...this.channels.values()].map((c) => ({
      name: c.name,
      path: c.path,
      source: c.source,
      live: c.live,
      viewers: c.viewers.size,
      publisher: c.publisher ? { ...(c.publisher as RecordTarget).counters } : undefined,
      pull: this.pullSnapshot(c),
      tracks: c.tracks.map((t) => {
        const g = this.groupsByTrack.get(t);
        return {
          control: t.control,
          ssrc: t.sender.ssrc,
          packets: t.sender.stats.packets,
          octets: t.sender.stats.octets,
          sinks: t.sinks.size,
          ...t.pacing,
          multicast: g ? { group: g.address, port: g.port, ttl: g.ttl, members: g.members, sent: g.egress.sent } : undefined,
        };
      }),
    }));
  }

  private pullSnapshot(c: LiveChannel): LiveChannelSnapshot['pull'] {
    const p = this.pulls.get(c);
    const d = this.onDemand.get(c);
    return p
      ? {
          ...p.countersNow(),
          origin: p.url,
          playing: p.playing,
          transport: p.transportNow,
          onDemand: d !== undefined,
          active: d ? d.active : true,
        }
      : undefined;
  }

  async close(): Promise<void> {
    for (const d of this.onDemand.values()) this.ctx.clock.clearTimeout(d.timer);
    for (const p of this.pulls.values()) p.stop();
    const ffmpegExited = Promise.all(this.ffmpegSources.map((s) => s.stop()));
    for (const s of this.fileSources) s.stop();
    // Publishers first: their channels end, and their viewers get the BYE, as before.
    const live = [...this.ctx.registry.values()].filter((s) => s.kind !== 'file');
    for (const s of live.filter((x) => x.kind === 'publisher')) s.close('server shutdown');
    for (const s of live.filter((x) => x.kind === 'live-viewer')) s.close('server shutdown');
    await this.multicast?.close();
    for (const e of this.entries) await e.file.close();
    await ffmpegExited;
  }
}
