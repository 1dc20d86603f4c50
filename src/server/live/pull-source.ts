import { parseRtcpPackets } from '../../rtcp/index.ts';
import { parseRtspUrl, parseSession, parseTransport, resolveControlUrl, withoutUserinfo } from '../../rtsp/index.ts';
import type { ClientCredentials, RtspResponse } from '../../rtsp/index.ts';
import type dgram from 'node:dgram';
import { RtspClientConnection } from '../../transport/rtsp-client.ts';
import { bindUdpPortPair } from '../../transport/index.ts';
import type { PortRange, ScheduledTask, Scheduler, UdpPortPair } from '../../transport/index.ts';
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
  /** Over UDP: no RTP this long after PLAY falls back to TCP (as ffmpeg and rtspsrc do). */
  udpFallbackMs: number;
}

export const PULL_DEFAULTS: PullTimings = {
  retryMinMs: 500,
  retryMaxMs: 30_000,
  downGraceMs: 10_000,
  silenceMs: 5000,
  responseTimeoutMs: 5000,
  healthyRunMs: 10_000,
  udpFallbackMs: 3000,
};

/** How the edge takes the origin's media: interleaved in the RTSP connection, or RTP/RTCP over UDP. */
export type PullTransport = 'tcp' | 'udp';

export const PULL_TRANSPORTS: readonly PullTransport[] = ['tcp', 'udp'];

/** How a pull reaches its origin. */
export interface PullOptions {
  /** `udp` falls back to `tcp` (for the rest of the source's life) when no RTP comes over UDP. Default tcp. */
  transport?: PullTransport;
  /**
   * For `rtsps://` origins: the CA (PEM) to check the origin's certificate against instead of the
   * system's, or `insecure` to accept any certificate (logged at warn on every connection).
   */
  tls?: { ca?: Buffer; insecure?: boolean };
}

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
  /** Origin → edge RTP lost (sequence gaps; over UDP, summed over runs). */
  lost: number;
  /** UDP datagrams from an address or port other than the origin's, dropped. */
  foreignPackets: number;
  /** Runs over UDP that got no RTP within udpFallbackMs and went over to TCP. */
  udpFallbacks: number;
}

/** What a pull needs of the server: its clock, randomness, scheduler and RTCP name. */
export interface PullContext {
  clock: Clock;
  random: Random;
  scheduler: Scheduler;
  cname: string;
  /** Where the UDP ports of a pull over UDP are taken (the server's --rtp-ports). */
  rtpPortRange?: PortRange;
}

