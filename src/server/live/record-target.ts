import { parseRtcpPackets } from '../../rtcp/index.ts';
import type { TransportSpec } from '../../rtsp/index.ts';
import type { ByteStream } from '../../transport/index.ts';
import { InterleavedEgress } from '../../transport/index.ts';
import type { ScheduledTask } from '../../transport/index.ts';
import { createLogger } from '../../util/log.ts';
import { RtspError } from '../errors.ts';
import type { SessionMethod } from '../session/method-table.ts';
import type { PlayAnswer, Presentation, PresentationTraffic, SetupBase } from '../session/presentation.ts';
import type { RtspSession } from '../session/rtsp-session.ts';
import { udpTransport } from '../session/udp-setup.ts';
import type { LiveChannel } from './live-channel.ts';
import type { AnnouncedTrack } from './live-sdp.ts';
import { TrackRelay } from './track-relay.ts';

const log = createLogger('live');

/** What a publisher sent us, for the snapshot and tests. */
export interface PublisherCounters {
  rtpReceived: number;
  relayed: number;
  /** Not RTP, or a payload type the SDP did not announce: dropped. */
  malformed: number;
  /** UDP datagrams from an address or port other than the publisher's (its Transport client_port): dropped. */
  foreign: number;
  /** RTP from another SSRC than the track's (Transport ssrc=, else its first packet's): dropped. */
  wrongSsrc: number;
  senderReports: number;
  /** RR + SDES compounds we sent to the publisher (RFC 3550 §6.4.2), the final BYE's included. */
  receiverReports: number;
}

/** A set-up announced track (the session's setups, by index). */
export interface PublisherSetup extends SetupBase {
  /** Sends a compound to the publisher's RTCP port (UDP) or odd interleaved channel (TCP). */
  sendRtcp: (packet: Buffer) => void;
}

/** An RTSP session publishing to a live channel. */
export type PublisherSession = RtspSession<PublisherSetup, RecordTarget>;

