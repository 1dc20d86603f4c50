import os from 'node:os';
import type dgram from 'node:dgram';
import { parseRange, parseRtpInfo, parseRtspUrl, parseSession, parseTransport, withoutUserinfo } from '../rtsp/index.ts';
import type { ClientCredentials } from '../rtsp/index.ts';
import type { RtspResponse, TransportSpec } from '../rtsp/index.ts';
import { parseSdp } from '../sdp/index.ts';
import { Scheduler, bindUdpPortPair } from '../transport/index.ts';
import { ImpairmentStage, PATH_RETURN, PATH_RTCP, PATH_RTP, pathOptions, trackModel } from '../transport/index.ts';
import { pathSeed } from '../impair/index.ts';
import type { ImpairmentSpec, ScheduledTask, UdpPortPair } from '../transport/index.ts';
import type { Clock, TimerHandle } from '../util/clock.ts';
import { realClock } from '../util/clock.ts';
import { cryptoRandom } from '../util/random.ts';
import type { Random } from '../util/random.ts';
import { createLogger } from '../util/log.ts';
import { RtspClientConnection, RtspClientError } from '../transport/rtsp-client.ts';
import { tracksFromSdp } from './sdp-tracks.ts';
import type { SdpTrack } from './sdp-tracks.ts';
import { TrackReceiver } from './track-receiver.ts';
import type { JitterSettings, ReceivedUnit } from './track-receiver.ts';

const log = createLogger('play');

export interface PlayOptions {
  url: string;
  transport: 'udp' | 'tcp';
  /** Switch to TCP when no RTP arrives over UDP within this time (0: never). */
  udpFallbackMs: number;
  startNpt?: number;
  durationSec?: number;
  jitter: JitterSettings;
  waitKeyframe: boolean;
  /** Give up when no packet arrived for this long after the first. */
  idleTimeoutMs: number;
  /** Where the cname, SSRCs and RR intervals draw from (default cryptoRandom; the lab seeds one). */
  random?: Random;
  clock?: Clock;
  onUnit(unit: ReceivedUnit): void;
  /** Called once the tracks are known (before PLAY). */
  onTracks?(tracks: SdpTrack[]): void;
  /**
   * Network emulation on our ingress (`play --impair`): every RTP packet received (and RTCP when
   * the spec says `rtcp`) goes through a seeded netem stage before the track receiver sees it.
   * Track i's RTP uses seed `pathSeed(seed, i, 0)`, its RTCP `pathSeed(seed, i, 1)`; the fate
   * logs are the ground truth.
   */
  impairment?: ImpairmentSpec;
  /**
   * Network emulation on the return path: every RTCP packet we send (RRs, BYE) goes through a
   * seeded netem stage, track i's with seed `pathSeed(seed, i, PATH_RETURN)` (its RTP model,
   * `trackModel`, is this spec's model for track i). The stages are `returnStages`.
   */
  returnImpairment?: ImpairmentSpec;
  /**
   * A defined end of a `durationSec` run (the lab), so that the sender's and the receiver's counts
   * cover the same packets: PAUSE (the server stops sending), `drained()` (packets in flight have
   * arrived: the lab waits until its emulators hold none), the final RR of every track,
   * `reported()` (the server has it), then TEARDOWN. Without it, the end is TEARDOWN at once.
   */
  endOfRun?: { drained(): Promise<void>; reported(): Promise<void> };
  /** RTSP connect and response timeout (default 10 s). */
  responseTimeoutMs?: number;
  /** For `rtsps://` URLs: the CA to check the server's certificate against, or accept any. */
  tls?: { ca?: Buffer; insecure?: boolean };
}

/** A track's ingress impairment: RTP always, the server's RTCP only when the spec asks (`rtcp`). */
export interface TrackImpairment {
  rtp: ImpairmentStage;
  rtcp: ImpairmentStage | undefined;
  /** Interleaved (TCP): losses become retransmissions (ImpairmentPipelineOptions.reliable). */
  reliable: boolean;
}

