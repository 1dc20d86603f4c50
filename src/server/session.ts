import type { Socket } from 'node:net';
import { createLogger } from '../util/log.ts';
import type { TransportSpec } from '../rtsp/index.ts';
import { InterleavedEgress } from '../transport/index.ts';
import type { Egress, UdpPortPair } from '../transport/index.ts';
import { RtspError } from './errors.ts';
import type { MediaEntry, ServedTrack } from './media-catalog.ts';
import { PlayTimeline } from '../sender/play-timeline.ts';
import { RtcpSession } from '../sender/rtcp-session.ts';
import { RtpSender } from '../sender/rtp-sender.ts';
import { RtpStream } from '../sender/rtp-stream.ts';
import { startIndexFor } from '../sender/seek.ts';
import { connectUdpSetup } from './session-support.ts';
import type { SessionContext } from './session/context.ts';
import type { SessionTraffic, StreamTrackStart } from './session/server-events.ts';
import { transportLabel } from './session/transport-negotiation.ts';
import { RtspSessionCore } from './session/rtsp-session.ts';
import { negotiateScale, negotiateSpeed } from '../sender/trick-play.ts';
import { positionStreams, retimeStreams } from './trick-session.ts';
import type { Random } from '../util/random.ts';

export type { ServerEvents, SessionContext } from './session/context.ts';

const log = createLogger('session');

/** One SETUP'd track of a session: its stream, where it goes and what its client reports. */
export interface TrackSetup {
  track: ServedTrack;
  stream: RtpStream;
  /** Where the stream's packets go: the client's ports or channels, through the impairment if any. */
  egress: Egress;
  rtcp: RtcpSession;
  transport: TransportSpec;
  udp?: UdpPortPair;
}

/** How long after a stream's last packet its BYE goes out (see streamEnded). */
export const END_OF_STREAM_BYE_DELAY_MS = 500;

/** Unguessable session id: 96 random bits as hex (from the server's Random: crypto unless a test seeds it). */
export function newSessionId(random: Random): string {
  return random.hex(12);
}

export interface PlayResult {
  startNpt: number;
  endNpt: number | undefined;
  rtpInfo: StreamTrackStart[];
  /** Scale and Speed actually used (RFC 2326 §12.34, §12.35). */
  scale: number;
  speed: number;
}

/**
 * An RTSP session (RFC 2326 §3, Appendix A): the tracks it set up, their RTP streams and RTCP,
 * the play position, and its timeout. The state machine itself is the pure `transition()`.
 */
export class ServerSession extends RtspSessionCore {
  readonly setups = new Map<string, TrackSetup>();
  readonly timeline = new PlayTimeline();
  /** Media position while paused (npt seconds). */
  private pausedAt = 0;

  /**
   * `media` is the name the client asked for (safe relative path): the catalog may share one
   * entry between names of one file (a symlink), so the session is checked against its own name.
   */
  constructor(
    id: string,
    readonly entry: MediaEntry,
    readonly media: string,
    clientIp: string,
    ctx: SessionContext,
  ) {
    super(id, 'file', clientIp, ctx);
  }

  private get closed(): boolean {
    return this.isClosed;
  }

  async setupUdp(track: ServedTrack, clientPorts: [number, number]): Promise<TransportSpec> {
    this.rejectDoubleSetup(track);
    const { pair, egress, transport } = await connectUdpSetup(this.ctx, () => this.closed, this.clientIp, clientPorts);
    const setup = this.addSetup(track, egress, transport);
    setup.udp = pair;
    pair.rtp.on('message', () => {
      // Clients "punch" the RTP port to open NATs; nothing to do with it beyond keep-alive.
      this.touch();
    });
    // Connected sockets: the kernel only delivers datagrams from the client's own ports.
    pair.rtcp.on('message', (msg, rinfo) => setup.rtcp.receive(msg, `${rinfo.address}:${rinfo.port}`));
    return transport;
  }

  setupInterleaved(track: ServedTrack, socket: Socket, channels: [number, number]): TransportSpec {
    this.rejectDoubleSetup(track);
    // RTCP from the client comes on the odd channel; the registry routes it here.
    let setup: TrackSetup | undefined;
    const transport = this.bindInterleaved(socket, channels, [
      { channel: channels[1], handler: (data) => setup?.rtcp.receive(data, `tcp:${channels[1]}`) },
    ]);
    setup = this.addSetup(track, new InterleavedEgress(socket, channels[0], channels[1]), transport);
    return transport;
  }

  private rejectDoubleSetup(track: ServedTrack): void {
    if (this.setups.has(track.control)) {
      throw new RtspError(455, 'SRV_ERR_ALREADY_SETUP', `${track.control} is already set up in this session`);
    }
  }

