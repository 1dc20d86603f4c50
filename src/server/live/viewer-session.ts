import type { Socket } from 'node:net';
import type { TransportSpec } from '../../rtsp/index.ts';
import { InterleavedEgress } from '../../transport/index.ts';
import type { Egress, UdpPortPair } from '../../transport/index.ts';
import { RtspError } from '../errors.ts';
import { connectUdpSetup } from '../session-support.ts';
import type { RtcpSession } from '../../sender/rtcp-session.ts';
import type { SessionContext } from '../session/context.ts';
import type { SessionTraffic, StreamTrackStart } from '../session/server-events.ts';
import { transportLabel } from '../session/transport-negotiation.ts';
import { RtspSessionCore } from '../session/rtsp-session.ts';
import type { ChannelViewer, LiveChannel } from './live-channel.ts';
import type { LiveSink, LiveTrack } from './live-track.ts';
import type { MulticastGroup } from './multicast.ts';
import { liveRtcp } from './rtcp-view.ts';

/** One SETUP'd track of a viewer: unicast (its own egress, RTCP and sink) or a shared multicast group. */
export interface ViewerSetup {
  track: LiveTrack;
  transport: TransportSpec;
  egress?: Egress;
  rtcp?: RtcpSession;
  sink?: LiveSink;
  /** Packets and bytes of the sinks this track had before the current one (PLAY, PAUSE, PLAY). */
  sentBefore: { packets: number; bytes: number };
  udp?: UdpPortPair;
  group?: MulticastGroup;
  joined: boolean;
}

/**
 * A viewer of a live channel: an RTSP session (same state machine and timeout as a file session)
 * whose tracks join the channel's shared sender at PLAY and leave at PAUSE/TEARDOWN.
 */
export class LiveViewerSession extends RtspSessionCore implements ChannelViewer {
  readonly setups = new Map<string, ViewerSetup>();
  /** The channel's source stopped after this viewer joined (it got its BYE). */
  ended = false;

  constructor(
    id: string,
    readonly channel: LiveChannel,
    clientIp: string,
    ctx: SessionContext,
  ) {
    super(id, 'live-viewer', clientIp, ctx);
    channel.viewers.add(this);
  }

  get media(): string {
    return `live/${this.channel.name}`;
  }

  private get closed(): boolean {
    return this.isClosed;
  }

  private rejectDouble(track: LiveTrack): void {
    if (this.setups.has(track.control)) throw new RtspError(455, 'SRV_ERR_ALREADY_SETUP', `${track.control} is already set up`);
  }

  async setupUdp(track: LiveTrack, clientPorts: [number, number]): Promise<TransportSpec> {
    this.rejectDouble(track);
    const { pair, egress, transport } = await connectUdpSetup(this.ctx, () => this.closed, this.clientIp, clientPorts);
    transport.ssrc = track.sender.ssrc;
    const setup = this.addUnicast(track, egress, transport);
    setup.udp = pair;
    pair.rtp.on('message', () => this.touch());
    pair.rtcp.on('message', (msg, rinfo) => setup.rtcp!.receive(msg, `${rinfo.address}:${rinfo.port}`));
    return transport;
  }

  setupInterleaved(track: LiveTrack, socket: Socket, channels: [number, number]): TransportSpec {
    this.rejectDouble(track);
    let setup: ViewerSetup | undefined;
    const transport = this.bindInterleaved(socket, channels, [
      { channel: channels[1], handler: (data) => setup?.rtcp?.receive(data, `tcp:${channels[1]}`) },
    ]);
    transport.ssrc = track.sender.ssrc;
    setup = this.addUnicast(track, new InterleavedEgress(socket, channels[0], channels[1]), transport);
    return transport;
  }

  setupMulticast(track: LiveTrack, group: MulticastGroup): TransportSpec {
    this.rejectDouble(track);
    const transport: TransportSpec = {
      protocol: 'RTP',
      profile: 'AVP',
      lowerTransport: 'UDP',
      delivery: 'multicast',
      destination: group.address,
      port: [group.port, group.port + 1],
      ttl: group.ttl,
      ssrc: track.sender.ssrc,
      unknownParams: [],
    };
    this.setups.set(track.control, { track, transport, group, joined: false, sentBefore: { packets: 0, bytes: 0 } });
    return transport;
  }

