import { parseRtcpPackets } from '../../rtcp/index.ts';
import { parseRtspUrl, parseSession, parseTransport, resolveControlUrl, withoutUserinfo } from '../../rtsp/index.ts';
import type { ClientCredentials, RtspResponse } from '../../rtsp/index.ts';
import { RtspClientConnection } from '../../transport/rtsp-client.ts';
import type { ScheduledTask, Scheduler } from '../../transport/index.ts';
import type { Clock, TimerHandle } from '../../util/clock.ts';
import { createLogger } from '../../util/log.ts';
import type { Random } from '../../util/random.ts';
import type { LiveChannel } from './live-channel.ts';
import { tracksFromAnnouncedSdp } from './live-sdp.ts';
import type { AnnouncedTrack } from './live-sdp.ts';
import type { LiveTrackFormat } from './live-track.ts';
import { TrackRelay } from './track-relay.ts';

const log = createLogger('live');

/** Limits and timings of a pull; every one is a bound a failing or slow origin can reach. */
export interface PullTimings {
  /** First reconnect delay; doubled after each failed attempt up to `retryMaxMs`. */
  retryMinMs: number;
  retryMaxMs: number;
  /** Viewers stay joined this long while the origin is away; past it they get a BYE. */
  downGraceMs: number;
  /** No RTP from the origin for this long while playing counts as the origin gone. */
  silenceMs: number;
  /** Connect and per-request timeout towards the origin. */
  responseTimeoutMs: number;
  /** A run that delivered media for this long resets the reconnect delay to `retryMinMs`. */
  healthyRunMs: number;
}

export const PULL_DEFAULTS: PullTimings = {
  retryMinMs: 500,
  retryMaxMs: 30_000,
  downGraceMs: 10_000,
  silenceMs: 5000,
  responseTimeoutMs: 5000,
  healthyRunMs: 10_000,
};

/** Redirects (3xx + Location) an origin may send before DESCRIBE succeeds. */
export const PULL_MAX_REDIRECTS = 5;

export interface PullCounters {
  /** Connection attempts, successful PLAYs, and runs that ended (connection lost, silence, BYE). */
  attempts: number;
  plays: number;
  runsEnded: number;
  rtpReceived: number;
  relayed: number;
  malformed: number;
  wrongSsrc: number;
  senderReports: number;
  receiverReports: number;
  /** Times the viewers got a BYE because the origin stayed away past downGraceMs. */
  channelEnds: number;
}

/** What a pull needs of the server: its clock, randomness, scheduler and RTCP name. */
export interface PullContext {
  clock: Clock;
  random: Random;
  scheduler: Scheduler;
  cname: string;
}

interface Run {
  conn: RtspClientConnection;
  relays: TrackRelay[];
  aggregateUrl: string;
  sessionId: string | undefined;
  rtcpTasks: ScheduledTask[];
  keepAlive: TimerHandle | undefined;
  watchdog: TimerHandle | undefined;
  /** PLAY was sent: interleaved media is taken from then on. */
  playSent: boolean;
  playingSinceMs: number | undefined;
  lastRtpMs: number;
  ended: boolean;
}

/** SDP formats of the origin's tracks, in order (what the channel's tracks become). */
function formatsOf(tracks: AnnouncedTrack[]): LiveTrackFormat[] {
  return tracks.map((t) => t.format);
}

/**
 * An edge's live channel fed by an origin over RTSP (`serve --live NAME=rtsp://ORIGIN/PATH`): the
 * classic origin/edge split. It plays the origin's presentation through our RTSP client
 * (transport/rtsp-client.ts: credentials from the URL, Digest or Basic after a 401; RTSPS),
 * interleaved in the RTSP connection, and relays each track into the channel with the channel's
 * own SSRC, sequence numbers and timestamps (track-relay.ts): viewers see one continuous stream
 * across reconnects. The origin's SRs set the channel's NTP↔RTP mapping, so the edge's SRs carry
 * the origin's timing. It reports back as a receiver (RR + SDES, BYE when it leaves).
 *
 * When the run ends (connection lost, origin BYE, `silenceMs` without RTP) it reconnects with
 * exponential backoff (`retryMinMs` doubling to `retryMaxMs`). Viewers stay joined for
 * `downGraceMs`; past that the channel ends (BYE to every viewer) and DESCRIBE answers 503 with
 * Retry-After until the origin is back. An origin whose tracks change shape (codec, clock rate)
 * ends the channel first: viewers set up for the old tracks get a BYE.
 */
