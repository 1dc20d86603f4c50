import dgram from 'node:dgram';
import os from 'node:os';
import { Scheduler, UdpSenderEgress } from '../../transport/index.ts';
import type { PortRange } from '../../transport/index.ts';
import { realClock } from '../../util/clock.ts';
import type { Clock } from '../../util/clock.ts';
import { cryptoRandom } from '../../util/random.ts';
import type { Random } from '../../util/random.ts';
import { ntpFromUnixMs } from '../../util/ntp.ts';
import { createLogger } from '../../util/log.ts';
import { PlayTimeline } from '../../sender/play-timeline.ts';
import type { ReceiverReportRecord } from '../../sender/qos.ts';
import { RtcpSession } from '../../sender/rtcp-session.ts';
import { RtpSender } from '../../sender/rtp-sender.ts';
import { RtpStream } from '../../sender/rtp-stream.ts';
import { END_OF_STREAM_BYE_DELAY_MS } from '../file-presentation.ts';
import { parsePushUrl, resolveDestination } from './destination.ts';
import type { PushDestination } from './destination.ts';
import { PushError } from './errors.ts';
import { openFileInput } from './file-input.ts';
import type { PushInput, PushTrackInput } from './file-input.ts';
import { LIVE_PREFIX, openLiveInput } from './live-input.ts';
import { pushSdp } from './push-sdp.ts';

const log = createLogger('push');

export interface PushOptions {
  /** A media file (MP4/MOV), or `ffmpeg:<input args>` for a live source (sent as MP2T). */
  file: string;
  /** `rtp://ADDR:PORT`: track i goes to PORT + 2i (RTCP + 1) unless `ports` says otherwise. */
  to: string;
  /** Multicast TTL (default 1). */
  ttl?: number;
  /** Local IPv4 address of the outgoing interface; undefined lets the OS choose. */
  interfaceAddress?: string;
  /** Per-track ports, `RTP[:RTCP],...` (see trackPorts). */
  ports?: string;
  /** Largest IP packet (default 1500): payloads are cut so IP + UDP + RTP headers fit. */
  mtu?: number;
  /** Media time to start at (the keyframe at or before it). */
  startNpt?: number;
  /** Seconds of media to send, then stop (with --loop: in total, across loops). */
  durationSec?: number;
  /** Play the file over and over; sequence numbers and timestamps run on. */
  loop?: boolean;
  clock?: Clock;
  /** cname, SSRCs, first sequence numbers and RTCP intervals (default cryptoRandom). */
  random?: Random;
  scheduler?: Scheduler;
  /** Where our own RTP/RTCP pair is bound (default 6970-32767). */
  localPorts?: PortRange;
  /** o= session id (default: the NTP seconds now, RFC 4566 §5.2). */
  sdpSessionId?: string;
}

export interface PushTrackSummary {
  media: string;
  ssrc: number;
  payloadType: number;
  rtpPort: number;
  rtcpPort: number;
  packets: number;
  octets: number;
  /** Next sequence number (the one after the last sent). */
  nextSeq: number;
  /** RTCP datagrams that reached the push's RTCP ports (all tracks together). */
  rtcpReceived: number;
  /** Report blocks about this track's SSRC (from RR or SR packets). */
  reportsReceived: number;
  lastReport: ReceiverReportRecord | undefined;
  dropped: number;
}

export interface PushSummary {
  reason: string;
  tracks: PushTrackSummary[];
}

interface PushTrack {
  input: PushTrackInput;
  sender: RtpSender;
  stream: RtpStream;
  rtcp: RtcpSession;
  egress: UdpSenderEgress;
}

/**
 * `streamlab push`: a file's tracks (or a live source) sent as RTP/RTCP to a fixed unicast or
 * multicast address, no RTSP. Reuses the server's parts: the file is packetized by the catalog's
 * PacketizedTrack, each track goes out through an RtpStream on a PlayTimeline driven by the
 * Scheduler, and an RtcpSession sends SR + SDES at the A.7 interval, takes the receiver reports
 * that come back to our RTCP port and sends BYE at the end. `open()` prepares everything and
 * builds the SDP; nothing is sent before `start()`.
 */
