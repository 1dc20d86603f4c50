import type { ByteStream } from '../../transport/index.ts';
import { parseRange } from '../../rtsp/index.ts';
import type { RtspRequest, TransportSpec } from '../../rtsp/index.ts';
import type { Egress } from '../../transport/index.ts';
import { RtspError, notFound } from '../errors.ts';
import { pickTrack } from '../session/setup-flow.ts';
import { isMulticastAddress } from './multicast.ts';
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

interface ViewerSetupBase extends SetupBase {
  track: LiveTrack;
  joined: boolean;
}

/** A unicast track of a viewer: its own egress, RTCP, and sink while it plays. */
export interface UnicastViewerSetup extends ViewerSetupBase {
  group?: undefined;
  egress: Egress;
  rtcp: RtcpSession;
  sink?: LiveSink;
  /** Packets and bytes of the sinks this track had before the current one (PLAY, PAUSE, PLAY). */
  sentBefore: { packets: number; bytes: number };
}

/** A track of a viewer in a shared multicast group (the group sends and keeps the RTCP). */
export interface MulticastViewerSetup extends ViewerSetupBase {
  group: MulticastGroup;
}

/** One SETUP'd track of a viewer: unicast or in a multicast group. */
export type ViewerSetup = UnicastViewerSetup | MulticastViewerSetup;

/** How a viewer's SETUP joins a multicast group (the live hub's allocator). */
export interface ViewerMulticast {
  /** Whether a client may name the group (Transport destination). */
  allowClientDestination: boolean;
  group(track: LiveTrack, chosen?: { address: string; port?: number }): Promise<MulticastGroup>;
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
    /** Multicast SETUP, when the server has a multicast range (`serve --multicast`). */
    private readonly multicastGroups?: ViewerMulticast,
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

  /**
   * SETUP of a track over UDP or interleaved channels on `socket` (unicast), or in a multicast
   * group: the server's, or the client's `destination` when the server allows it (403 otherwise).
   */
  async setupTrack(control: string | undefined, spec: TransportSpec, socket: ByteStream): Promise<TransportSpec> {
    const track = pickTrack(this.channel.tracks, control, (c) => this.setups.has(c), this.media);
    const groups = spec.delivery === 'multicast' ? this.multicastGroups : undefined;
    let chosen: { address: string; port?: number } | undefined;
    if (groups && spec.destination) {
      if (!groups.allowClientDestination) {
        throw new RtspError(403, 'SRV_ERR_DESTINATION', 'the server chooses the multicast group (destination not allowed)');
      }
      if (!isMulticastAddress(spec.destination))
        throw new RtspError(403, 'SRV_ERR_DESTINATION', `${spec.destination} is not a multicast group`);
      chosen = { address: spec.destination, port: spec.port?.[0] };
    }
    const setup = await this.session.addSetup(track.control, async () => {
      if (groups) return this.multicast(track, await groups.group(track, chosen));
      return this.session.playPath(
        spec,
        socket,
        { control: track.control, index: this.channel.tracks.indexOf(track) },
        (egress, transport) => this.unicast(track, egress, { ...transport, ssrc: track.sender.ssrc }),
        (s) => (s.group ? undefined : s.rtcp),
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
    return { track, transport, group, joined: false };
  }

  private unicast(track: LiveTrack, egress: Egress, transport: TransportSpec): ViewerSetup {
    const session = this.session;
    const rtcp = liveRtcp(track, egress, () => setup.joined, session.ctx, {
      sessionId: session.id,
      media: this.media,
      onActivity: () => session.touch(),
    });
    const setup: UnicastViewerSetup = { track, transport, egress, rtcp, joined: false, sentBefore: { packets: 0, bytes: 0 } };
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
        seq: s.track.nextSeq,
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
        s.sink = s.track.join(s.egress);
        s.rtcp.start();
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
        s.rtcp.pause();
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
        if (s.joined) s.rtcp.sendBye(reason);
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
        if (reason !== 'connection closed' && wasPlaying) s.rtcp.sendBye(reason === 'timeout' ? 'session timeout' : 'teardown');
        s.rtcp.close();
      }
    }
    this.channel.viewers.delete(this);
  }

  private leaveSink(s: UnicastViewerSetup): void {
    if (!s.sink) return;
    s.track.leave(s.sink);
    s.sentBefore.packets += s.sink.packets;
    s.sentBefore.bytes += s.sink.bytes;
    s.sink = undefined;
  }

  /** What the viewer was sent (over every PLAY) and what it reported last per track. */
  traffic(): PresentationTraffic {
    const setups = [...this.setups.values()];
    // A multicast group's packets are the group's, counted once in the live snapshot.
    const unicast = setups.filter((s): s is UnicastViewerSetup => !s.group);
    const sent = (s: UnicastViewerSetup) => ({
      packets: s.sentBefore.packets + (s.sink?.packets ?? 0),
      bytes: s.sentBefore.bytes + (s.sink?.bytes ?? 0),
    });
    return {
      packetsSent: unicast.reduce((n, s) => n + sent(s).packets, 0),
      bytesSent: unicast.reduce((n, s) => n + sent(s).bytes, 0),
      lastReports: unicast.flatMap((s) => (s.rtcp.lastReport ? [s.rtcp.lastReport] : [])),
      reportedPackets: unicast.reduce(
        (n, s) => n + (s.rtcp.lastReport ? packetsUpToReport(sent(s).packets, s.track.nextSeq, s.rtcp.lastReport) : 0),
        0,
      ),
    };
  }
}
