/**
 * One lightweight RTSP client of the load: OPTIONS, DESCRIBE, SETUP of every track over UDP
 * (RTP/AVP unicast, an even/odd client port pair per track), PLAY, then it receives RTP and keeps
 * RFC 3550 statistics per track (stats/ReceiverSource: A.1 sequence, A.3 loss, A.8 jitter), sends
 * an RTCP RR + SDES compound now and then (so the server sees it alive), and TEARDOWN at the end.
 * Loss is also split by the phase of the run in which it was seen (clients joining, or steady),
 * from sequence gaps at arrival.
 */
import dgram from 'node:dgram';
import { randomBytes, randomInt } from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseRtcpPackets, makeSdesCname, serializeRtcpCompound } from '../src/rtcp/index.ts';
import type { RtcpPacket } from '../src/rtcp/index.ts';
import {
  RtspParser,
  createRequest,
  parseRtpInfo,
  parseSession,
  parseTransport,
  resolveControlUrl,
  serializeRequest,
} from '../src/rtsp/index.ts';
import type { RtspResponse } from '../src/rtsp/index.ts';
import { getAttribute, getRtpmap, parseSdp } from '../src/sdp/index.ts';
import { ReceiverSource } from '../src/stats/index.ts';
import { readRtp, releaseConnection, takeConnection } from './rtp-reader.ts';
import type { ReceiverSourceSnapshot } from '../src/stats/index.ts';

/** Phases of a load run: 0 while clients are still joining, 1 once all are in (steady). */
export const PHASE_JOIN = 0;
export const PHASE_STEADY = 1;
export type Phase = typeof PHASE_JOIN | typeof PHASE_STEADY;
/** One counter per phase, indexed by Phase. */
export type PhaseCounts = [join: number, steady: number];
export interface PhaseClock {
  phase: Phase;
}

/** A.1 MAX_DROPOUT: a larger forward gap is not counted as loss (it is a restart, not a loss). */
const MAX_GAP = 3000;
/** A.1 MAX_MISORDER. */
const MAX_LATE = 100;
const RECV_BUFFER_BYTES = 1 << 20;
/** Payload types with a known clock when the SDP has no rtpmap. */
const STATIC_CLOCK: Readonly<Record<number, number>> = { 0: 8000, 8: 8000, 14: 90000, 26: 90000, 32: 90000, 33: 90000 };

export interface LoadClientOptions {
  url: string;
  phase: PhaseClock;
  /** Mean period of RTCP receiver reports per track (randomized ±50 %). */
  rrIntervalMs: number;
  /** Limit on each RTSP request. */
  requestTimeoutMs: number;
  /** RTP over UDP port pairs (default), or interleaved in the RTSP connection (RTP/AVP/TCP). */
  transport?: 'udp' | 'tcp';
  /**
   * Interleaved: Node reads the connection at every segment, as a player does (the probe: its
   * jitter is what one viewer gets), rather than at the batch reader's wake-ups ('batch' mode,
   * rtp-reader.ts's takeConnection).
   */
  readEverySegment?: boolean;
}

export class TrackReceiver {
  readonly source: ReceiverSource;
  ssrc: number | undefined;
  rtpSocket: dgram.Socket | undefined;
  rtcpSocket: dgram.Socket | undefined;
  /** Interleaved channels (TCP); undefined over UDP. */
  channels: [number, number] | undefined;
  serverRtcpPort = 0;
  firstRtpMs: number | undefined;
  packets = 0;
  /** Per phase: packets received, packets found missing from gaps, late packets that filled a gap. */
  readonly received: PhaseCounts = [0, 0];
  readonly gapLost: PhaseCounts = [0, 0];
  readonly late: PhaseCounts = [0, 0];
  /** A.8 jitter (ms) sampled at every RR and at the end. */
  readonly jitterSamplesMs: number[] = [];
  srReceived = 0;
  /**
   * False once packets are read in batches without a stamp of their own (an RTSP connection read
   * by takeConnection): their jitter is not the network's, and is not reported.
   */
  arrivalExact = true;
  /** Sees every RTP packet with its arrival time (the rtp socket is not Node's to listen to: rtp-reader.ts). */
  onArrival: ((msg: Buffer, arrivalMs: number) => void) | undefined;
  private maxSeq = -1;