  private addUnicast(track: LiveTrack, direct: Egress, transport: TransportSpec): ViewerSetup {
    const egress = this.trackEgress(direct, track.control, this.channel.tracks.indexOf(track));
    const setup: ViewerSetup = { track, transport, egress, joined: false, sentBefore: { packets: 0, bytes: 0 } };
    setup.rtcp = liveRtcp(track, egress, () => setup.joined, this.ctx, {
      sessionId: this.id,
      media: this.media,
      onActivity: () => this.touch(),
    });
    this.setups.set(track.control, setup);
    return setup;
  }

  /** RTP-Info for PLAY: the sequence number and RTP time each track sends next. */
  rtpInfo(): StreamTrackStart[] {
    const wall = this.ctx.clock.wallNow();
    return [...this.setups.values()].map((s) => ({
      control: s.track.control,
      ssrc: s.track.sender.ssrc,
      seq: s.track.sender.seq,
      rtptime: s.track.rtpTimeAtWall(wall),
    }));
  }

  /** Joins every track at the channel's current point (after the PLAY response went out). */
  startSending(): void {
    if (this.closed || this.ended || !this.channel.live) return;
    for (const s of this.setups.values()) {
      if (s.joined) continue;
      s.joined = true;
      if (s.group) {
        s.group.join();
      } else {
        s.sink = s.track.join(s.egress!);
        s.rtcp!.start();
      }
    }
  }

  /** Stops sending to this viewer (PAUSE); the channel goes on. */
  stopSending(): void {
    for (const s of this.setups.values()) {
      if (!s.joined) continue;
      s.joined = false;
      if (s.group) {
        s.group.leave();
      } else {
        this.leaveSink(s);
        s.rtcp!.pause();
      }
    }
  }

  channelEnded(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const s of this.setups.values()) {
      if (s.group) s.group.channelEnded(reason);
      else {
        this.leaveSink(s);
        // The stream's end (RFC 3550 §6.6): only to viewers that were sent anything.
        if (s.joined) s.rtcp!.sendBye(reason);
      }
      s.joined = false;
    }
  }

  close(reason: string): void {
    if (!this.beginClose(reason)) return;
    const wasPlaying = !this.ended;
    for (const s of this.setups.values()) {
      if (s.group) {
        if (s.joined) s.group.leave();
      } else {
        this.leaveSink(s);
        if (reason !== 'connection closed' && wasPlaying) s.rtcp!.sendBye(reason === 'timeout' ? 'session timeout' : 'teardown');
        s.rtcp!.close();
      }
      const udp = s.udp;
      if (udp) setImmediate(() => udp.close());
    }
    this.releaseEgresses();
    this.channel.viewers.delete(this);
  }

  private leaveSink(s: ViewerSetup): void {
    if (!s.sink) return;
    s.track.leave(s.sink);
    s.sentBefore.packets += s.sink.packets;
    s.sentBefore.bytes += s.sink.bytes;
    s.sink = undefined;
  }

  get transport(): string {
    return transportLabel([...this.setups.values()].map((s) => s.transport));
  }

  traffic(): SessionTraffic {
    const setups = [...this.setups.values()];
    const sent = (s: ViewerSetup) => ({
      packets: s.sentBefore.packets + (s.sink?.packets ?? 0),
      bytes: s.sentBefore.bytes + (s.sink?.bytes ?? 0),
    });
    return {
      transport: this.transport,
      packetsSent: setups.reduce((n, s) => n + sent(s).packets, 0),
      bytesSent: setups.reduce((n, s) => n + sent(s).bytes, 0),
      lastReports: setups.flatMap((s) => (s.rtcp?.lastReport ? [s.rtcp.lastReport] : [])),
    };
  }
}