export class Pusher {
  readonly timeline = new PlayTimeline();
  readonly counters = { rtcpMalformed: 0, rtcpReceived: 0, natKeepAlives: 0 };
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly random: Random;
  private started = false;
  private finished: Promise<PushSummary> | undefined;
  private resolveDone!: (s: PushSummary) => void;
  /** Resolves when the push has ended (end of media, duration, or stop()) and BYE went out. */
  readonly done = new Promise<PushSummary>((resolve) => (this.resolveDone = resolve));
  private startNpt = 0;

  private constructor(
    readonly input: PushInput,
    readonly destination: PushDestination,
    readonly sdp: string,
    private readonly tracks: PushTrack[],
    private readonly o: PushOptions,
    clock: Clock,
    scheduler: Scheduler,
  ) {
    this.clock = clock;
    this.scheduler = scheduler;
    this.random = o.random ?? cryptoRandom;
  }

  static async open(o: PushOptions): Promise<Pusher> {
    const url = parsePushUrl(o.to);
    if (!url.ok) throw new PushError(url.code, url.message);
    const clock = o.clock ?? realClock;
    const input = o.file.startsWith(LIVE_PREFIX)
      ? openLiveInput(o.file.slice(LIVE_PREFIX.length), { mtu: o.mtu ?? 1500, clock, loop: !!o.loop, startNpt: o.startNpt })
      : await openFileInput(o.file, { mtu: o.mtu ?? 1500, loop: !!o.loop, startNpt: o.startNpt, durationSec: o.durationSec });
    const fail = async (err: PushError): Promise<never> => {
      await input.close();
      throw err;
    };
    const dest = resolveDestination({
      url: o.to,
      trackCount: input.tracks.length,
      ttl: o.ttl,
      interfaceAddress: o.interfaceAddress,
      ports: o.ports,
    });
    if (!dest.ok) return fail(new PushError(dest.code, dest.message));
    const d = dest.value;
    const scheduler = o.scheduler ?? new Scheduler(clock);
    const egresses: UdpSenderEgress[] = [];
    try {
      for (const p of d.ports) {
        egresses.push(
          await UdpSenderEgress.open({
            address: d.address,
            rtpPort: p.rtp,
            rtcpPort: p.rtcp,
            multicast: d.multicast ? { ttl: d.ttl, interfaceAddress: d.interfaceAddress } : undefined,
            bindAddress: d.interfaceAddress,
            localPorts: o.localPorts,
          }),
        );
      }
    } catch (err) {
      await Promise.all(egresses.map((e) => e.close()));
      return fail(new PushError('PUSH_ERR_MEDIA', `cannot open sockets towards ${d.address}: ${String(err)}`));
    }
    const sdp = pushSdp(
      input.tracks.map((t) => t.format),
      d,
      {
        name: input.name,
        originAddress: d.interfaceAddress ?? (await localAddressTowards(d.address, d.ports[0]!.rtp)),
        sessionId: o.sdpSessionId ?? String(ntpFromUnixMs(clock.wallNow()).seconds),
        tool: 'streamlab push',
      },
    );
    const pusher = new Pusher(input, d, sdp, [], o, clock, scheduler);
    pusher.build(egresses);
    return pusher;
  }

  private build(egresses: UdpSenderEgress[]): void {
    const cname = `streamlab-push-${this.random.hex(4)}@${os.hostname()}`;
    this.input.tracks.forEach((t, i) => {
      const egress = egresses[i]!;
      const sender = new RtpSender(t.source.format, egress, this.random);
      const stream = new RtpStream(
        t.control,
        t.source,
        sender,
        this.timeline,
        (s) => this.scheduler.schedule(s, this.clock.now()),
        () => this.streamEnded(),
        (s, err) => {
          log.error('cannot read media', { file: this.o.file, control: s.control, error: String(err) });
          void this.stop('media read error');
        },
      );
      const rtcp = new RtcpSession(sender, egress, {
        clock: this.clock,
        random: this.random,
        scheduler: this.scheduler,
        cname,
        isPlaying: () => stream.isPlaying,
        rtpAt: (nowMs) => stream.rtpTimeAt(this.timeline.mediaTimeAt(nowMs)),
        counters: this.counters,
        report: { sessionId: 'push', media: this.input.name, control: t.control, transport: 'udp' },
        onActivity: () => undefined,
        onReport: (r) =>
          log.info('receiver report', {
            control: r.control,
            from: r.from,
            fractionLost: r.fractionLost,
            cumulativeLost: r.cumulativeLost,
            jitterMs: r.jitterMs,
          }),
      });
      egress.onRtcp((msg, from) => rtcp.receive(msg, from));
      this.tracks.push({ input: t, sender, stream, rtcp, egress });
    });
    this.input.subscribe?.(
      () => {
        for (const t of this.tracks) if (t.stream.isPlaying) this.scheduler.schedule(t.stream, this.clock.now());
      },
      (reason) => void this.stop(reason),
    );
  }