interface Run {
  conn: RtspClientConnection;
  transport: PullTransport;
  relays: TrackRelay[];
  /** Over UDP: each track's port pair and the origin's RTCP port (server_port) to report to. */
  udp: { pair: UdpPortPair; rtcpPort: number | undefined }[];
  /** The origin's address as connected (UDP datagrams from anywhere else are dropped). */
  originIp: string;
  rtpSeen: boolean;
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
 * interleaved in the RTSP connection or over UDP (a port pair per track, datagrams only from the
 * origin's address and server_port; no RTP within `udpFallbackMs` goes over to TCP for good, as
 * ffmpeg and rtspsrc do), and relays each track into the channel with the channel's
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
    lost: 0,
    foreignPackets: 0,
    udpFallbacks: 0,
  };
  /** The URL without credentials (what requests and logs carry). */
  readonly url: string;
  private readonly credentials: ClientCredentials | undefined;
  private readonly t: PullTimings;
  private run: Run | undefined;
  private stopped = false;
  /** An attempt is connecting (start() then lets it go on instead of starting another). */
  private opening = false;
  private delayMs: number;
  private retryTimer: TimerHandle | undefined;
  private graceTimer: TimerHandle | undefined;
  /** The transport of the next run: the configured one until UDP brought nothing. */
  private transport: PullTransport;
  /** Loss of the runs that ended. */
  private lostBefore = 0;
  private readonly tls: PullOptions['tls'];

  constructor(
    private readonly channel: LiveChannel,
    url: string,
    private readonly ctx: PullContext,
    timings: Partial<PullTimings> = {},
    options: PullOptions = {},
  ) {
    this.transport = options.transport ?? 'tcp';
    this.tls = options.tls;
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

  /** The transport runs use now (`udp` until a fallback). */
  get transportNow(): PullTransport {
    return this.transport;
  }

  /** Counters with the loss of the run in progress. */
  countersNow(): PullCounters {
    let lost = this.lostBefore;
    for (const r of this.run?.relays ?? []) lost += Math.max(0, r.rtcp.current?.snapshot().lost ?? 0);
    return { ...this.counters, lost };
  }

  /** Starts pulling (again, after stop(): an on-demand source comes and goes). */
  start(): void {
    this.stopped = false;
    if (this.run || this.retryTimer || this.opening) return;
    this.delayMs = this.t.retryMinMs;
    if (this.tls?.insecure && /^rtsps:/i.test(this.url))
      log.warn('the origin certificate is NOT checked (insecure): anyone on the path can pose as the origin', {
        channel: this.channel.path,
        origin: this.url,
      });
    void this.attempt();
  }

  private async attempt(): Promise<void> {
    this.retryTimer = undefined;
    if (this.stopped) return;
    this.counters.attempts++;
    let run: Run | undefined;
    this.opening = true;
    try {
      run = await this.open().finally(() => (this.opening = false));
      if (this.stopped) {
        this.finish(run, 'stopped');
        return;
      }
      this.playing_(run);
    } catch (err) {
      const reason = String((err as Error).message ?? err);
      if (run) this.finish(run, reason);
      else this.retry(reason);
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
        certificateHint:
          'give its CA with --pull-tls-ca FILE (pullTlsCa; sourceTlsCa in a config rule), or --pull-tls-insecure (sourceTlsInsecure) to accept any certificate',
      });
      const run: Run = {
        conn,
        transport: this.transport,
        relays: [],
        udp: [],
        originIp: conn.remoteAddress,
        rtpSeen: false,
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
        if (err instanceof UdpRefused) this.fallBackToTcp(run, err.message);
        else this.finish(run, (err as Error).message);
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
      let pair: UdpPortPair | undefined;
      if (run.transport === 'udp') {
        pair = await bindUdpPortPair(run.conn.localAddress, this.ctx.rtpPortRange, () => this.ctx.random.float());
        // Held by the run from now on: finish() closes it whatever happens next.
        run.udp.push({ pair, rtcpPort: undefined });
      }
      const headers: Record<string, string> = {
        Transport: pair
          ? `RTP/AVP;unicast;client_port=${pair.rtpPort}-${pair.rtcpPort}`
          : `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}`,
      };
      if (run.sessionId) headers.Session = run.sessionId;
      const setup = await this.request(run, 'SETUP', control, headers, pair ? [200, 461] : [200]);
      if (setup.statusCode === 461) throw new UdpRefused(`the origin refused UDP for track ${i + 1} (461)`);
      const s = parseSession(setup.headers.get('Session') ?? '');
      if (s.ok) {
        run.sessionId = s.value.id;
        if (s.value.timeout) timeoutSec = s.value.timeout;
      }
      const tr = parseTransport(setup.headers.get('Transport') ?? '');
      const answer = tr.ok ? tr.value[0] : undefined;
      if (pair) {
        if (answer?.lowerTransport === 'TCP' || answer?.interleaved)
          throw new UdpRefused(`the origin answered track ${i + 1}'s UDP SETUP with TCP`);
        run.udp[i]!.rtcpPort = answer?.serverPort?.[1];
        this.listen(run, i, pair, answer?.serverPort);
      } else {
        const ch = answer?.interleaved;
        if (ch && (ch[0] !== 2 * i || ch[1] !== 2 * i + 1))
          throw new Error(`the origin moved track ${i + 1} to interleaved channels ${ch[0]}-${ch[1]}`);
      }
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
    // The viewers' SRs wait for the origin's timing rather than guess it from packet arrival.
    for (const t of this.channel.tracks) t.timingFromSource = true;
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
    log.info('pulling from the origin', {
      channel: this.channel.path,
      origin: run.aggregateUrl,
      tracks: run.relays.length,
      transport: run.transport,
    });
    // Over UDP, one report each way at once opens the path through NATs and firewalls (as ffmpeg does).
    if (run.transport === 'udp') for (const [i, r] of run.relays.entries()) this.sendRtcp(run, i, r.rtcp.report(now));
    for (const [i, r] of run.relays.entries()) {
      const task: ScheduledTask = {
        run: (t) => {
          if (run.ended) return Infinity;
          this.sendRtcp(run, i, r.rtcp.report(t));
          this.counters.receiverReports++;
          return t + r.rtcp.nextIntervalMs(() => this.ctx.random.float());
        },
      };
      run.rtcpTasks.push(task);
      this.ctx.scheduler.scheduleLazy(task, now + r.rtcp.nextIntervalMs(() => this.ctx.random.float()));
    }
    const watch = () => {
      run.watchdog = this.ctx.clock.setTimeout(
        () => {
          if (run.ended) return;
          const t = this.ctx.clock.now();
          if (run.transport === 'udp' && !run.rtpSeen && t - (run.playingSinceMs ?? t) >= this.t.udpFallbackMs) {
            this.fallBackToTcp(run, `no RTP over UDP within ${this.t.udpFallbackMs} ms`);
            return;
          }
          const quiet = t - run.lastRtpMs;
          if (quiet >= this.t.silenceMs) this.finish(run, `no RTP from the origin for ${Math.round(quiet / 1000)} s`);
          else watch();
        },
        Math.max(50, Math.min(this.t.silenceMs, run.transport === 'udp' ? this.t.udpFallbackMs : Infinity) / 4),
      );
    };
    watch();
  }

  private interleaved(run: Run, channel: number, data: Buffer): void {
    if (run.transport !== 'tcp') return;
    if ((channel & 1) === 0) this.rtpIn(run, channel >> 1, data);
    else this.rtcpIn(run, channel >> 1, data);
  }

  /** Track i's datagrams over UDP: only from the origin's address (and its server_port, when it named one). */
  private listen(run: Run, i: number, pair: UdpPortPair, serverPort: [number, number] | undefined): void {
    const from = (kind: 0 | 1) => (msg: Buffer, rinfo: dgram.RemoteInfo) => {
      const port = serverPort?.[kind];
      if (rinfo.address !== run.originIp || (port !== undefined && rinfo.port !== port)) {
        this.counters.foreignPackets++;
        return;
      }
      if (kind === 0) this.rtpIn(run, i, msg);
      else this.rtcpIn(run, i, msg);
    };
    pair.rtp.on('message', from(0));
    pair.rtcp.on('message', from(1));
    for (const sock of [pair.rtp, pair.rtcp]) sock.on('error', (err) => log.debug('pull udp error', { error: String(err) }));
  }

  /** An RTCP compound about track i to the origin: interleaved, or to its RTCP port over UDP. */
  private sendRtcp(run: Run, i: number, buf: Buffer): void {
    if (run.transport === 'tcp') {
      run.conn.sendInterleaved(2 * i + 1, buf);
      return;
    }
    const u = run.udp[i];
    if (u?.rtcpPort !== undefined) u.pair.rtcp.send(buf, u.rtcpPort, run.originIp, () => undefined);
  }

  private rtpIn(run: Run, i: number, data: Buffer): void {
    if (run.ended || !run.playSent) return;
    const relay = run.relays[i];
    if (!relay) return;
    const now = this.ctx.clock.now();
    this.counters.rtpReceived++;
    const outcome = relay.rtp(data, this.channel.tracks[i], now, this.ctx.clock.wallNow());
    if (outcome === 'relayed') {
      run.lastRtpMs = now;
      run.rtpSeen = true;
      this.counters.relayed++;
      if (run.playingSinceMs !== undefined && now - run.playingSinceMs >= this.t.healthyRunMs) this.delayMs = this.t.retryMinMs;
    } else if (outcome === 'malformed') this.counters.malformed++;
    else this.counters.wrongSsrc++;
  }

  private rtcpIn(run: Run, i: number, data: Buffer): void {
    if (run.ended || !run.playSent) return;
    const relay = run.relays[i];
    if (!relay) return;
    const parsed = parseRtcpPackets(data);
    if (!parsed.ok) return;
    const now = this.ctx.clock.now();
    for (const p of parsed.value) {
      if (p.type === 'sr' && relay.senderReport(p.ssrc, p.senderInfo, this.channel.tracks[i], now, this.ctx.clock.wallNow()))
        this.counters.senderReports++;
      // The origin's stream ended (its channel stopped, the file ended): come again.
      if (p.type === 'bye' && relay.ssrc !== undefined && p.ssrcs.includes(relay.ssrc)) {
        this.finish(run, 'the origin sent BYE');
        return;
      }
    }
  }

  /** UDP brought nothing (a firewall, a NAT, an origin that will not send): TCP from now on, at once. */
  private fallBackToTcp(run: Run, reason: string): void {
    this.counters.udpFallbacks++;
    this.transport = 'tcp';
    log.warn('pulling over UDP failed: falling back to TCP for good', { channel: this.channel.path, origin: this.url, reason });
    this.finish(run, reason, 0);
  }

  /** Ends a run (once): our RR + BYE and TEARDOWN when the connection still stands, then a reconnect. */
  private finish(run: Run, reason: string, retryInMs?: number): void {
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
        for (const [i, r] of run.relays.entries()) this.sendRtcp(run, i, r.rtcp.report(now, reason));
      }
      const close = () => run.conn.close();
      if (run.sessionId) run.conn.request('TEARDOWN', run.aggregateUrl, { Session: run.sessionId }).then(close, close);
      else close();
    }
    for (const r of run.relays) this.lostBefore += Math.max(0, r.rtcp.current?.snapshot().lost ?? 0);
    // Datagrams still in flight find the sockets closed; the BYE above was sent before.
    for (const u of run.udp) u.pair.close();
    if (this.run === run) this.run = undefined;
    if (run.playingSinceMs !== undefined) this.counters.runsEnded++;
    if (this.stopped) return;
    this.retry(reason, retryInMs);
  }

  /** Schedules the next attempt; viewers keep waiting until downGraceMs is over. */
  private retry(reason: string, inMs?: number): void {
    if (this.stopped || this.retryTimer) return;
    const wait = inMs ?? this.delayMs;
    if (inMs === undefined) this.delayMs = Math.min(this.t.retryMaxMs, this.delayMs * 2);
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
  stop(reason = 'edge shutdown'): void {
    this.stopped = true;
    this.ctx.clock.clearTimeout(this.retryTimer);
    this.ctx.clock.clearTimeout(this.graceTimer);
    this.retryTimer = undefined;
    this.graceTimer = undefined;
    if (this.run) this.finish(this.run, reason);
  }
}

/** The origin will not send over UDP (461, or a TCP answer): the source goes over to TCP. */
class UdpRefused extends Error {}

function sameShapes(a: LiveTrackFormat[], b: LiveTrackFormat[]): boolean {
  return (
    a.length === b.length &&
    a.every((f, i) => {
      const g = b[i]!;
      return f.media === g.media && f.payloadType === g.payloadType && f.clockRate === g.clockRate && f.rtpmap === g.rtpmap;
    })
  );
}