export type PlayEnd = { ok: true; reason: 'duration' | 'end-of-stream' | 'stopped' } | { ok: false; reason: string };

const MAX_REDIRECTS = 5;
const CLIENT_PORT_RANGE = { min: 20000, max: 59999 };

interface TrackPath {
  receiver: TrackReceiver;
  impairment?: TrackImpairment;
  transport: TransportSpec;
  udp?: UdpPortPair;
  rtcpTask: ScheduledTask;
  pollTask: ScheduledTask;
}

/**
 * A playing RTSP session from the client side (RFC 2326): OPTIONS, DESCRIBE (following
 * redirects), SETUP of every track we can receive (UDP or interleaved), PLAY, keep-alives before
 * the session timeout, TEARDOWN at the end; UDP falls back to TCP when no RTP comes. Packets go
 * through each track's receiver (statistics, jitter buffer, depacketizer) to `onUnit`.
 */
export class PlaySession {
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private conn: RtspClientConnection | undefined;
  private url: string;
  private readonly credentials: ClientCredentials | undefined;
  private sessionId: string | undefined;
  private timeoutSec = 60;
  private supportsGetParameter = false;
  private paths: TrackPath[] = [];
  tracks: SdpTrack[] = [];
  private keepAlive: TimerHandle | undefined;
  private watchdog: TimerHandle | undefined;
  private endTimer: TimerHandle | undefined;
  private finished: ((end: PlayEnd) => void) | undefined;
  private playStartedMs = 0;
  private rangeEnd: number | undefined;
  private firstPacketMs: number | undefined;
  transportUsed: 'udp' | 'tcp';
  readonly cname: string;
  private readonly random: Random;
  paused = false;
  /**
   * What we could not use: datagrams from an address other than the server's RTP/RTCP ports,
   * interleaved frames on channels we did not set up, and how often UDP fell back to TCP.
   */
  readonly counters = { foreignPackets: 0, fallbacks: 0, keepAlives: 0, keepAliveFailures: 0 };
  /** RTSP requests sent, by method (tests and the stats file read it). */
  readonly requests: Record<string, number> = {};
  /** Ingress impairment per track index (`impairment` option), kept across a TCP fallback. */
  readonly impairments = new Map<number, TrackImpairment>();
  /** Return-path stages per track index (returnImpairment). */
  readonly returnStages = new Map<number, { stage: ImpairmentStage; reliable: boolean }>();
  /** Malformed RTSP messages from the server, summed over every control connection. */
  private malformedBefore = 0;

  constructor(private readonly o: PlayOptions) {
    this.clock = o.clock ?? realClock;
    this.random = o.random ?? cryptoRandom;
    this.cname = `streamlab-play-${this.random.hex(4)}@${os.hostname()}`;
    this.scheduler = new Scheduler(this.clock);
    // Credentials in the URL go into Authorization only: requests and logs carry the URL without them.
    const u = parseRtspUrl(o.url);
    if (u.ok && u.value.username !== undefined) this.credentials = { username: u.value.username, password: u.value.password ?? '' };
    this.url = withoutUserinfo(o.url);
    this.transportUsed = o.transport;
  }

  get receivers(): TrackReceiver[] {
    return this.paths.map((p) => p.receiver);
  }

  /** Local ports of the UDP sockets receiving RTP and RTCP now (none over TCP). */
  get udpPorts(): number[] {
    return this.paths.flatMap((p) => (p.udp ? [p.udp.rtpPort, p.udp.rtcpPort] : []));
  }

  /** Malformed RTSP responses and unmatched responses the server sent, over every connection. */
  get malformedRtsp(): number {
    return this.malformedBefore + (this.conn ? this.conn.counters.malformedResponses + this.conn.counters.unmatchedResponses : 0);
  }