export class RtspPullSource {
  readonly counters: PullCounters = {
    attempts: 0,
    plays: 0,
    runsEnded: 0,
    rtpReceived: 0,
    relayed: 0,
    malformed: 0,
    wrongSsrc: 0,
    senderReports: 0,
    receiverReports: 0,
    channelEnds: 0,
  };
  /** The URL without credentials (what requests and logs carry). */
  readonly url: string;
  private readonly credentials: ClientCredentials | undefined;
  private readonly t: PullTimings;
  private run: Run | undefined;
  private stopped = false;
  private delayMs: number;
  private retryTimer: TimerHandle | undefined;
  private graceTimer: TimerHandle | undefined;

  constructor(
    private readonly channel: LiveChannel,
    url: string,
    private readonly ctx: PullContext,
    timings: Partial<PullTimings> = {},
    private readonly tls?: { ca?: Buffer; insecure?: boolean },
  ) {
    const u = parseRtspUrl(url);
    if (!u.ok || u.value.scheme === 'rtspu') throw new Error(`not an rtsp:// or rtsps:// URL: ${withoutUserinfo(url)}`);
    if (u.value.username !== undefined) this.credentials = { username: u.value.username, password: u.value.password ?? '' };
    this.url = withoutUserinfo(url);
    this.t = { ...PULL_DEFAULTS, ...timings };
    this.delayMs = this.t.retryMinMs;
  }

  /** True while a run plays the origin. */
  get playing(): boolean {
    return this.run?.playingSinceMs !== undefined && !this.run.ended;
  }

  start(): void {
    if (this.stopped || this.run) return;
    void this.attempt();
  }

  private async attempt(): Promise<void> {
    this.retryTimer = undefined;
    if (this.stopped) return;
    this.counters.attempts++;
    let run: Run | undefined;
    try {
      run = await this.open();
      if (this.stopped) {
        this.finish(run, 'stopped');
        return;
      }
      this.playing_(run);
    } catch (err) {
      if (run) this.finish(run, String((err as Error).message ?? err));
      else this.retry(String((err as Error).message ?? err));
    }
  }

  /** Connects, DESCRIBEs (following redirects), SETUPs every track interleaved and PLAYs. */
  private async open(): Promise<Run> {
    let url = this.url;
    for (let hop = 0; ; hop++) {
      const u = parseRtspUrl(url);
      if (!u.ok) throw new Error(`redirected to a URL that is not rtsp://: ${url}`);
      const conn = await RtspClientConnection.connect({
        host: u.value.host,
        port: u.value.port,
        random: this.ctx.random,
        responseTimeoutMs: this.t.responseTimeoutMs,
        connectTimeoutMs: this.t.responseTimeoutMs,
        ...(this.credentials ? { credentials: this.credentials } : {}),
        ...(u.value.scheme === 'rtsps' ? { tls: this.tls ?? {} } : {}),
      });
      const run: Run = {
        conn,
        relays: [],
        aggregateUrl: url,
        sessionId: undefined,
        rtcpTasks: [],
        keepAlive: undefined,
        watchdog: undefined,
        playSent: false,
        playingSinceMs: undefined,
        lastRtpMs: this.ctx.clock.now(),
        ended: false,
      };
      this.run = run;
      conn.onClose = (err) => this.finish(run, err?.message ?? 'the origin closed the connection');
      conn.onInterleaved = (ch, data) => this.interleaved(run, ch, data);
      try {
        const options = await this.request(run, 'OPTIONS', url, {}, [200, 404, 405, 501]);
        const getParameter = /\bGET_PARAMETER\b/i.test(options.headers.get('Public') ?? '');
        const res = await this.request(run, 'DESCRIBE', url, { Accept: 'application/sdp' }, [200, 301, 302, 303, 305, 307]);
        if (res.statusCode >= 300) {
          const loc = res.headers.get('Location');
          if (!loc || hop >= PULL_MAX_REDIRECTS)
            throw new Error(loc ? `more than ${PULL_MAX_REDIRECTS} redirects` : 'redirect without Location');
          log.info('origin redirects', { channel: this.channel.path, to: withoutUserinfo(loc) });
          url = withoutUserinfo(loc);
          run.ended = true;
          conn.onClose = () => undefined;
          conn.close();
          continue;
        }
        await this.setupAndPlay(run, url, res, getParameter);
        return run;
      } catch (err) {
        this.finish(run, (err as Error).message);
        throw err;
      }
    }
  }