  constructor(
    readonly media: string,
    readonly control: string,
    readonly clockRate: number,
  ) {
    // minSequential 1: count from the first packet, so the run's first packets are not "free".
    this.source = new ReceiverSource(0, { clockRate, minSequential: 1 });
  }

  /** The per-packet path: parse the 12-byte fixed header by hand, update the statistics. */
  onRtp(msg: Buffer, phase: Phase, arrivalMs: number): void {
    if (msg.length < 12 || msg.readUInt8(0) >> 6 !== 2) return;
    this.onArrival?.(msg, arrivalMs);
    const seq = msg.readUInt16BE(2);
    const ts = msg.readUInt32BE(4);
    this.packets++;
    this.received[phase]++;
    this.firstRtpMs ??= arrivalMs;
    this.ssrc ??= msg.readUInt32BE(8);
    this.source.onRtp(seq, ts, arrivalMs, msg.length - 12);
    if (this.maxSeq < 0) {
      this.maxSeq = seq;
      return;
    }
    const d = (seq - this.maxSeq) & 0xffff;
    if (d === 0) return;
    if (d < MAX_GAP) {
      this.gapLost[phase] += d - 1;
      this.maxSeq = seq;
    } else if (d > 0x10000 - MAX_LATE) {
      this.late[phase]++;
    }
  }
}

export class LoadClient implements BenchClient {
  readonly tracks: TrackReceiver[] = [];
  connectStartMs = 0;
  connectedMs: number | undefined;
  playedMs: number | undefined;
  error: string | undefined;
  teardownOk = false;
  /** End of the session's a=range (npt), when the SDP gives one. */
  mediaDurationSec: number | undefined;
  private socket: net.Socket | undefined;
  private readonly parser = new RtspParser({ role: 'client' });
  private cseq = 0;
  private readonly pending = new Map<number, { resolve: (r: RtspResponse) => void; reject: (e: Error) => void }>();
  private session: string | undefined;
  private aggregateUrl = '';
  private rrTimers: NodeJS.Timeout[] = [];
  private readonly cname = `load-${randomBytes(4).toString('hex')}@127.0.0.1`;
  private readonly ssrc = randomBytes(4).readUInt32BE(0);
  private closed = false;
  /** The connection is read at the batch reader's wake-ups (takeConnection). */
  private batched = false;

  constructor(private readonly opts: LoadClientOptions) {}

  /** Time from the TCP connect to the first RTP packet of any track, ms. */
  get timeToFirstRtpMs(): number | undefined {
    let first: number | undefined;
    for (const t of this.tracks) if (t.firstRtpMs !== undefined && (first === undefined || t.firstRtpMs < first)) first = t.firstRtpMs;
    return first === undefined ? undefined : first - this.connectStartMs;
  }