  /** Runs the session until it ends; resolves with how it ended (never rejects). */
  run(): Promise<PlayEnd> {
    return new Promise<PlayEnd>((resolve) => {
      this.finished = resolve;
      this.start(this.o.transport).catch((err: unknown) => this.end({ ok: false, reason: describeError(err) }));
    });
  }

  /** Ends the session now (Ctrl-C, --duration): TEARDOWN, BYE. */
  stop(reason: PlayEnd = { ok: true, reason: 'stopped' }): void {
    this.end(reason);
  }

  async pause(): Promise<void> {
    if (!this.conn || !this.finished || this.paused) return;
    this.paused = true;
    this.clock.clearTimeout(this.watchdog);
    await this.request('PAUSE', this.aggregateUrl(), {});
  }

  async resume(): Promise<void> {
    if (!this.conn || !this.finished || !this.paused) return;
    this.paused = false;
    // Arrival times jump by the pause while RTP timestamps do not: start the playout clocks anew.
    const now = this.clock.now();
    for (const p of this.paths) p.receiver.restartPlayout(now);
    this.resumedMs = now;
    await this.request('PLAY', this.aggregateUrl(), {});
    this.armWatchdog();
  }

  /** When the last resume happened: the silence of a pause does not count as idle. */
  private resumedMs = -Infinity;

  private aggregateUrl(): string {
    return this.baseUrl ?? this.url;
  }

  private baseUrl: string | undefined;

  private async start(transport: 'udp' | 'tcp', startNpt = this.o.startNpt): Promise<void> {
    this.transportUsed = transport;
    const sdpText = await this.describe();
    const sdp = parseSdp(sdpText.body);
    if (!sdp.ok) throw new RtspClientError('CLIENT_ERR_SDP', `the server's SDP is malformed (${sdp.code})`);
    this.tracks = tracksFromSdp(sdp.value, sdpText.base);
    for (const t of this.tracks) if (!t.codec) log.warn('track not received', { track: t.index, reason: t.unsupported });
    const wanted = this.tracks.filter((t) => t.codec);
    if (wanted.length === 0) throw new RtspClientError('CLIENT_ERR_NO_TRACKS', 'the presentation has no track we can receive');
    this.o.onTracks?.(this.tracks);
    for (const [i, t] of wanted.entries()) await this.setup(t, transport, i);
    const headers: Record<string, string> = {};
    if (startNpt !== undefined) headers.Range = `npt=${startNpt.toFixed(3)}-`;
    const res = await this.request('PLAY', this.aggregateUrl(), headers);
    this.applyPlayResponse(res);
    this.playStartedMs = this.clock.now();
    this.armKeepAlive();
    this.armWatchdog();
    if (this.o.durationSec !== undefined && this.endTimer === undefined) {
      this.endTimer = this.clock.setTimeout(() => this.end({ ok: true, reason: 'duration' }), this.o.durationSec * 1000);
    }
  }