/** What a publisher answers (no PLAY). */
const RECORD_METHODS: readonly SessionMethod[] = ['SETUP', 'PAUSE', 'RECORD', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER'];

/**
 * A publisher (RFC 2326 ANNOUNCE + SETUP mode=record + RECORD): owns its channel's path from
 * ANNOUNCE until it leaves; relays every RTP packet it sends to the channel's viewers with the
 * channel's own SSRC, sequence numbers and timestamps (headers rewritten, gaps kept), and takes
 * the NTP↔RTP mapping of its sender reports for ours. Leaving (TEARDOWN, connection lost,
 * timeout) ends the stream: every viewer gets a BYE.
 *
 * As an RTP receiver it also reports back (RFC 3550 §6): per track RR + SDES CNAME at the A.7
 * interval from RECORD on, with loss, jitter and LSR/DLSR of the publisher's source, and a BYE
 * when it leaves (see publisher-rtcp.ts).
 */
export class RecordTarget implements Presentation {
  readonly kind = 'publisher' as const;
  readonly methods = RECORD_METHODS;
  readonly tracks: TrackRelay[];
  readonly counters: PublisherCounters = {
    rtpReceived: 0,
    relayed: 0,
    malformed: 0,
    foreign: 0,
    wrongSsrc: 0,
    senderReports: 0,
    receiverReports: 0,
  };
  private rtcpTasks: ScheduledTask[] = [];

  constructor(
    private readonly session: PublisherSession,
    readonly channel: LiveChannel,
    /** The RTSP connection it publishes on (interleaved media comes in there; losing it ends the stream). */
    readonly socket: ByteStream,
    announced: AnnouncedTrack[],
  ) {
    const ctx = session.ctx;
    this.tracks = announced.map((a) => new TrackRelay(a, { ssrc: ctx.random.uint32(), cname: ctx.cname }));
    channel.publisher = this;
    session.bindConnection(socket);
  }

  private get ctx() {
    return this.session.ctx;
  }

  private get clientIp(): string {
    return this.session.clientIp;
  }

  private get state() {
    return this.session.state;
  }

  get media(): string {
    return this.channel.path;
  }

  private get closed(): boolean {
    return this.session.isClosed;
  }

  /**
   * The announced track a SETUP URL names: its last path segment against each `a=control`
   * (relative or absolute), else the first track not set up yet.
   */
  trackFor(lastSegment: string | undefined): { i: number; t: TrackRelay } {
    if (lastSegment !== undefined) {
      const i = this.tracks.findIndex((t) => t.announced.control !== '' && t.announced.control.split('/').pop() === lastSegment);
      const t = this.tracks[i];
      if (t) return { i, t };
    }
    const i = this.tracks.findIndex((_, k) => !this.session.setups.has(String(k)));
    const t = this.tracks[i];
    if (!t) throw new RtspError(459, 'SRV_ERR_AGGREGATE', 'every announced track is already set up');
    return { i, t };
  }

  /**
   * A UDP track: only datagrams from the publisher's address and the ports its Transport declared
   * (client_port RTP-RTCP) get in; anyone else on the network, or another program of the same
   * host, is counted in `foreign` and dropped (RFC 3550 §8.2 / INTEROP 7: match on ip and port).
   * With `ssrc` (Transport ssrc=) only that source is relayed; without, the first packet's.
   */
  async setupTrack(control: string | undefined, spec: TransportSpec): Promise<TransportSpec> {
    const { i, t } = this.trackFor(control);
    const setup = await this.session.addSetup(String(i), () =>
      spec.lowerTransport === 'TCP'
        ? this.interleaved(i, t, spec.interleaved ?? [2 * i, 2 * i + 1])
        : this.udp(i, t, spec.clientPort ?? [0, 0], spec.ssrc),
    );
    return setup.transport;
  }

  private async udp(i: number, t: TrackRelay, clientPorts: [number, number], ssrc?: number): Promise<PublisherSetup> {
    const pair = await this.session.bindUdp(4 * 1024 * 1024);
    if (ssrc !== undefined) t.ssrc = ssrc >>> 0;
    const fromPublisher = (address: string, port: number, expected: number) => {
      const ok = port === expected && (address.startsWith('::ffff:') ? address.slice(7) : address) === this.clientIp;
      if (!ok) this.foreignDatagram(address, port);
      return ok;
    };
    pair.rtp.on('message', (msg, rinfo) => {
      if (fromPublisher(rinfo.address, rinfo.port, clientPorts[0])) this.receiveRtp(i, t, msg);
    });
    pair.rtcp.on('message', (msg, rinfo) => {
      if (fromPublisher(rinfo.address, rinfo.port, clientPorts[1])) this.receiveRtcp(i, t, msg);
    });
    return {
      transport: { ...udpTransport(clientPorts, pair), mode: 'record' },
      udp: pair,
      // The pair is not connected (SETUP record may come before the publisher's first datagram):
      // reports go to its client_port RTCP port explicitly.
      sendRtcp: (packet) => {
        try {
          pair.rtcp.send(packet, clientPorts[1], this.clientIp, () => {});
        } catch {
          // Socket already closed: the session is ending.
        }
      },
    };
  }

  private interleaved(i: number, t: TrackRelay, channels: [number, number]): PublisherSetup {
    const bound = this.session.bindInterleaved(this.socket, channels, [
      { channel: channels[0], handler: (data) => this.receiveRtp(i, t, data) },
      { channel: channels[1], handler: (data) => this.receiveRtcp(i, t, data) },
    ]);
    const egress = new InterleavedEgress(this.socket, channels[0], channels[1]);
    return { transport: { ...bound, mode: 'record' }, sendRtcp: (packet) => egress.sendRtcp(packet) };
  }

  /** A publisher sends; it does not play. */
  async play(): Promise<PlayAnswer> {
    throw new RtspError(455, 'SRV_ERR_NO_SESSION', 'PLAY needs a viewer Session');
  }

  /** GStreamer's rtspclientsink PAUSEs before its TEARDOWN: the stream goes on until it leaves. */
  pause(): undefined {
    return undefined;
  }

  /** RECORD (state checked, committed after): the channel takes the announced formats and goes live. */
  record(): void {
    if (this.state === 'recording') return;
    this.channel.setFormats(this.tracks.map((t) => t.announced.format));
    this.channel.goLive();
    this.startReports();
  }

  /** What the publisher moved: packets taken in, receiver reports sent back. */
  traffic(): PresentationTraffic {
    const c = this.counters;
    return { packetsSent: 0, bytesSent: 0, packetsReceived: c.rtpReceived, reportsSent: c.receiverReports, lastReports: [] };
  }

  private foreignDatagram(address: string, port: number): void {
    this.counters.foreign++;
    const n = this.counters.foreign;
    if (n === 1 || n % 1000 === 0)
      log.warn("datagram not from the publisher's address and ports; dropped", {
        channel: this.channel.name,
        from: `${address}:${port}`,
        count: n,
      });
  }

  /** RTP of announced track `i` (`t`), relayed into the channel's track of the same index. */
  private receiveRtp(i: number, t: TrackRelay, buf: Buffer): void {
    if (this.closed || this.state !== 'recording') return;
    this.counters.rtpReceived++;
    const outcome = t.rtp(buf, this.channel.tracks[i], this.ctx.clock.now(), this.ctx.clock.wallNow());
    if (outcome === 'malformed') {
      this.counters.malformed++;
      if (this.counters.malformed === 1 || this.counters.malformed % 1000 === 0) {
        log.warn('publisher sent packets that are not the announced RTP; dropped', {
          channel: this.channel.name,
          count: this.counters.malformed,
        });
      }
      return;
    }
    if (outcome === 'wrong-ssrc') {
      this.counters.wrongSsrc++;
      const n = this.counters.wrongSsrc;
      if (n === 1 || n % 1000 === 0)
        log.warn("RTP from another SSRC than the publisher's; dropped", {
          channel: this.channel.name,
          ssrc: buf.readUInt32BE(8),
          count: n,
        });
      return;
    }
    this.session.touch();
    this.counters.relayed++;
  }

  private receiveRtcp(i: number, t: TrackRelay, buf: Buffer): void {
    if (this.closed) return;
    const parsed = parseRtcpPackets(buf);
    if (!parsed.ok) {
      this.ctx.counters.rtcpMalformed++;
      return;
    }
    this.session.touch();
    const now = this.ctx.clock.now();
    for (const p of parsed.value) {
      if (p.type === 'sr' && t.senderReport(p.ssrc, p.senderInfo, this.channel.tracks[i], now)) this.counters.senderReports++;
    }
  }

  /** One RTCP timer per set-up track, first report after the A.7 initial interval. */
  private startReports(): void {
    for (const [k, t] of this.tracks.entries()) {
      const setup = this.session.setups.get(String(k));
      if (!setup) continue;
      const task: ScheduledTask = {
        run: (now) => {
          if (this.closed) return Infinity;
          this.sendReport(t, setup);
          return now + t.rtcp.nextIntervalMs(() => this.ctx.random.float());
        },
      };
      this.rtcpTasks.push(task);
      this.ctx.scheduler.scheduleLazy(task, this.ctx.clock.now() + t.rtcp.nextIntervalMs(() => this.ctx.random.float()));
    }
  }

  private sendReport(t: TrackRelay, setup: PublisherSetup, bye?: string): void {
    setup.sendRtcp(t.rtcp.report(this.ctx.clock.now(), bye));
    this.counters.receiverReports++;
  }

  close(reason: string): void {
    for (const task of this.rtcpTasks) this.ctx.scheduler.remove(task);
    if (this.state === 'recording') {
      for (const [k, t] of this.tracks.entries()) {
        const setup = this.session.setups.get(String(k));
        if (setup) this.sendReport(t, setup, reason);
      }
    }
    if (this.channel.publisher === this) this.channel.publisher = undefined;
    if (this.state === 'recording') this.channel.end(`publisher left (${reason})`);
    log.debug('publisher counters', { channel: this.channel.name, session: this.session.id, reason, ...this.counters });
  }
}
