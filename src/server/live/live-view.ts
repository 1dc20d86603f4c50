import type { Socket } from 'node:net';
import { parseRange } from '../../rtsp/index.ts';
import type { RtspRequest, TransportSpec } from '../../rtsp/index.ts';
import type { Egress } from '../../transport/index.ts';
import { RtspError, notFound } from '../errors.ts';
import type { RtcpSession } from '../../sender/rtcp-session.ts';
import type { SessionMethod } from '../session/method-table.ts';
import type { PlayAnswer, Presentation, PresentationTraffic, SetupBase } from '../session/presentation.ts';
import type { RtspSession } from '../session/rtsp-session.ts';
import type { ChannelViewer, LiveChannel } from './live-channel.ts';
import { parseLiveTarget } from './live-target.ts';
import type { LiveSink, LiveTrack } from './live-track.ts';
import type { MulticastGroup } from './multicast.ts';
import { liveRtcp } from './rtcp-view.ts';
import { packetsUpToReport } from '../session-log.ts';

/** One SETUP'd track of a viewer: unicast (its own egress, RTCP and sink) or a shared multicast group. */
export interface ViewerSetup extends SetupBase {
  track: LiveTrack;
  egress?: Egress;
  rtcp?: RtcpSession;
  sink?: LiveSink;
  /** Packets and bytes of the sinks this track had before the current one (PLAY, PAUSE, PLAY). */
  sentBefore: { packets: number; bytes: number };
  group?: MulticastGroup;
  joined: boolean;
}

/** An RTSP session viewing a live channel. */
export type LiveViewSession = RtspSession<ViewerSetup, LiveView>;

/** What a viewer answers (no RECORD). */
const VIEW_METHODS: readonly SessionMethod[] = ['SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER'];

/**
 * A live channel as a session's presentation: the session's tracks join the channel's shared
 * sender at PLAY and leave at PAUSE/TEARDOWN; no seeking (any Range is answered `npt=now-`).
 */
export class LiveView implements Presentation, ChannelViewer {
  readonly kind = 'live-viewer' as const;
  readonly methods = VIEW_METHODS;
  /** The channel's source stopped after this viewer joined (it got its BYE). */
  ended = false;

  constructor(
    private readonly session: LiveViewSession,
    readonly channel: LiveChannel,
  ) {
    channel.viewers.add(this);
  }

  get media(): string {
    return this.channel.path;
  }

  private get closed(): boolean {
    return this.session.isClosed;
  }

  private get setups(): Map<string, ViewerSetup> {
    return this.session.setups;
  }

  /** SETUP of `track` over UDP or interleaved channels on `socket` (unicast), or in a multicast group. */
  async setupTrack(track: LiveTrack, spec: TransportSpec, socket: Socket, group?: () => Promise<MulticastGroup>): Promise<TransportSpec> {
    const setup = await this.session.addSetup(track.control, async () => {
      if (group) return this.multicast(track, await group());
      return this.session.playPath(
        spec,
        socket,
        (direct, transport) => this.unicast(track, direct, { ...transport, ssrc: track.sender.ssrc }),
        (s) => s.rtcp,
      );
    });
    return setup.transport;
  }

  private multicast(track: LiveTrack, group: MulticastGroup): ViewerSetup {
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
    return { track, transport, group, joined: false, sentBefore: { packets: 0, bytes: 0 } };
  }

  private unicast(track: LiveTrack, direct: Egress, transport: TransportSpec): ViewerSetup {
    const session = this.session;
    const egress = session.trackEgress(direct, track.control, this.channel.tracks.indexOf(track));
    const setup: ViewerSetup = { track, transport, egress, joined: false, sentBefore: { packets: 0, bytes: 0 } };
    setup.rtcp = liveRtcp(track, egress, () => setup.joined, session.ctx, {
      sessionId: session.id,
      media: this.media,
      onActivity: () => session.touch(),
    });
    return setup;
  }

  /**
   * PLAY: joins the channel where it is now. A live channel cannot seek: any valid Range is
   * answered as live (RFC 2326 §12.29, `npt=now-`); 404 once the channel has ended.
   */
  async play(req: RtspRequest): Promise<PlayAnswer> {
    const range = req.headers.get('Range');
    if (range !== undefined && !parseRange(range).ok) throw new RtspError(457, 'SRV_ERR_INVALID_RANGE', `unsupported Range ${range}`);
    if (this.ended || !this.channel.live) throw notFound(`${this.channel.path} has ended`);
    const base = parseLiveTarget(req.uri, (p) => p === this.channel.path);
    // RTP-Info: the sequence number and RTP time each track sends next.
    const wall = this.session.ctx.clock.wallNow();
    return {
      range: 'npt=now-',
      aggregateUrl: typeof base === 'object' ? base.aggregateUrl : this.channel.path,
      rtpInfo: [...this.setups.values()].map((s) => ({
        control: s.track.control,
        ssrc: s.track.sender.ssrc,
        seq: s.track.sender.seq,
        rtptime: s.track.rtpTimeAtWall(wall),
      })),
      begin: () => this.startSending(),
    };
  }

  /** PAUSE: this viewer stops receiving; the channel goes on. */
  pause(): string {
    this.stopSending();
    return 'npt=now-';
  }

  /** Joins every track at the channel's current point (after the PLAY response went out). */
  private startSending(): void {
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

  private stopSending(): void {
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
    const wasPlaying = !this.ended;
    for (const s of this.setups.values()) {
      if (s.group) {
        if (s.joined) s.group.leave();
      } else {
        this.leaveSink(s);
        if (reason !== 'connection closed' && wasPlaying) s.rtcp!.sendBye(reason === 'timeout' ? 'session timeout' : 'teardown');
        s.rtcp!.close();
      }
    }
    this.channel.viewers.delete(this);
  }

  private leaveSink(s: ViewerSetup): void {
    if (!s.sink) return;
    s.track.leave(s.sink);
    s.sentBefore.packets += s.sink.packets;
    s.sentBefore.bytes += s.sink.bytes;
    s.sink = undefined;
  }

  /** What the viewer was sent (over every PLAY) and what it reported last per track. */
  traffic(): PresentationTraffic {
    const setups = [...this.setups.values()];
    const sent = (s: ViewerSetup) => ({
      packets: s.sentBefore.packets + (s.sink?.packets ?? 0),
      bytes: s.sentBefore.bytes + (s.sink?.bytes ?? 0),
    });
    return {
      packetsSent: setups.reduce((n, s) => n + sent(s).packets, 0),
      bytesSent: setups.reduce((n, s) => n + sent(s).bytes, 0),
      lastReports: setups.flatMap((s) => (s.rtcp?.lastReport ? [s.rtcp.lastReport] : [])),
      reportedPackets: setups.reduce(
        (n, s) => n + (s.rtcp?.lastReport ? packetsUpToReport(sent(s).packets, s.track.sender.seq, s.rtcp.lastReport) : 0),
        0,
      ),
    };
  }
}