  private async describe(): Promise<{ body: string; base: string }> {
    for (let i = 0; i <= MAX_REDIRECTS; i++) {
      const u = parseRtspUrl(this.url);
      if (!u.ok) throw new RtspClientError('CLIENT_ERR_URL', `not an rtsp:// URL: ${this.url}`);
      if (this.conn) {
        // Our own close (a redirect, a fallback) is not the server going away.
        this.malformedBefore += this.conn.counters.malformedResponses + this.conn.counters.unmatchedResponses;
        this.conn.onClose = () => undefined;
        this.conn.close();
        this.conn = undefined;
      }
      const conn = await RtspClientConnection.connect({
        host: u.value.host,
        port: u.value.port,
        random: this.random,
        ...(this.credentials ? { credentials: this.credentials } : {}),
        ...(u.value.scheme === 'rtsps' ? { tls: this.o.tls ?? {} } : {}),
        responseTimeoutMs: this.o.responseTimeoutMs,
        connectTimeoutMs: this.o.responseTimeoutMs,
      });
      this.conn = conn;
      conn.onInterleaved = (ch, data) => this.interleaved(ch, data);
      conn.onClose = (err) => {
        if (this.conn === conn && this.finished) this.end({ ok: false, reason: err?.message ?? 'the server closed the connection' });
      };
      const opt = await this.request('OPTIONS', this.url, {}, [200, 404, 405, 501]);
      this.supportsGetParameter = /\bGET_PARAMETER\b/i.test(opt.headers.get('Public') ?? '');
      const res = await this.request('DESCRIBE', this.url, { Accept: 'application/sdp' }, [200, 301, 302, 303, 305, 307]);
      if (res.statusCode >= 300) {
        const loc = res.headers.get('Location');
        if (!loc) throw new RtspClientError('CLIENT_ERR_REDIRECT', `redirect ${res.statusCode} without Location`);
        log.info('redirected', { from: this.url, to: loc });
        this.url = withoutUserinfo(loc);
        continue;
      }
      const base = res.headers.get('Content-Base') ?? res.headers.get('Content-Location') ?? this.url;
      this.baseUrl = base.endsWith('/') && !this.url.endsWith('/') ? base.slice(0, -1) : base;
      return { body: res.body.toString('utf8'), base };
    }
    throw new RtspClientError('CLIENT_ERR_REDIRECT', `more than ${MAX_REDIRECTS} redirects`);
  }

  private async request(method: string, uri: string, headers: Record<string, string>, accept: number[] = [200]): Promise<RtspResponse> {
    if (!this.conn) throw new RtspClientError('CLIENT_ERR_CLOSED', 'not connected');
    if (this.sessionId && method !== 'OPTIONS' && method !== 'DESCRIBE') headers = { Session: this.sessionId, ...headers };
    this.requests[method] = (this.requests[method] ?? 0) + 1;
    const res = await this.conn.request(method, uri, headers);
    if (res.statusCode === 401) {
      const why = this.credentials
        ? 'the server refused the credentials of the URL'
        : 'the server requires credentials: give them in the URL, rtsp://USER:PASSWORD@HOST/...';
      throw new RtspClientError('CLIENT_ERR_AUTH', `${method} ${uri}: 401 Unauthorized: ${why}`, 401);
    }
    if (!accept.includes(res.statusCode)) {
      throw new RtspClientError('CLIENT_ERR_STATUS', `${method} ${uri}: ${res.statusCode} ${res.reason}`, res.statusCode);
    }
    return res;
  }