  private addSetup(track: ServedTrack, direct: Egress, transport: TransportSpec): TrackSetup {
    const egress = this.trackEgress(direct, track.control, this.entry.tracks.indexOf(track));
    const sender = new RtpSender(track.source.format, egress, this.ctx.random);
    const stream = new RtpStream(
      track.control,
      track.source,
      sender,
      this.timeline,
      (s) => this.ctx.scheduler.schedule(s, this.ctx.clock.now()),
      (s) => this.streamEnded(s),
      (s, err) => {
        // A read still in flight when the session closed (TEARDOWN, then the file closed) is moot.
        if (this.closed) return;
        log.error('cannot read media', { session: this.id, media: this.media, control: s.control, error: String(err) });
        this.close('media read error');
      },
    );
    const rtcp = new RtcpSession(sender, egress, {
      clock: this.ctx.clock,
      random: this.ctx.random,
      scheduler: this.ctx.scheduler,
      cname: this.ctx.cname,
      isPlaying: () => stream.isPlaying,
      rtpNow: () => stream.rtpTimeAt(this.timeline.mediaTimeAt(this.ctx.clock.now())),
      counters: this.ctx.counters,
      onActivity: () => this.touch(),
      report: { sessionId: this.id, media: this.media, control: track.control, transport: egress.kind },
      onReport: (record) => this.ctx.events.emit('receiver-report', record),
    });
    const setup: TrackSetup = { track, stream, egress, rtcp, transport };
    this.setups.set(track.control, setup);
    return setup;
  }

  /**
   * Positions every stream for PLAY. A paused session resumes where it stopped (continuous sequence
   * numbers and timestamps); a Range, or the first PLAY, seeks to the keyframe at or before the start.
   * PLAY without Range while playing changes nothing. Returns what the PLAY response reports and
   * whether begin() must (re)start sending once the response is out. A Scale ≠ 1, or the way back
   * to 1 from one, goes through prepareScaledPlay; Speed only sets the pace (timeline rate).
   */
  async preparePlay(
    range: { start?: number; end?: number } | undefined,
    rate: { scale?: number; speed?: number } = {},
  ): Promise<PlayResult & { restart: boolean }> {
    const duration = this.entry.durationSec;
    if (range?.start !== undefined && range.start > duration) {
      throw new RtspError(457, 'SRV_ERR_INVALID_RANGE', `start ${range.start} is beyond the end (${duration})`);
    }
    // Scale/Speed absent: unchanged by a PLAY that changes nothing (RFC 2326 §10.5), else 1.
    const same = range?.start === undefined && this.state === 'playing';
    const hasVideo = [...this.setups.values()].some((s) => s.track.source.track.kind === 'video');
    const scale = rate.scale !== undefined ? negotiateScale(rate.scale, hasVideo) : same ? this.scale : 1;
    const speed = rate.speed !== undefined ? negotiateSpeed(rate.speed) : same ? this.speed : 1;
    if (scale !== 1 || this.scale !== 1) return this.prepareScaledPlay(range, scale, speed);
    const speedChanged = speed !== this.speed;
    this.speed = speed;
    const end = range?.end !== undefined && range.end < duration ? range.end : undefined;
    const setups = [...this.setups.values()];
    let start: number;
    let restart = true;
    if (range?.start === undefined && this.state === 'playing') {
      start = this.timeline.mediaTimeAt(this.ctx.clock.now());
      restart = speedChanged;
    } else if (range?.start === undefined && this.everPlayed) {
      start = this.pausedAt;
    } else {
      for (const s of setups) {
        s.stream.stop();
        this.ctx.scheduler.remove(s.stream);
      }
      const positions = startIndexFor(
        setups.map((s) => s.track.source.track),
        range?.start ?? 0,
      );
      start = positions.startNpt;
      await Promise.all(setups.map((s, i) => s.stream.seek(positions.indices[i]!, end ?? Infinity)));
    }
    if (restart) this.startSegment(start, 1, speed);
    this.pausedAt = start;
    return { startNpt: start, endNpt: end, rtpInfo: this.rtpInfoAt(start), restart, scale: 1, speed };
  }

  private everPlayed = false;
  /** Scale and Speed of the current (or last) PLAY. */
  scale = 1;
  speed = 1;

  /** PLAY at Scale ≠ 1, or back to Scale 1 from it: see trick-session.ts. */
  private async prepareScaledPlay(
    range: { start?: number; end?: number } | undefined,
    scale: number,
    speed: number,
  ): Promise<PlayResult & { restart: boolean }> {
    const now = this.ctx.clock.now();
    const duration = this.entry.durationSec;
    const setups = [...this.setups.values()];
    const current =
      this.state === 'playing' ? Math.max(0, Math.min(duration, this.timeline.mediaTimeAt(now))) : this.everPlayed ? this.pausedAt : 0;
    if (range?.start === undefined && this.state === 'playing' && scale === this.scale && speed === this.speed) {
      this.pausedAt = current;
      return { startNpt: current, endNpt: undefined, rtpInfo: this.rtpInfoAt(current), restart: false, scale, speed };
    }
    for (const s of setups) {
      s.stream.stop();
      this.ctx.scheduler.remove(s.stream);
    }
    const placed = await positionStreams({
      streams: setups.map((s) => ({ stream: s.stream, track: s.track.source.track })),
      currentNpt: current,
      rangeStart: range?.start,
      rangeEnd: range?.end,
      scale,
      speed,
      durationSec: duration,
    });
    this.scale = scale;
    this.speed = speed;
    this.startSegment(placed.startNpt, scale, speed);
    this.pausedAt = placed.startNpt;
    return { startNpt: placed.startNpt, endNpt: placed.endNpt, rtpInfo: this.rtpInfoAt(placed.startNpt), restart: true, scale, speed };
  }