  private async setupAndPlay(run: Run, url: string, res: RtspResponse, getParameter: boolean): Promise<void> {
    const tracks = tracksFromAnnouncedSdp(res.body.toString('utf8'));
    if (!tracks.ok) throw new Error(`the origin's SDP: ${tracks.reason}`);
    const base = res.headers.get('Content-Base') ?? res.headers.get('Content-Location') ?? url;
    const slashBase = base.endsWith('/') ? base : `${base}/`;
    run.aggregateUrl = base.endsWith('/') && !url.endsWith('/') ? base.slice(0, -1) : base;
    run.relays = tracks.tracks.map((a) => new TrackRelay(a, { ssrc: this.ctx.random.uint32(), cname: this.ctx.cname }));
    let timeoutSec = 60;
    for (const [i, a] of tracks.tracks.entries()) {
      const control = a.control === '' || a.control === '*' ? run.aggregateUrl : resolveControlUrl(slashBase, a.control);
      const headers: Record<string, string> = { Transport: `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}` };
      if (run.sessionId) headers.Session = run.sessionId;
      const setup = await this.request(run, 'SETUP', control, headers);
      const s = parseSession(setup.headers.get('Session') ?? '');
      if (s.ok) {
        run.sessionId = s.value.id;
        if (s.value.timeout) timeoutSec = s.value.timeout;
      }
      const tr = parseTransport(setup.headers.get('Transport') ?? '');
      const answer = tr.ok ? tr.value[0] : undefined;
      const ch = answer?.interleaved;
      if (ch && (ch[0] !== 2 * i || ch[1] !== 2 * i + 1))
        throw new Error(`the origin moved track ${i + 1} to interleaved channels ${ch[0]}-${ch[1]}`);
      if (answer?.ssrc !== undefined) run.relays[i]!.ssrc = answer.ssrc >>> 0;
    }
    if (!run.sessionId) throw new Error('the origin answered SETUP without a Session');
    // The tracks become the channel's; a change of shape ends the viewers of the old ones first.
    const formats = formatsOf(tracks.tracks);
    if (
      this.channel.live &&
      !sameShapes(
        this.channel.tracks.map((t) => t.format),
        formats,
      )
    ) {
      this.endChannel('the origin changed its tracks');
    }
    this.channel.setFormats(formats);
    // Media may follow the PLAY answer in the same read, before its promise resolves: take it from now.
    run.playSent = true;
    await this.request(run, 'PLAY', run.aggregateUrl, { Session: run.sessionId, Range: 'npt=0-' });
    // Keep-alive well inside the origin's timeout (ffmpeg pings at half of it).
    const every = Math.max(1, timeoutSec / 2) * 1000;
    const ping = () => {
      run.keepAlive = this.ctx.clock.setTimeout(() => {
        if (run.ended) return;
        this.request(run, getParameter ? 'GET_PARAMETER' : 'OPTIONS', run.aggregateUrl, { Session: run.sessionId! }).catch((err: unknown) =>
          log.warn('keep-alive to the origin failed', { channel: this.channel.path, error: String(err) }),
        );
        ping();
      }, every);
    };
    ping();
  }

  private async request(
    run: Run,
    method: string,
    uri: string,
    headers: Record<string, string>,
    accept: number[] = [200],
  ): Promise<RtspResponse> {
    const res = await run.conn.request(method, uri, headers);
    if (!accept.includes(res.statusCode)) {
      const why = res.statusCode === 401 ? (this.credentials ? ': credentials refused' : ': credentials needed in the URL') : '';
      throw new Error(`${method} ${uri}: ${res.statusCode} ${res.reason}${why}`);
    }
    return res;
  }

  /** PLAY answered: media flows; the channel is live (again), the viewers' wait is over. */
  private playing_(run: Run): void {
    const now = this.ctx.clock.now();
    run.playingSinceMs = now;
    run.lastRtpMs = now;
    this.counters.plays++;
    this.ctx.clock.clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    if (!this.channel.live) this.channel.goLive();
    log.info('pulling from the origin', { channel: this.channel.path, origin: run.aggregateUrl, tracks: run.relays.length });
    for (const [i, r] of run.relays.entries()) {
      const task: ScheduledTask = {
        run: (t) => {
          if (run.ended) return Infinity;
          run.conn.sendInterleaved(2 * i + 1, r.rtcp.report(t));
          this.counters.receiverReports++;
          return t + r.rtcp.nextIntervalMs(() => this.ctx.random.float());
        },
      };
      run.rtcpTasks.push(task);
      this.ctx.scheduler.schedule(task, now + r.rtcp.nextIntervalMs(() => this.ctx.random.float()));
    }
    const watch = () => {
      run.watchdog = this.ctx.clock.setTimeout(
        () => {
          if (run.ended) return;
          const quiet = this.ctx.clock.now() - run.lastRtpMs;
          if (quiet >= this.t.silenceMs) this.finish(run, `no RTP from the origin for ${Math.round(quiet / 1000)} s`);
          else watch();
        },
        Math.max(100, this.t.silenceMs / 4),
      );
    };
    watch();
  }