  private async setup(track: SdpTrack, transport: 'udp' | 'tcp', i: number): Promise<void> {
    const conn = this.conn!;
    let udp: UdpPortPair | undefined;
    let spec: string;
    if (transport === 'udp') {
      udp = await bindUdpPortPair(conn.localAddress, CLIENT_PORT_RANGE);
      spec = `RTP/AVP;unicast;client_port=${udp.rtpPort}-${udp.rtcpPort}`;
    } else {
      spec = `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}`;
    }
    let res: RtspResponse;
    try {
      res = await this.request('SETUP', track.controlUrl, { Transport: spec });
    } catch (err) {
      udp?.close();
      throw err;
    }
    const session = res.headers.get('Session');
    if (session) {
      const s = parseSession(session);
      if (s.ok) {
        this.sessionId = s.value.id;
        if (s.value.timeout) this.timeoutSec = s.value.timeout;
      }
    }
    const parsed = parseTransport(res.headers.get('Transport') ?? '');
    const answer = parsed.ok && parsed.value[0] ? parsed.value[0] : undefined;
    if (!answer) {
      udp?.close();
      throw new RtspClientError('CLIENT_ERR_TRANSPORT', `SETUP answer without a usable Transport header`);
    }
    if (transport === 'tcp' && !answer.interleaved) answer.interleaved = [2 * i, 2 * i + 1];
    const serverIp = conn.remoteAddress;
    const path: TrackPath = {} as TrackPath;
    const receiver = new TrackReceiver(track, {
      jitter: this.o.jitter,
      cname: this.cname,
      ssrc: this.random.uint32(),
      random: this.random,
      waitKeyframe: this.o.waitKeyframe,
      wallClock: () => this.clock.wallNow(),
      onUnit: (u) => {
        if (u.ptsSec > this.lastPts) this.lastPts = u.ptsSec;
        this.o.onUnit(u);
      },
      sendRtcp: (buf) => {
        const send = (b: Buffer) => {
          if (udp && answer.serverPort) udp.rtcp.send(b, answer.serverPort[1], serverIp);
          else if (answer.interleaved) this.conn?.sendInterleaved(answer.interleaved[1], b);
        };
        const stage = this.returnStageFor(track.index, udp === undefined);
        if (stage) stage.pass([buf], (p) => send(p[0] ?? buf));
        else send(buf);
      },
    });
    path.receiver = receiver;
    path.transport = answer;
    path.udp = udp;
    path.pollTask = { run: (now) => receiver.poll(now) ?? Infinity };
    path.rtcpTask = {
      run: (now) => {
        receiver.sendReport(now);
        return now + receiver.nextReportIntervalMs();
      },
    };
    path.impairment = this.impairmentFor(track.index, udp === undefined);
    if (udp) {
      // RTP from the server's address and, when it named them, its ports (RFC 2326 server_port;
      // INTEROP.md 7): anything else is counted and dropped.
      const onMessage = (kind: 'rtp' | 'rtcp') => (msg: Buffer, rinfo: dgram.RemoteInfo) => {
        const port = answer.serverPort?.[kind === 'rtp' ? 0 : 1];
        if (rinfo.address !== serverIp || (port !== undefined && rinfo.port !== port)) {
          this.counters.foreignPackets++;
          return;
        }
        this.ingress(path, kind, msg);
      };
      udp.rtp.on('message', onMessage('rtp'));
      udp.rtcp.on('message', onMessage('rtcp'));
      for (const s of [udp.rtp, udp.rtcp]) s.on('error', (err) => log.debug('udp error', { error: String(err) }));
      // Open the path through NATs/firewalls the way ffmpeg and VLC do: one packet each way.
      if (answer.serverPort) receiver.sendReport(this.clock.now());
    }
    this.paths.push(path);
    this.scheduler.schedule(path.rtcpTask, this.clock.now() + receiver.nextReportIntervalMs());
  }

  /** The track's return-path stage (returnImpairment); a new one when the transport changed. */
  private returnStageFor(index: number, reliable: boolean): ImpairmentStage | undefined {
    const spec = this.o.returnImpairment;
    if (!spec) return undefined;
    const have = this.returnStages.get(index);
    if (have && have.reliable === reliable) return have.stage;
    have?.stage.close();
    const m = trackModel(spec, index);
    const stage = new ImpairmentStage(
      m.config,
      pathSeed(spec.seed, index, PATH_RETURN),
      { ...pathOptions(m, spec.traceOffset), reliable, recordFates: spec.recordFates ?? false, maxFateRecords: spec.maxFateRecords },
      this.clock,
      this.scheduler,
    );
    this.returnStages.set(index, { stage, reliable });
    return stage;
  }

  /** The track's ingress impairment; a new one when the transport changed (UDP → TCP fallback). */
  private impairmentFor(index: number, reliable: boolean): TrackImpairment | undefined {
    const spec = this.o.impairment;
    if (!spec) return undefined;
    let imp = this.impairments.get(index);
    if (!imp || imp.reliable !== reliable) {
      imp?.rtp.close();
      imp?.rtcp?.close();
      const rtp = trackModel(spec, index);
      const rtcp = spec.rtcpModel ?? rtp;
      imp = {
        rtp: new ImpairmentStage(
          rtp.config,
          pathSeed(spec.seed, index, PATH_RTP),
          { ...pathOptions(rtp, spec.traceOffset), reliable },
          this.clock,
          this.scheduler,
        ),
        rtcp: spec.rtcp
          ? new ImpairmentStage(
              rtcp.config,
              pathSeed(spec.seed, index, PATH_RTCP),
              { ...pathOptions(rtcp, spec.traceOffset), reliable },
              this.clock,
              this.scheduler,
            )
          : undefined,
        reliable,
      };
      this.impairments.set(index, imp);
    }
    return imp;
  }

