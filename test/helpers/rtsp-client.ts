/**
 * A small scriptable RTSP client for integration tests, built on our own protocol modules
 * (src/rtsp for messages and headers, src/rtp and src/rtcp for packets) plus node:net/node:dgram.
 * Every step is explicit: the test sends DESCRIBE/SETUP/PLAY/PAUSE/TEARDOWN/GET_PARAMETER itself,
 * media arrives over UDP port pairs or interleaved in the RTSP connection, and every RTP packet is
 * kept (header fields, a copy of the payload, arrival time) for the test to inspect. Nothing is
 * sent on its own: no keep-alives, no RTCP, unless the test asks (a "silent" client is the default).
 */

import dgram from 'node:dgram';
import net from 'node:net';
import {
  RtspParser,
  createRequest,
  parseRange,
  parseRtpInfo,
  parseSession,
  parseTransport,
  serializeRequest,
} from '../../src/rtsp/index.ts';
import type { NptRange, RtpInfoEntry, RtspResponse, TransportSpec } from '../../src/rtsp/index.ts';
import { parseRtpPacket } from '../../src/rtp/index.ts';
import { parseRtcpPackets, serializeRtcpCompound } from '../../src/rtcp/index.ts';
import type { ReportBlock, RtcpPacket } from '../../src/rtcp/index.ts';
import { bindUdpPortPair } from '../../src/transport/index.ts';
import type { UdpPortPair } from '../../src/transport/index.ts';
import { waitUntil } from './wait.ts';

/** Client ports come from here: above the server's default range (6970-32767), so they never race it. */
const CLIENT_PORT_RANGE = { min: 33000, max: 59998 };
/** A response slower than this is a failure, not a hang. */
const RESPONSE_TIMEOUT_MS = 15_000;

export interface ReceivedRtp {
  seq: number;
  /** Sequence number extended past 16 bits (monotonic while nothing is reordered by > 32768). */
  extSeq: number;
  timestamp: number;
  marker: boolean;
  payloadType: number;
  ssrc: number;
  /** A copy: safe to keep. */
  payload: Buffer;
  /** performance.now() at arrival. */
  arrivalMs: number;
}

/** One SETUP'd track as the client sees it. */
export class ClientTrack {
  readonly rtp: ReceivedRtp[] = [];
  readonly rtcp: RtcpPacket[] = [];
  /** Datagrams/frames that did not parse as RTP. */
  malformed = 0;
  private cycles = 0;
  private lastSeq: number | undefined;

  constructor(
    readonly url: string,
    readonly lower: 'udp' | 'tcp',
    /** The Transport the server answered with. */
    readonly transport: TransportSpec,
    readonly udp: UdpPortPair | undefined,
    /** Sockets joined to the multicast group the server chose (multicast SETUP). */
    readonly multicast?: { rtp: dgram.Socket; rtcp: dgram.Socket },
  ) {}

  /** SSRC from the SETUP response (our server always sends one). */
  get ssrc(): number | undefined {
    return this.transport.ssrc;
  }

  receiveRtp(buf: Buffer): void {
    const p = parseRtpPacket(buf);
    if (!p.ok) {
      this.malformed++;
      return;
    }
    const v = p.value;
    if (this.lastSeq !== undefined && v.sequenceNumber < this.lastSeq && this.lastSeq - v.sequenceNumber > 0x8000) this.cycles++;
    this.lastSeq = v.sequenceNumber;
    this.rtp.push({
      seq: v.sequenceNumber,
      extSeq: this.cycles * 0x10000 + v.sequenceNumber,
      timestamp: v.timestamp,
      marker: v.marker,
      payloadType: v.payloadType,
      ssrc: v.ssrc,
      payload: Buffer.from(v.payload),
      arrivalMs: performance.now(),
    });
  }

  receiveRtcp(buf: Buffer): void {
    const r = parseRtcpPackets(Buffer.from(buf));
    if (r.ok) this.rtcp.push(...r.value);
  }

  /** Resolves once `n` RTP packets have arrived in total. */
  waitForPackets(n: number, timeoutMs = 10_000): Promise<void> {
    return waitUntil(() => this.rtp.length >= n, timeoutMs, `${n} RTP packets on ${this.url} (have ${this.rtp.length})`);
  }
}

export interface PlayInfo {
  response: RtspResponse;
  range: NptRange | undefined;
  rtpInfo: RtpInfoEntry[];
}