  private interleaved(run: Run, channel: number, data: Buffer): void {
    if (run.ended || !run.playSent) return;
    const i = channel >> 1;
    const relay = run.relays[i];
    if (!relay) return;
    const track = this.channel.tracks[i];
    const now = this.ctx.clock.now();
    if ((channel & 1) === 0) {
      this.counters.rtpReceived++;
      const outcome = relay.rtp(data, track, now, this.ctx.clock.wallNow());
      if (outcome === 'relayed') {
        run.lastRtpMs = now;
        this.counters.relayed++;
        if (run.playingSinceMs !== undefined && now - run.playingSinceMs >= this.t.healthyRunMs) this.delayMs = this.t.retryMinMs;
      } else if (outcome === 'malformed') this.counters.malformed++;
      else this.counters.wrongSsrc++;
      return;
    }
    const parsed = parseRtcpPackets(data);
    if (!parsed.ok) return;
    for (const p of parsed.value) {
      if (p.type === 'sr' && relay.senderReport(p.ssrc, p.senderInfo, track, now)) this.counters.senderReports++;
      // The origin's stream ended (its channel stopped, the file ended): come again.
      if (p.type === 'bye' && relay.ssrc !== undefined && p.ssrcs.includes(relay.ssrc)) {
        this.finish(run, 'the origin sent BYE');
        return;
      }
    }
  }

  /** Ends a run (once): our RR + BYE and TEARDOWN when the connection still stands, then a reconnect. */
  private finish(run: Run, reason: string): void {
    if (run.ended) {
      if (this.run === run) this.run = undefined;
      return;
    }
    run.ended = true;
    for (const task of run.rtcpTasks) this.ctx.scheduler.remove(task);
    this.ctx.clock.clearTimeout(run.keepAlive);
    this.ctx.clock.clearTimeout(run.watchdog);
    run.conn.onClose = () => undefined;
    if (run.conn.isOpen) {
      const now = this.ctx.clock.now();
      if (run.playingSinceMs !== undefined) {
        for (const [i, r] of run.relays.entries()) run.conn.sendInterleaved(2 * i + 1, r.rtcp.report(now, reason));
      }
      const close = () => run.conn.close();
      if (run.sessionId) run.conn.request('TEARDOWN', run.aggregateUrl, { Session: run.sessionId }).then(close, close);
      else close();
    }
    if (this.run === run) this.run = undefined;
    if (run.playingSinceMs !== undefined) this.counters.runsEnded++;
    if (this.stopped) return;
    this.retry(reason);
  }

  /** Schedules the next attempt; viewers keep waiting until downGraceMs is over. */
  private retry(reason: string): void {
    if (this.stopped || this.retryTimer) return;
    const wait = this.delayMs;
    this.delayMs = Math.min(this.t.retryMaxMs, this.delayMs * 2);
    log.warn('origin unavailable; reconnecting', { channel: this.channel.path, origin: this.url, reason, inMs: wait });
    this.retryTimer = this.ctx.clock.setTimeout(() => void this.attempt(), wait);
    const retryAtMs = this.ctx.clock.now() + wait;
    if (!this.channel.live) {
      // Nobody is watching a stream: DESCRIBE answers 503 + Retry-After until it comes back.
      this.channel.sourceFailed(`origin ${this.url}: ${reason}`, retryAtMs);
      return;
    }
    this.graceTimer ??= this.ctx.clock.setTimeout(() => {
      this.graceTimer = undefined;
      if (this.playing) return;
      this.endChannel(`the origin is away for more than ${this.t.downGraceMs / 1000} s (${reason})`);
      this.channel.sourceFailed(`origin ${this.url}: ${reason}`, this.ctx.clock.now() + this.delayMs);
    }, this.t.downGraceMs);
  }

  private endChannel(reason: string): void {
    if (!this.channel.live) return;
    this.counters.channelEnds++;
    log.warn('live channel ends: its origin is away', { channel: this.channel.path, reason });
    this.channel.end(reason);
  }

  /** Stops pulling: RR + BYE and TEARDOWN to the origin; the hub ends the viewers. */
  stop(): void {
    this.stopped = true;
    this.ctx.clock.clearTimeout(this.retryTimer);
    this.ctx.clock.clearTimeout(this.graceTimer);
    if (this.run) this.finish(this.run, 'edge shutdown');
  }
}

function sameShapes(a: LiveTrackFormat[], b: LiveTrackFormat[]): boolean {
  return (
    a.length === b.length &&
    a.every((f, i) => {
      const g = b[i]!;
      return f.media === g.media && f.payloadType === g.payloadType && f.clockRate === g.clockRate && f.rtpmap === g.rtpmap;
    })
  );
}