  /** A packet for a track, through the ingress impairment when there is one. */
  private ingress(path: TrackPath, kind: 'rtp' | 'rtcp', msg: Buffer): void {
    const deliver = (buf: Buffer) => {
      if (!this.paths.includes(path)) return; // a copy delayed past a fallback or the end
      if (kind === 'rtp') this.rtpIn(path, buf);
      else path.receiver.onRtcp(buf, this.clock.now());
    };
    const stage = kind === 'rtp' ? path.impairment?.rtp : path.impairment?.rtcp;
    if (!stage) return deliver(msg);
    stage.pass([msg], (p) => deliver(p[0] ?? msg));
  }

  private rtpIn(path: TrackPath, msg: Buffer): void {
    const now = this.clock.now();
    this.firstPacketMs ??= now;
    path.receiver.onRtp(msg, now);
    const next = path.receiver.poll(now);
    if (next !== undefined) this.scheduler.schedule(path.pollTask, next);
  }

  private interleaved(channel: number, data: Buffer): void {
    for (const p of this.paths) {
      const ch = p.transport.interleaved;
      if (!ch) continue;
      if (channel === ch[0]) return this.ingress(p, 'rtp', data);
      if (channel === ch[1]) return this.ingress(p, 'rtcp', data);
    }
    this.counters.foreignPackets++;
  }

  private applyPlayResponse(res: RtspResponse): void {
    const range = res.headers.get('Range');
    let startNpt = this.o.startNpt ?? 0;
    if (range) {
      const r = parseRange(range);
      if (r.ok) {
        if (typeof r.value.start === 'number') startNpt = r.value.start;
        if (typeof r.value.end === 'number') this.rangeEnd = r.value.end;
      }
    }
    const info = res.headers.get('RTP-Info');
    const entries = info ? parseRtpInfo(info) : undefined;
    if (!entries?.ok) return;
    for (const p of this.paths) {
      const e =
        entries.value.find((x) => sameUrl(x.url, p.receiver.track.controlUrl)) ??
        (entries.value.length === this.paths.length ? entries.value[this.paths.indexOf(p)] : undefined);
      if (e?.rtptime !== undefined) p.receiver.sync = { rtpInfo: { rtptime: e.rtptime >>> 0, startNpt } };
    }
  }

  private armKeepAlive(): void {
    // Ping well before the server's timeout (ffmpeg uses half of it).
    const every = Math.max(1, this.timeoutSec / 2) * 1000;
    this.keepAlive = this.clock.setTimeout(() => {
      const method = this.supportsGetParameter ? 'GET_PARAMETER' : 'OPTIONS';
      this.counters.keepAlives++;
      this.request(method, this.aggregateUrl(), {}).catch((err: unknown) => {
        if (!this.finished) return; // the session ended while the ping was in flight
        this.counters.keepAliveFailures++;
        log.warn('keep-alive failed', { error: describeError(err) });
      });
      this.armKeepAlive();
    }, every);
  }

  /** Watches for no RTP at all (UDP → TCP fallback), the end of the stream, and a silent server. */
  private armWatchdog(): void {
    this.clock.clearTimeout(this.watchdog);
    this.watchdog = this.clock.setTimeout(() => this.checkFlow(), 250);
  }