  /** Clock time a PLAY's segment starts at: its RTP timing (RTP-Info) and its timeline agree on it. */
  private segmentStartMs: number | undefined;

  /** How its tracks travel ('udp', 'tcp', or both). */
  get transport(): string {
    return transportLabel([...this.setups.values()].map((s) => s.transport));
  }

  traffic(): SessionTraffic {
    const setups = [...this.setups.values()];
    return {
      transport: this.transport,
      packetsSent: setups.reduce((n, s) => n + s.stream.sender.stats.packets, 0),
      bytesSent: setups.reduce((n, s) => n + s.stream.sender.stats.octets, 0),
      lastReports: setups.flatMap((s) => (s.rtcp.lastReport ? [s.rtcp.lastReport] : [])),
    };
  }

  /** RTP-Info at media time `npt`: what each track's next packet carries. */
  private rtpInfoAt(npt: number): StreamTrackStart[] {
    return [...this.setups.values()].map((s) => ({
      control: s.track.control,
      ssrc: s.stream.sender.ssrc,
      seq: s.stream.sender.seq,
      rtptime: s.stream.rtpTimeAt(npt),
    }));
  }

  /**
   * The streams' RTP clocks start the segment now, running on with wall time (see
   * RtpStream.retime). A track whose BYE went out at the end of the stream comes back as a new
   * source (new SSRC, fresh SR counts), before RTP-Info names its SSRC.
   */
  private startSegment(startNpt: number, scale: number, speed: number): void {
    for (const s of this.setups.values()) {
      if (s.rtcp.hasSentBye) {
        s.stream.sender.renewSsrc();
        s.rtcp.rejoin();
      }
    }
    this.segmentStartMs = this.ctx.clock.now();
    const streams = [...this.setups.values()].map((s) => ({ stream: s.stream, track: s.track.source.track }));
    retimeStreams(streams, startNpt, scale, speed, this.segmentStartMs);
  }

  /**
   * Starts (or resumes) sending, after the PLAY response went out. The timeline starts when the
   * segment's RTP timing did (a few ms back: the answer was written meanwhile), so the SR sent
   * first maps the same wall time to the same RTP time as RTP-Info.
   */
  begin(startNpt: number): void {
    if (this.closed) return;
    this.everPlayed = true;
    const now = this.ctx.clock.now();
    this.timeline.start(startNpt, Math.min(now, this.segmentStartMs ?? now), this.scale * this.speed);
    this.segmentStartMs = undefined;
    for (const s of this.setups.values()) {
      s.stream.start();
      // The SR first (RtcpSession.start), then the stream's first packet at the next wake.
      s.rtcp.start();
      this.ctx.scheduler.schedule(s.stream, now);
    }
  }

  pause(): number {
    const now = this.ctx.clock.now();
    if (this.state === 'playing') this.pausedAt = Math.max(0, Math.min(this.timeline.mediaTimeAt(now), this.entry.durationSec));
    for (const s of this.setups.values()) {
      s.stream.stop(now);
      this.ctx.scheduler.remove(s.stream);
      s.rtcp.pause();
    }
    return this.pausedAt;
  }

  private streamEnded(stream: RtpStream): void {
    const setup = this.setups.get(stream.control);
    // Not at once: over UDP, RTP and RTCP arrive on different sockets, and GStreamer's rtspsrc turns
    // a BYE into EOS on the spot, so a BYE that overtakes the last RTP packets loses them (seen:
    // the final frame missing in about one run in three). Skipped if the session closed (its own
    // BYE) or a new PLAY restarted the stream meanwhile.
    this.ctx.clock.setTimeout(() => {
      if (!this.closed && stream.ended) setup?.rtcp.sendBye('end of stream');
    }, END_OF_STREAM_BYE_DELAY_MS);
    this.ctx.events.emit('stream-ended', { id: this.id, control: stream.control });
    log.debug('stream ended', { session: this.id, control: stream.control, packets: stream.sender.stats.packets });
  }

  /** Frees everything the session holds: scheduler tasks, RTCP timers, UDP ports, the file. */
  close(reason: string): void {
    if (!this.beginClose(reason)) return;
    for (const s of this.setups.values()) {
      this.ctx.scheduler.remove(s.stream);
      s.stream.stop();
      if (reason !== 'connection closed') s.rtcp.sendBye(reason === 'timeout' ? 'session timeout' : 'teardown');
      s.rtcp.close();
      // Not synchronously: dgram resolves the destination on the next tick before it sends, so a
      // close now would silently drop the BYE just queued. setImmediate runs after that tick.
      const udp = s.udp;
      if (udp) setImmediate(() => udp.close());
    }
    this.releaseEgresses();
    this.ctx.releaseEntry(this.entry);
  }
}
