/**
 * A scriptable fake RTSP server for receiver tests: it answers OPTIONS/DESCRIBE/SETUP/PLAY/
 * GET_PARAMETER/PAUSE/TEARDOWN itself with a synthetic H.264 + AAC presentation (single-NAL IDR
 * frames at 25 fps, one AAC AU per packet), streams over UDP or interleaved TCP, and lets a test
 * override any answer (`onRequest`: redirects, 401, garbage bytes), refuse to stream over UDP (to
 * force the receiver's TCP fallback), stop streaming after N frames, or mix in packets from a
 * foreign SSRC and from a foreign address. Everything it received is recorded for assertions.
 * Built on our RTSP parser (server role) and node:net/node:dgram; only 127.0.0.1.
 */

import dgram from 'node:dgram';
import net from 'node:net';
import { RtspParser, createResponse, parseTransport, serializeResponse } from '../../src/rtsp/index.ts';
import type { RtspRequest } from '../../src/rtsp/index.ts';
import { bindUdpPortPair } from '../../src/transport/index.ts';
import type { UdpPortPair } from '../../src/transport/index.ts';

export const FAKE_VIDEO_PT = 96;
export const FAKE_AUDIO_PT = 97;
export const FAKE_VIDEO_SSRC = 0x11111111;
export const FAKE_AUDIO_SSRC = 0x22222222;
export const FAKE_FOREIGN_SSRC = 0x33333333;
/** SPS/PPS of a 320x240 Baseline stream (only parsed for its fields, never decoded). */
const SPS_B64 = 'Z0LAHtkBQfsBEAAAAwAQAAADAyDxYuSA';
const PPS_B64 = 'aMuMsg==';

export interface FakeConnection {
  socket: net.Socket;
  respond(req: RtspRequest, status: number, headers?: Record<string, string>, body?: string): void;
  /** Writes raw bytes on the control connection (malformed answers). */
  raw(bytes: Buffer | string): void;
  interleaved(channel: number, data: Buffer): void;
}

export interface FakeServerOptions {
  /** Answer a request yourself: return true when handled (the default answer is then skipped). */
  onRequest?(req: RtspRequest, conn: FakeConnection, server: FakeRtspServer): boolean | Promise<boolean>;
  /** 'stream' (default), or 'silent': accept SETUP over UDP but never send over it. */
  udp?: 'stream' | 'silent';
  /** a=control form in the SDP: relative `trackID=N` (default), absolute URLs, or none with Content-Base. */
  control?: 'relative' | 'absolute';
  /** Stop sending media after this many video frames (the session stays open). */
  stopAfterFrames?: number;
  /** Every Nth video frame, also send a packet with FAKE_FOREIGN_SSRC on the video path. */
  foreignSsrcEvery?: number;
  /** Every Nth video frame, also send a video packet from another UDP socket (UDP only). */
  foreignAddressEvery?: number;
  /** Session timeout advertised in SETUP. */
  sessionTimeoutSec?: number;
  /** Overrides the SDP (malformed-SDP tests). */
  sdp?: string;
}

interface FakeSession {
  id: string;
  tracks: { kind: 'video' | 'audio'; udp?: { client: [number, number] }; interleaved?: [number, number] }[];
  conn: FakeConnection;
  timer?: NodeJS.Timeout;
}

export class FakeRtspServer {
  readonly requests: RtspRequest[] = [];
  /** RTCP packets received from clients (UDP or interleaved), raw. */
  readonly rtcpIn: Buffer[] = [];
  framesSent = 0;
  private readonly sessions = new Map<string, FakeSession>();
  private readonly sockets = new Set<net.Socket>();
  private udpPair: UdpPortPair | undefined;
  private foreign: dgram.Socket | undefined;
  private nextSession = 1;

  private constructor(
    private readonly tcp: net.Server,
    readonly opts: FakeServerOptions,
  ) {}