  /** Connects and plays; on failure sets `error` (and resolves). */
  async start(): Promise<void> {
    try {
      await this.connect();
      const url = this.opts.url;
      await this.request('OPTIONS', url);
      const desc = await this.request('DESCRIBE', url, { Accept: 'application/sdp' });
      if (desc.statusCode !== 200) throw new Error(`DESCRIBE ${desc.statusCode}`);
      const base = desc.headers.get('Content-Base') ?? desc.headers.get('Content-Location') ?? url;
      const sdp = parseSdp(desc.body.toString('utf8'));
      if (!sdp.ok) throw new Error(`bad SDP: ${sdp.code}`);
      this.aggregateUrl = resolveControlUrl(base, getAttribute(sdp.value, 'control'));
      const range = /npt\s*=\s*[\d.]+\s*-\s*([\d.]+)/.exec(
        getAttribute(sdp.value, 'range') ?? getAttribute(sdp.value.media[0] ?? { attributes: [] }, 'range') ?? '',
      );
      if (range) this.mediaDurationSec = Number(range[1]);
      for (const m of sdp.value.media) {
        const pt = Number(m.formats[0]);
        const clockRate = getRtpmap(m)?.clockRate ?? STATIC_CLOCK[pt] ?? 90000;
        this.tracks.push(new TrackReceiver(m.type, resolveControlUrl(base, getAttribute(m, 'control')), clockRate));
      }
      if (this.tracks.length === 0) throw new Error('SDP has no media');
      for (const t of this.tracks) await this.setupTrack(t);
      const play = await this.request('PLAY', this.aggregateUrl, { Range: 'npt=0.000-' });
      if (play.statusCode !== 200) throw new Error(`PLAY ${play.statusCode}`);
      this.playedMs = performance.now();
      const info = play.headers.get('RTP-Info');
      if (info !== undefined) parseRtpInfo(info); // checked for shape only
      for (const t of this.tracks) this.scheduleRr(t);
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }

  /** Sends a last RR, TEARDOWN (waits for the answer up to the request timeout), closes everything. */
  async stop(): Promise<void> {
    for (const t of this.rrTimers) clearTimeout(t);
    this.rrTimers = [];
    for (const t of this.tracks) t.jitterSamplesMs.push(t.source.jitterMs);
    if (this.session !== undefined && this.socket && !this.socket.destroyed) {
      try {
        const r = await this.request('TEARDOWN', this.aggregateUrl);
        this.teardownOk = r.statusCode === 200;
      } catch {
        this.teardownOk = false;
      }
    }
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.rrTimers) clearTimeout(t);
    if (this.socket) releaseConnection(this.socket);
    this.socket?.destroy();
    for (const t of this.tracks) {
      t.rtpSocket?.close();
      t.rtcpSocket?.close();
    }
    this.failPending('closed');
  }

  private failPending(why: string): void {
    for (const p of this.pending.values()) p.reject(new Error(`connection ${why}`));
    this.pending.clear();
  }