export class RtspTestClient {
  readonly tracks: ClientTrack[] = [];
  /** Session id from the first SETUP response. */
  session: string | undefined;
  sessionTimeout: number | undefined;
  private readonly parser = new RtspParser({ role: 'client' });
  private readonly waiting = new Map<number, { resolve: (r: RtspResponse) => void; reject: (e: Error) => void }>();
  private cseq = 0;
  private closed = false;
  /** Every `$` frame as it arrives (e.g. the server's RTCP to a test publisher, which has no ClientTrack). */
  onInterleaved: ((channel: number, data: Buffer) => void) | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiting.values()) w.reject(new Error('RTSP connection closed'));
      this.waiting.clear();
    });
  }

  static connect(url: string): Promise<RtspTestClient> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: u.hostname, port: Number(u.port) || 554 }, () => {
        s.off('error', reject);
        resolve(new RtspTestClient(s));
      });
      s.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends a request (CSeq and, once known, Session added) and resolves with its response. */
  request(method: string, uri: string, headers: Record<string, string> = {}, body?: Buffer): Promise<RtspResponse> {
    const cseq = ++this.cseq;
    const h: Record<string, string> = { CSeq: String(cseq), 'User-Agent': 'streamlab-test-client' };
    if (this.session !== undefined) h.Session = this.session;
    Object.assign(h, headers);
    if (body) h['Content-Length'] = String(body.length);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(cseq);
        reject(new Error(`no response to ${method} ${uri} within ${RESPONSE_TIMEOUT_MS} ms`));
      }, RESPONSE_TIMEOUT_MS);
      this.waiting.set(cseq, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.socket.write(serializeRequest(createRequest(method, uri, h, body)));
    });
  }

  async describe(url: string): Promise<{ response: RtspResponse; sdp: string }> {
    const response = await this.request('DESCRIBE', url, { Accept: 'application/sdp' });
    return { response, sdp: response.body.toString('utf8') };
  }

  /**
   * SETUP over UDP (binds an even/odd client port pair first) or TCP interleaved (channels chosen by
   * the caller, or the next free pair). Throws when the answer is not 200, with the status in the text.
   */
  async setup(
    url: string,
    lower: 'udp' | 'tcp' | 'multicast',
    opts: { channels?: [number, number] } = {},
  ): Promise<{ response: RtspResponse; track: ClientTrack }> {
    let udp: UdpPortPair | undefined;
    let header: string;
    if (lower === 'multicast') {
      header = 'RTP/AVP;multicast';
    } else if (lower === 'udp') {
      udp = await bindUdpPortPair('127.0.0.1', CLIENT_PORT_RANGE);
      header = `RTP/AVP;unicast;client_port=${udp.rtpPort}-${udp.rtcpPort}`;
    } else {
      const channels = opts.channels ?? [this.tracks.length * 2, this.tracks.length * 2 + 1];
      header = `RTP/AVP/TCP;unicast;interleaved=${channels[0]}-${channels[1]}`;
    }
    const response = await this.request('SETUP', url, { Transport: header });
    if (response.statusCode !== 200) {
      udp?.close();
      throw new Error(`SETUP ${url} answered ${response.statusCode} ${response.reason}`);
    }
    const sessionValue = response.headers.get('Session');
    if (sessionValue !== undefined) {
      const s = parseSession(sessionValue);
      if (s.ok) {
        this.session = s.value.id;
        this.sessionTimeout = s.value.timeout;
      }
    }
    const parsed = parseTransport(response.headers.get('Transport') ?? '');
    if (!parsed.ok || parsed.value.length !== 1) {
      udp?.close();
      throw new Error(`SETUP ${url}: bad Transport in the answer: ${response.headers.get('Transport')}`);
    }
    if (lower === 'multicast') {
      const spec = parsed.value[0]!;
      if (!spec.destination || !spec.port) throw new Error(`SETUP ${url}: multicast answer without destination/port`);
      const rtp = await joinGroup(spec.destination, spec.port[0]);
      const rtcp = await joinGroup(spec.destination, spec.port[1]);
      const track = new ClientTrack(url, 'udp', spec, undefined, { rtp, rtcp });
      rtp.on('message', (msg) => track.receiveRtp(msg));
      rtcp.on('message', (msg) => track.receiveRtcp(msg));
      this.tracks.push(track);
      return { response, track };
    }
    const track = new ClientTrack(url, lower, parsed.value[0]!, udp);
    if (udp) {
      udp.rtp.on('message', (msg) => track.receiveRtp(msg));
      udp.rtcp.on('message', (msg) => track.receiveRtcp(msg));
    }
    this.tracks.push(track);
    return { response, track };
  }

  /**
   * PLAY; `range` is sent verbatim (e.g. 'npt=5.5-'), `extra` headers too (e.g. `{ Scale: '2' }`).
   * Parses Range and RTP-Info of a 200.
   */
  async play(url: string, range?: string, extra: Record<string, string> = {}): Promise<PlayInfo> {
    const response = await this.request('PLAY', url, { ...(range !== undefined ? { Range: range } : {}), ...extra });
    return { response, ...playHeaders(response) };
  }

  async pause(url: string): Promise<{ response: RtspResponse; range: NptRange | undefined }> {
    const response = await this.request('PAUSE', url);
    const r = response.headers.get('Range');
    const parsed = r !== undefined ? parseRange(r) : undefined;
    return { response, range: parsed?.ok ? parsed.value : undefined };
  }

  teardown(url: string): Promise<RtspResponse> {
    return this.request('TEARDOWN', url);
  }

  getParameter(url: string): Promise<RtspResponse> {
    return this.request('GET_PARAMETER', url);
  }

  /**
   * Sends an RTCP receiver report about `track`'s stream (one report block with the figures given,
   * zeros otherwise) to the server's RTCP port, or on the track's odd interleaved channel.
   */
  sendReceiverReport(track: ClientTrack, block: Partial<ReportBlock> = {}, reporterSsrc = 0x5eed0001): void {
    const last = track.rtp[track.rtp.length - 1];
    const report: ReportBlock = {
      ssrc: track.ssrc ?? last?.ssrc ?? 0,
      fractionLost: 0,
      cumulativeLost: 0,
      extendedHighestSeq: last?.extSeq ?? 0,
      jitter: 0,
      lsr: 0,
      dlsr: 0,
      ...block,
    };
    this.sendRtcp(track, serializeRtcpCompound([{ type: 'rr', ssrc: reporterSsrc, reports: [report] }]));
  }

  sendRtcp(track: ClientTrack, packet: Buffer): void {
    if (track.udp) {
      const port = track.transport.serverPort?.[1];
      if (port === undefined) throw new Error('no server_port in the SETUP answer');
      track.udp.rtcp.send(packet, port, '127.0.0.1');
    } else {
      const ch = track.transport.interleaved?.[1];
      if (ch === undefined) throw new Error('no interleaved channels in the SETUP answer');
      const head = Buffer.from([0x24, ch, packet.length >> 8, packet.length & 0xff]);
      this.socket.write(Buffer.concat([head, packet]));
    }
  }

  /** Writes one `$` frame (e.g. RTP from a test publisher) into the RTSP connection. */
  sendInterleaved(channel: number, data: Buffer): void {
    const head = Buffer.from([0x24, channel, data.length >> 8, data.length & 0xff]);
    this.socket.write(Buffer.concat([head, data]));
  }

  /** Closes the RTSP connection and every UDP socket, without TEARDOWN. */
  close(): void {
    for (const t of this.tracks) {
      t.udp?.close();
      t.multicast?.rtp.close();
      t.multicast?.rtcp.close();
    }
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    for (const ev of this.parser.push(chunk)) {
      if (ev.type === 'response') {
        const cseq = Number(ev.response.headers.get('CSeq')?.trim());
        const w = this.waiting.get(cseq);
        if (w) {
          this.waiting.delete(cseq);
          w.resolve(ev.response);
        }
      } else if (ev.type === 'interleaved') {
        this.onInterleaved?.(ev.channel, Buffer.from(ev.data));
        for (const t of this.tracks) {
          const ch = t.transport.interleaved;
          if (!ch) continue;
          if (ev.channel === ch[0]) t.receiveRtp(ev.data);
          else if (ev.channel === ch[1]) t.receiveRtcp(ev.data);
        }
      }
    }
  }
}