  static async start(opts: FakeServerOptions = {}): Promise<FakeRtspServer> {
    const tcp = net.createServer();
    const server = new FakeRtspServer(tcp, opts);
    tcp.on('connection', (s) => server.accept(s));
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    server.udpPair = await bindUdpPortPair('127.0.0.1', { min: 30000, max: 32999 });
    server.udpPair.rtcp.on('message', (m) => server.rtcpIn.push(m));
    server.udpPair.rtp.on('message', () => undefined);
    server.foreign = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => server.foreign!.bind(0, '127.0.0.1', resolve));
    return server;
  }

  get port(): number {
    return (this.tcp.address() as net.AddressInfo).port;
  }

  url(path = 'media'): string {
    return `rtsp://127.0.0.1:${this.port}/${path}`;
  }

  methods(): string[] {
    return this.requests.map((r) => r.method);
  }

  sdp(base: string): string {
    if (this.opts.sdp !== undefined) return this.opts.sdp;
    const control = (i: number) => (this.opts.control === 'absolute' ? `${base}/stream=${i}` : `trackID=${i}`);
    return [
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.1',
      's=fake',
      'c=IN IP4 0.0.0.0',
      't=0 0',
      'a=range:npt=0-',
      'm=video 0 RTP/AVP 96',
      'a=rtpmap:96 H264/90000',
      `a=fmtp:96 packetization-mode=1;profile-level-id=42c01e;sprop-parameter-sets=${SPS_B64},${PPS_B64}`,
      `a=control:${control(0)}`,
      'm=audio 0 RTP/AVP 97',
      'a=rtpmap:97 MPEG4-GENERIC/48000/2',
      'a=fmtp:97 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190',
      `a=control:${control(1)}`,
      '',
    ].join('\r\n');
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const parser = new RtspParser({ role: 'server' });
    const conn: FakeConnection = {
      socket,
      respond: (req, status, headers = {}, body) => {
        const h: Record<string, string> = { CSeq: req.headers.get('CSeq') ?? '0', ...headers };
        if (body !== undefined) h['Content-Length'] = String(Buffer.byteLength(body));
        if (!socket.destroyed)
          socket.write(serializeResponse(createResponse(status, h, body === undefined ? undefined : Buffer.from(body))));
      },
      raw: (bytes) => {
        if (!socket.destroyed) socket.write(bytes);
      },
      interleaved: (channel, data) => {
        if (socket.destroyed) return;
        const h = Buffer.from([0x24, channel, data.length >> 8, data.length & 0xff]);
        socket.write(Buffer.concat([h, data]));
      },
    };
    socket.on('data', (chunk: Buffer) => {
      for (const ev of parser.push(chunk)) {
        if (ev.type === 'interleaved') {
          if (ev.channel % 2 === 1) this.rtcpIn.push(Buffer.from(ev.data));
        } else if (ev.type === 'request') {
          this.requests.push(ev.request);
          void this.handle(ev.request, conn);
        }
      }
    });
  }

  private async handle(req: RtspRequest, conn: FakeConnection): Promise<void> {
    if (this.opts.onRequest && (await this.opts.onRequest(req, conn, this))) return;
    const base = `rtsp://127.0.0.1:${this.port}/media`;
    const sessionId = req.headers.get('Session')?.split(';')[0];
    switch (req.method) {
      case 'OPTIONS':
        return conn.respond(req, 200, { Public: 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER' });
      case 'DESCRIBE':
        return conn.respond(req, 200, { 'Content-Type': 'application/sdp', 'Content-Base': `${base}/` }, this.sdp(base));
      case 'SETUP': {
        let s = sessionId ? this.sessions.get(sessionId) : undefined;
        if (!s) {
          s = { id: `fake${this.nextSession++}`, tracks: [], conn };
          this.sessions.set(s.id, s);
        }
        const kind = /(trackID|stream)=1$/.test(req.uri) ? 'audio' : 'video';
        const t = parseTransport(req.headers.get('Transport') ?? '');
        const spec = t.ok ? t.value[0] : undefined;
        if (!spec) return conn.respond(req, 461);
        const timeout = this.opts.sessionTimeoutSec ?? 60;
        if (spec.interleaved) {
          s.tracks.push({ kind, interleaved: spec.interleaved });
          return conn.respond(req, 200, {
            Session: `${s.id};timeout=${timeout}`,
            Transport: `RTP/AVP/TCP;unicast;interleaved=${spec.interleaved[0]}-${spec.interleaved[1]}`,
          });
        }
        if (!spec.clientPort) return conn.respond(req, 461);
        s.tracks.push({ kind, udp: { client: spec.clientPort } });
        return conn.respond(req, 200, {
          Session: `${s.id};timeout=${timeout}`,
          Transport: `RTP/AVP;unicast;client_port=${spec.clientPort[0]}-${spec.clientPort[1]};server_port=${this.udpPair!.rtpPort}-${this.udpPair!.rtcpPort}`,
        });
      }
      case 'PLAY': {
        const s = sessionId ? this.sessions.get(sessionId) : undefined;
        if (!s) return conn.respond(req, 454);
        conn.respond(req, 200, { Session: s.id, Range: 'npt=0.000-' });
        this.stream(s);
        return;
      }
      case 'PAUSE': {
        const s = sessionId ? this.sessions.get(sessionId) : undefined;
        if (s?.timer) clearInterval(s.timer);
        return conn.respond(req, 200, { Session: sessionId ?? '' });
      }
      case 'TEARDOWN': {
        const s = sessionId ? this.sessions.get(sessionId) : undefined;
        if (s?.timer) clearInterval(s.timer);
        if (sessionId) this.sessions.delete(sessionId);
        return conn.respond(req, 200);
      }
      case 'GET_PARAMETER':
        return conn.respond(req, 200, sessionId ? { Session: sessionId } : {});
      default:
        return conn.respond(req, 501);
    }
  }

  /** 25 fps video (one IDR NAL per frame) and AAC at 48 kHz (one AU per packet), in real time. */
  private stream(s: FakeSession): void {
    let frame = 0;
    let audio = 0;
    const seq = { video: 1000, audio: 5000 };
    const start = performance.now();
    const tick = () => {
      if (this.opts.stopAfterFrames !== undefined && frame >= this.opts.stopAfterFrames) return;
      const elapsed = performance.now() - start;
      while (frame * 40 <= elapsed) {
        const nal = Buffer.alloc(200, frame & 0xff);
        nal[0] = 0x65; // nal_ref_idc 3, type 5 (IDR slice)
        this.send(s, 'video', rtp(FAKE_VIDEO_PT, seq.video++, frame * 3600, FAKE_VIDEO_SSRC, true, nal));
        if (this.opts.foreignSsrcEvery && frame % this.opts.foreignSsrcEvery === 0) {
          this.send(s, 'video', rtp(FAKE_VIDEO_PT, 7, 12345, FAKE_FOREIGN_SSRC, true, nal));
        }
        if (this.opts.foreignAddressEvery && frame % this.opts.foreignAddressEvery === 0) {
          const t = s.tracks.find((x) => x.kind === 'video')?.udp;
          if (t) this.foreign!.send(rtp(FAKE_VIDEO_PT, seq.video, frame * 3600, FAKE_VIDEO_SSRC, true, nal), t.client[0], '127.0.0.1');
        }
        frame++;
        this.framesSent = frame;
      }
      while ((audio * 1024 * 1000) / 48000 <= elapsed) {
        const au = Buffer.alloc(100, audio & 0xff);
        const hdr = Buffer.from([0x00, 0x10, (au.length >> 5) & 0xff, (au.length & 0x1f) << 3]); // AU-headers-length 16 bits, size 13 + index 3
        this.send(s, 'audio', rtp(FAKE_AUDIO_PT, seq.audio++, audio * 1024, FAKE_AUDIO_SSRC, true, Buffer.concat([hdr, au])));
        audio++;
      }
    };
    tick();
    s.timer = setInterval(tick, 10);
  }

  private send(s: FakeSession, kind: 'video' | 'audio', pkt: Buffer): void {
    const t = s.tracks.find((x) => x.kind === kind);
    if (!t) return;
    if (t.interleaved) s.conn.interleaved(t.interleaved[0], pkt);
    else if (t.udp && this.opts.udp !== 'silent') this.udpPair!.rtp.send(pkt, t.udp.client[0], '127.0.0.1');
  }

  /** Closes every connection (the receiver sees the server go away). */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.sessions.values()) if (s.timer) clearInterval(s.timer);
    for (const s of this.sockets) s.destroy();
    this.udpPair?.close();
    this.foreign?.close();
    await new Promise<void>((resolve) => this.tcp.close(() => resolve()));
  }
}

/** A 12-byte RTP header (v=2, no padding/extension/CSRC) and the payload. */
export function rtp(pt: number, seq: number, ts: number, ssrc: number, marker: boolean, payload: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = (marker ? 0x80 : 0) | pt;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(ssrc >>> 0, 8);
  return Buffer.concat([h, payload]);
}