  /** Starts sending now: every track from the keyframe at or before --start, on one timeline. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const positions = this.input.startPositions(this.o.startNpt ?? 0);
    this.startNpt = positions.startNpt;
    const end = this.o.durationSec !== undefined ? positions.startNpt + this.o.durationSec : Infinity;
    await Promise.all(this.tracks.map((t, i) => t.stream.seek(positions.indices[i]!, end)));
    if (this.finished) return;
    const now = this.clock.now();
    this.timeline.start(positions.startNpt, now);
    this.input.begin?.(now);
    for (const t of this.tracks) {
      t.stream.start();
      this.scheduler.schedule(t.stream, now);
      t.rtcp.start();
    }
    log.info('push started', {
      file: this.o.file,
      to: this.destination.address,
      ports: this.destination.ports,
      startNpt: positions.startNpt,
      loop: !!this.o.loop,
    });
  }

  /** Where the push started (npt of the keyframe at or before --start). */
  get startPosition(): number {
    return this.startNpt;
  }

  /** Per-track figures: what went out and what came back. */
  summary(reason = ''): PushSummary {
    return {
      reason,
      tracks: this.tracks.map((t, i) => ({
        media: t.input.format.media,
        ssrc: t.sender.ssrc,
        payloadType: t.sender.format.payloadType,
        rtpPort: this.destination.ports[i]!.rtp,
        rtcpPort: this.destination.ports[i]!.rtcp,
        packets: t.sender.stats.packets,
        octets: t.sender.stats.octets,
        nextSeq: t.sender.seq,
        rtcpReceived: this.counters.rtcpReceived,
        reportsReceived: t.rtcp.reportsReceived,
        lastReport: t.rtcp.lastReport,
        dropped: t.egress.dropped,
      })),
    };
  }

  /** Stops sending, sends BYE on every track (once started), closes sockets and the input. Idempotent. */
  stop(reason = 'stopped'): Promise<PushSummary> {
    this.finished ??= this.finish(reason);
    return this.finished;
  }

  private streamEnded(): void {
    if (!this.tracks.every((t) => t.stream.ended)) return;
    // As in the server: the BYE waits a little so that it cannot overtake the last RTP packets
    // (RTP and RTCP travel on different sockets; receivers end on BYE).
    this.clock.setTimeout(() => void this.stop('end of stream'), END_OF_STREAM_BYE_DELAY_MS);
  }

  private async finish(reason: string): Promise<PushSummary> {
    for (const t of this.tracks) {
      t.stream.stop();
      this.scheduler.remove(t.stream);
      if (this.started) t.rtcp.sendBye(reason);
      t.rtcp.close();
    }
    await Promise.all(this.tracks.map((t) => t.egress.close()));
    await this.input.close();
    const s = this.summary(reason);
    log.info('push ended', { reason, packets: s.tracks.map((t) => t.packets) });
    this.resolveDone(s);
    return s;
  }
}

/** The source address the OS would use towards `address` (for the SDP's o= line). */
async function localAddressTowards(address: string, port: number): Promise<string> {
  const s = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.connect(port, address, () => resolve());
    });
    const a = s.address().address;
    return a === '0.0.0.0' ? '127.0.0.1' : a;
  } catch {
    return '127.0.0.1';
  } finally {
    s.close();
  }
}