  private connect(): Promise<void> {
    const u = new URL(this.opts.url.replace(/^rtsp:/, 'http:'));
    this.connectStartMs = performance.now();
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: u.hostname, port: Number(u.port) || 554 });
      s.setNoDelay(true);
      s.once('connect', () => {
        this.connectedMs = performance.now();
        resolve();
      });
      s.once('error', reject);
      s.on('error', () => undefined);
      s.on('data', (chunk: Buffer) => this.onData(chunk));
      s.on('close', () => this.failPending('closed by the server'));
      this.socket = s;
    });
  }

  private onData(chunk: Buffer, arrivalMs = performance.now()): void {
    for (const ev of this.parser.push(chunk)) {
      if (ev.type === 'interleaved') {
        const t = this.tracks.find((x) => x.channels?.[0] === ev.channel);
        if (t) {
          t.onRtp(ev.data, this.opts.phase.phase, arrivalMs);
          // From the first packet on (its arrival, the time to the first RTP, read by Node), the
          // connection is read in batches, as the UDP sockets are.
          if (!this.batched && !this.opts.readEverySegment) this.readInBatches();
        } else {
          const r = this.tracks.find((x) => x.channels?.[1] === ev.channel);
          if (r) this.onRtcp(r, ev.data);
        }
        continue;
      }
      if (ev.type !== 'response') continue;
      const cseq = Number(ev.response.headers.get('CSeq'));
      const done = this.pending.get(cseq);
      if (done) {
        this.pending.delete(cseq);
        done.resolve(ev.response);
      }
    }
  }

  private readInBatches(): void {
    const socket = this.socket;
    if (!socket || this.closed) return;
    this.batched = takeConnection(socket, (chunk, arrivalMs) => this.onData(chunk, arrivalMs));
    if (this.batched) for (const t of this.tracks) t.arrivalExact = false;
  }

  private request(method: string, uri: string, headers: Record<string, string> = {}): Promise<RtspResponse> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.reject(new Error(`${method}: not connected`));
    const cseq = ++this.cseq;
    const h: Record<string, string> = { CSeq: String(cseq), 'User-Agent': 'streamlab-bench', ...headers };
    if (this.session !== undefined) h.Session = this.session;
    return new Promise((resolve, reject) => {
      // Timers run before the loop polls its sockets: with thousands of clients in this process a
      // late loop would time out answers already waiting in the socket. The check phase comes after
      // the poll, so the timeout is decided once what has arrived has been read.
      const timer = setTimeout(
        () =>
          setImmediate(() => {
            if (!this.pending.has(cseq)) return;
            this.pending.delete(cseq);
            reject(new Error(`${method}: no answer in ${this.opts.requestTimeoutMs} ms`));
          }),
        this.opts.requestTimeoutMs,
      );
      this.pending.set(cseq, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(new Error(`${method}: ${e.message}`));
        },
      });
      socket.write(serializeRequest(createRequest(method, uri, h)));
    });
  }

  private async setupTrack(t: TrackReceiver): Promise<void> {
    if (this.opts.transport === 'tcp') {
      const ch = 2 * this.tracks.indexOf(t);
      t.channels = [ch, ch + 1];
      const res = await this.request('SETUP', t.control, { Transport: `RTP/AVP/TCP;unicast;interleaved=${ch}-${ch + 1}` });
      if (res.statusCode !== 200) throw new Error(`SETUP ${t.media} ${res.statusCode}`);
      const sess = parseSession(res.headers.get('Session') ?? '');
      if (!sess.ok) throw new Error(`SETUP ${t.media}: no session`);
      this.session = sess.value.id;
      return;
    }
    const [rtp, rtcp] = await bindPortPair();
    t.rtpSocket = rtp;
    t.rtcpSocket = rtcp;
    const phase = this.opts.phase;
    readRtp(rtp, (msg, arrivalMs) => t.onRtp(msg, phase.phase, arrivalMs));
    rtcp.on('message', (msg) => this.onRtcp(t, msg));
    const port = rtp.address().port;
    const res = await this.request('SETUP', t.control, { Transport: `RTP/AVP;unicast;client_port=${port}-${port + 1}` });
    if (res.statusCode !== 200) throw new Error(`SETUP ${t.media} ${res.statusCode}`);
    const sess = parseSession(res.headers.get('Session') ?? '');
    if (!sess.ok) throw new Error(`SETUP ${t.media}: no session`);
    this.session = sess.value.id;
    const tr = parseTransport(res.headers.get('Transport') ?? '');
    const serverPort = tr.ok ? tr.value[0]?.serverPort : undefined;
    if (!serverPort) throw new Error(`SETUP ${t.media}: no server_port`);
    t.serverRtcpPort = serverPort[1];
  }

  private onRtcp(t: TrackReceiver, msg: Buffer): void {
    const r = parseRtcpPackets(msg);
    if (!r.ok) return;
    for (const p of r.value) {
      if (p.type === 'sr') {
        t.srReceived++;
        const si = p.senderInfo;
        t.source.onSenderReport((((si.ntpSeconds & 0xffff) << 16) | (si.ntpFraction >>> 16)) >>> 0, performance.now());
      }
    }
  }

  private scheduleRr(t: TrackReceiver): void {
    const period = this.opts.rrIntervalMs * (0.5 + Math.random());
    const timer = setTimeout(() => {
      this.sendRr(t);
      this.scheduleRr(t);
    }, period);
    this.rrTimers.push(timer);
    if (this.rrTimers.length > 64) this.rrTimers = this.rrTimers.slice(-16);
  }

  private sendRr(t: TrackReceiver): void {
    if (this.closed || t.ssrc === undefined) return;
    t.jitterSamplesMs.push(t.source.jitterMs);
    const block = { ...t.source.makeReportBlock(performance.now()), ssrc: t.ssrc };
    const packets: RtcpPacket[] = [{ type: 'rr', ssrc: this.ssrc, reports: [block] }, makeSdesCname(this.ssrc, this.cname)];
    const rr = serializeRtcpCompound(packets);
    if (t.channels) {
      const frame = Buffer.from([0x24, t.channels[1], rr.length >> 8, rr.length & 0xff]);
      if (this.socket && !this.socket.destroyed) this.socket.write(Buffer.concat([frame, rr]));
    } else t.rtcpSocket?.send(rr, t.serverRtcpPort, '127.0.0.1');
  }
}