  private checkFlow(): void {
    if (!this.finished || this.paused) return;
    const now = this.clock.now();
    if (this.firstPacketMs === undefined) {
      if (this.transportUsed === 'udp' && this.o.udpFallbackMs > 0 && now - this.playStartedMs > this.o.udpFallbackMs) {
        void this.fallbackToTcp();
        return;
      }
      if (now - this.playStartedMs > this.o.idleTimeoutMs)
        return this.end({ ok: false, reason: `no RTP received within ${this.o.idleTimeoutMs / 1000} s` });
    } else {
      const last = Math.max(this.resumedMs, ...this.receivers.map((r) => r.lastPacketMs ?? 0));
      const allBye = this.receivers.every((r) => r.byeReceived);
      if (allBye) return this.end({ ok: true, reason: 'end-of-stream' });
      const reachedEnd = this.rangeEnd !== undefined && this.mediaPosition() >= this.rangeEnd - 0.5;
      if (reachedEnd && now - last > 2000) return this.end({ ok: true, reason: 'end-of-stream' });
      if (now - last > this.o.idleTimeoutMs)
        return this.end({ ok: false, reason: `the server stopped sending (nothing for ${this.o.idleTimeoutMs / 1000} s)` });
    }
    this.armWatchdog();
  }

  /** Latest presentation time handed out, seconds. */
  mediaPosition(): number {
    return this.lastPts;
  }

  private lastPts = 0;

  private async fallbackToTcp(): Promise<void> {
    this.counters.fallbacks++;
    log.warn('no RTP over UDP: retrying over TCP', { after: this.o.udpFallbackMs });
    await this.teardown();
    this.stopIo();
    this.paths = [];
    this.firstPacketMs = undefined;
    this.sessionId = undefined;
    try {
      await this.start('tcp');
    } catch (err) {
      this.end({ ok: false, reason: describeError(err) });
    }
  }

  /**
   * The final reports (with BYE) and TEARDOWN. At the end of a run with `endOfRun`: PAUSE and the
   * drain before, and the server's receipt of the reports awaited after them.
   */
  private async teardown(endOfRun?: PlayOptions['endOfRun']): Promise<void> {
    if (!this.conn?.isOpen || !this.sessionId) return;
    if (endOfRun) {
      try {
        await this.request('PAUSE', this.aggregateUrl(), {});
        await endOfRun.drained();
      } catch (err) {
        log.debug('end of run: pause failed', { error: describeError(err) });
      }
    }
    const now = this.clock.now();
    for (const p of this.paths) {
      // Not drain(): the rest of a unit cut here comes before TEARDOWN is answered, and end()
      // drains then. Flushing the depacketizer now made that unit two incomplete ones.
      p.receiver.release(now);
      p.receiver.sendReport(now, 'teardown');
    }
    await endOfRun?.reported();
    try {
      await this.request('TEARDOWN', this.aggregateUrl(), {});
    } catch (err) {
      log.debug('teardown failed', { error: describeError(err) });
    }
  }

  /** Stops timers and sockets; the track receivers stay for their statistics. */
  private stopIo(): void {
    this.clock.clearTimeout(this.keepAlive);
    this.clock.clearTimeout(this.watchdog);
    for (const p of this.paths) {
      this.scheduler.remove(p.pollTask);
      this.scheduler.remove(p.rtcpTask);
      p.udp?.close();
    }
  }

  private end(result: PlayEnd): void {
    const done = this.finished;
    if (!done) return;
    this.finished = undefined;
    this.clock.clearTimeout(this.endTimer);
    const endOfRun = result.ok && result.reason === 'duration' ? this.o.endOfRun : undefined;
    void this.teardown(endOfRun).finally(() => {
      // Packets that came while TEARDOWN was answered still go out.
      for (const p of this.paths) p.receiver.drain(this.clock.now());
      this.stopIo();
      for (const imp of this.impairments.values()) {
        imp.rtp.close();
        imp.rtcp?.close();
      }
      for (const r of this.returnStages.values()) r.stage.close();
      this.conn?.close();
      done(result);
    });
  }
}

function sameUrl(a: string, b: string): boolean {
  const norm = (u: string) => u.replace(/\/+$/, '');
  return norm(a) === norm(b) || norm(b).endsWith(norm(a));
}

export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