/** Range and RTP-Info of a PLAY response, parsed (undefined / [] when absent or malformed). */
export function playHeaders(response: RtspResponse): { range: NptRange | undefined; rtpInfo: RtpInfoEntry[] } {
  const r = response.headers.get('Range');
  const range = r !== undefined ? parseRange(r) : undefined;
  const info = response.headers.get('RTP-Info');
  const rtpInfo = info !== undefined ? parseRtpInfo(info) : undefined;
  return { range: range?.ok ? range.value : undefined, rtpInfo: rtpInfo?.ok ? rtpInfo.value : [] };
}

/** A socket on `port` that joined `group` on the loopback interface (multicast tests on lo). */
export async function joinGroup(group: string, port: number): Promise<dgram.Socket> {
  const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, () => {
      s.off('error', reject);
      resolve();
    });
  });
  s.addMembership(group, '127.0.0.1');
  // Reports the test sends to the group leave on lo too.
  s.setMulticastInterface('127.0.0.1');
  return s;
}

/** True when a UDP port can be bound (exclusively) on 127.0.0.1 right now; the socket is closed again. */
export async function canBindUdp(port: number): Promise<boolean> {
  const s = dgram.createSocket({ type: 'udp4', reuseAddr: false });
  const ok = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.bind({ port, address: '127.0.0.1', exclusive: true }, () => resolve(true));
  });
  await new Promise<void>((resolve) => {
    try {
      s.close(() => resolve());
    } catch {
      resolve();
    }
  });
  return ok;
}