function bindUdp(port: number): Promise<dgram.Socket | undefined> {
  return new Promise((resolve) => {
    const s = dgram.createSocket({ type: 'udp4', recvBufferSize: RECV_BUFFER_BYTES });
    s.once('error', () => {
      s.close();
      resolve(undefined);
    });
    s.bind(port, '127.0.0.1', () => {
      s.removeAllListeners('error');
      s.on('error', () => undefined);
      resolve(s);
    });
  });
}

/** An RTP socket on an even port and the RTCP socket on the next one (RFC 3550 §11). */
export async function bindPortPair(): Promise<[dgram.Socket, dgram.Socket]> {
  for (let attempt = 0; attempt < 100; attempt++) {
    // 40000..59998 (10,000 pairs: 2,000 clients take 4,000), away from both servers' RTP ranges.
    const even = 2 * randomInt(20000, 30000);
    const rtp = await bindUdp(even);
    if (!rtp) continue;
    const rtcp = await bindUdp(even + 1);
    if (rtcp) return [rtp, rtcp];
    rtp.close();
  }
  throw new Error('no free UDP port pair');
}

/**
 * What a load run reads of one track of a client: a TrackReceiver's fields, or the same figures
 * relayed from a client host process (bench/client-hosts.ts).
 */
export interface TrackFigures {
  readonly media: string;
  readonly packets: number;
  readonly received: Readonly<PhaseCounts>;
  readonly gapLost: Readonly<PhaseCounts>;
  readonly late: Readonly<PhaseCounts>;
  readonly jitterSamplesMs: number[];
  /** False when the jitter samples are not the network's (TrackReceiver.arrivalExact): not reported. */
  readonly arrivalExact: boolean;
  readonly source: { readonly jitterMs: number; snapshot(): ReceiverSourceSnapshot };
}

/** What a load run needs of a client (LoadClient over RTSP, BareClient for the floor, or a RemoteClient). */
export interface BenchClient {
  readonly tracks: readonly TrackFigures[];
  readonly error: string | undefined;
  readonly teardownOk: boolean;
  readonly mediaDurationSec: number | undefined;
  readonly timeToFirstRtpMs: number | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  close(): void;
}

/**
 * A client of the floor sender (bench/floor-process.ts): no RTSP, only a UDP port pair per track
 * whose RTP ports it hands to the floor, which starts sending to it at once; the same receive
 * statistics as a LoadClient.
 */
export class BareClient implements BenchClient {
  readonly tracks: TrackReceiver[] = [];
  error: string | undefined;
  teardownOk = true;
  mediaDurationSec: number | undefined;
  private startMs = 0;

  constructor(
    private readonly trackInfo: readonly { media: string; clockRate: number }[],
    private readonly phase: PhaseClock,
    private readonly join: (rtpPorts: number[]) => void,
  ) {}

  get timeToFirstRtpMs(): number | undefined {
    let first: number | undefined;
    for (const t of this.tracks) if (t.firstRtpMs !== undefined && (first === undefined || t.firstRtpMs < first)) first = t.firstRtpMs;
    return first === undefined ? undefined : first - this.startMs;
  }

  async start(): Promise<void> {
    this.startMs = performance.now();
    try {
      for (const [i, info] of this.trackInfo.entries()) {
        const t = new TrackReceiver(info.media, `track${i}`, info.clockRate);
        const [rtp, rtcp] = await bindPortPair();
        t.rtpSocket = rtp;
        t.rtcpSocket = rtcp;
        readRtp(rtp, (msg, arrivalMs) => t.onRtp(msg, this.phase.phase, arrivalMs));
        this.tracks.push(t);
      }
      this.join(this.tracks.map((t) => t.rtpSocket!.address().port));
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }

  stop(): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  close(): void {
    for (const t of this.tracks) {
      t.rtpSocket?.close();
      t.rtcpSocket?.close();
      t.rtpSocket = undefined;
      t.rtcpSocket = undefined;
    }
  }
}
