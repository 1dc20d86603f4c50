import type { ByteStream } from '../transport/index.ts';
import { createLogger } from '../util/log.ts';
import { formatNptRange, formatScale, parseRange, parseScale } from '../rtsp/index.ts';
import type { RtspRequest, TransportSpec } from '../rtsp/index.ts';
import type { Egress } from '../transport/index.ts';
import { RtspError, badRequest, sessionNotFound } from './errors.ts';
import { safeRelativePath } from './media-path.ts';
import { parseRequestTarget } from './request-target.ts';
import type { MediaEntry, ServedTrack } from './media-catalog.ts';
import { PlayTimeline } from '../sender/play-timeline.ts';
import { RtcpSession } from '../sender/rtcp-session.ts';
import { RtpSender } from '../sender/rtp-sender.ts';
import { RtpStream } from '../sender/rtp-stream.ts';
import { startIndexFor } from '../sender/seek.ts';
import { alignedStartMs, betweenLattice, latticeStartMs } from '../sender/send-grid.ts';
import type { SessionMethod } from './session/method-table.ts';
import type { PlayAnswer, Presentation, PresentationTraffic, SetupBase } from './session/presentation.ts';
import { RtspSession, newSessionId } from './session/rtsp-session.ts';
import { findSession } from './session/session-requests.ts';
import { pickTrack } from './session/setup-flow.ts';
import { defaultImpairmentFor } from './path-access.ts';
import { sessionImpairment } from './session/presentation-requests.ts';
import type { PresentationSource, SdpOrigin } from './session/presentation-requests.ts';
import type { HandlerContext } from './session/request-context.ts';
import { chooseUnicast } from './session/transport-negotiation.ts';
import { describeSdp } from './describe.ts';
import { impairmentFromQuery } from './impairment.ts';
import type { RequestTarget } from './request-target.ts';
import type { ImpairmentSpec } from '../transport/index.ts';
import type { StreamTrackStart } from './session/server-events.ts';
import { negotiateScale, negotiateSpeed } from '../sender/trick-play.ts';
import { positionStreams, retimeStreams } from './trick-session.ts';
import { packetsUpToReport } from './session-log.ts';

export type { ServerEvents, SessionContext } from './session/context.ts';

const log = createLogger('session');

/** One SETUP'd track of a file session: its stream, where it goes and what its client reports. */
export interface TrackSetup extends SetupBase {
  track: ServedTrack;
  stream: RtpStream;
  /** Where the stream's packets go: the client's ports or channels, through the impairment if any. */
  egress: Egress;
  rtcp: RtcpSession;
}

/** An RTSP session playing a file. */
export type FileSession = RtspSession<TrackSetup, FilePresentation>;

/** How long after a stream's last packet its BYE goes out (see streamEnded). */
export const END_OF_STREAM_BYE_DELAY_MS = 500;

/**
 * How long after the previous track a track's first RTP packet of a PLAY leaves. GStreamer 1.22's
 * rtspsrc exposes a pad per stream from that stream's own thread as its first packet arrives;
 * arriving together (one wake), the two pads were added at once, and gst-launch's caps-filtered
 * delayed links (`src. ! application/x-rtp,media=audio ! rtpmp4gdepay`) then raced on the
 * depayloader's pad: one stream's first buffer met an unlinked pad, its jitterbuffer stopped for
 * good and the pipeline never reached EOS (about 1 client in 40 with 4 rtspsrc at once, load
 * 10-13, with per-session pairs as with the shared pair; 0 in 240 with this stagger; see
 * test/helpers/gstreamer.ts). The packets due meanwhile leave together at the end of it; RTP
 * timestamps and the SR (sent at PLAY) are unchanged.
 */
export const TRACK_START_STAGGER_MS = 30;

export interface PlayResult {
  startNpt: number;
  endNpt: number | undefined;
  rtpInfo: StreamTrackStart[];
  /** Scale and Speed actually used (RFC 2326 §12.34, §12.35). */
  scale: number;
  speed: number;
}

/** What a file session answers (no RECORD). */
const FILE_METHODS: readonly SessionMethod[] = ['SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER'];

/**
 * A file as a session's presentation (VoD): one RTP stream and RTCP per set-up track, the play
 * position, seeking (Range), pause/resume and trick play (Scale, Speed).
 */
export class FilePresentation implements Presentation {
  readonly kind = 'file' as const;
  readonly methods = FILE_METHODS;
  readonly timeline = new PlayTimeline();
  /** Media position while paused (npt seconds). */
  private pausedAt = 0;

  /**
   * `media` is the name the client asked for (safe relative path): the catalog may share one
   * entry between names of one file (a symlink), so the session is checked against its own name.
   */
  constructor(
    private readonly session: FileSession,
    readonly entry: MediaEntry,
    readonly media: string,
  ) {}

  private get ctx() {
    return this.session.ctx;
  }

  private get closed(): boolean {
    return this.session.isClosed;
  }

  private get setups(): Map<string, TrackSetup> {
    return this.session.setups;
  }

  /** SETUP of a track over the client's chosen transport (UDP ports or interleaved channels on `socket`). */
  async setupTrack(control: string | undefined, spec: TransportSpec, socket: ByteStream): Promise<TransportSpec> {
    const track = pickTrack(this.entry.tracks, control, (c) => this.setups.has(c), this.media);
    const setup = await this.session.addSetup(track.control, () =>
      this.session.playPath(
        spec,
        socket,
        { control: track.control, index: this.entry.tracks.indexOf(track) },
        (egress, transport) => this.makeSetup(track, egress, transport),
        (s) => s.rtcp,
      ),
    );
    setup.transport.ssrc = setup.stream.sender.ssrc;
    return setup.transport;
  }

  private makeSetup(track: ServedTrack, egress: Egress, transport: TransportSpec): TrackSetup {
    const session = this.session;
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
        log.error('cannot read media', { session: session.id, media: this.media, control: s.control, error: String(err) });
        session.close('media read error');
      },
    );
    const rtcp = new RtcpSession(sender, egress, {
      clock: this.ctx.clock,
      random: this.ctx.random,
      scheduler: this.ctx.scheduler,
      cname: this.ctx.cname,
      isPlaying: () => stream.isPlaying,
      rtpAt: (nowMs) => stream.rtpTimeAt(this.timeline.mediaTimeAt(nowMs)),
      counters: this.ctx.counters,
      onActivity: () => session.touch(),
      report: { sessionId: session.id, media: this.media, control: track.control, transport: egress.kind },
      onReport: (record) => this.ctx.events.emit('receiver-report', record),
    });
    return { track, stream, egress, rtcp, transport };
  }

  /**
   * PLAY: on this presentation's URL (459 otherwise), with Range (seek), Scale and Speed. The
   * Range answered runs to the end of the file (open while it is still being written), or for a
   * rewind down to where it stops.
   */
  async play(req: RtspRequest): Promise<PlayAnswer> {
    const t = parseRequestTarget(req.uri);
    if (!t) throw badRequest('SRV_ERR_BAD_URI', `bad request URI ${req.uri}`);
    if (t.mediaPath !== '' && safeRelativePath(t.mediaPath) !== this.media) {
      throw new RtspError(459, 'SRV_ERR_AGGREGATE', 'PLAY on another presentation');
    }
    const scale = rateHeader(req, 'Scale');
    const speed = rateHeader(req, 'Speed');
    const range = rangeOf(req, scale !== undefined && scale < 0);
    const result = await this.preparePlay(range, { scale, speed });
    const extra: [string, string][] = [];
    // The Scale and Speed used, whenever asked for or not 1 (RFC 2326 §12.34, §12.35).
    if (scale !== undefined || result.scale !== 1) extra.push(['Scale', formatScale(result.scale)]);
    if (speed !== undefined || result.speed !== 1) extra.push(['Speed', formatScale(result.speed)]);
    return {
      // Rewinding: the reversed form (`npt=10-0`) to a client that sent one, else open-ended.
      range: formatNptRange({
        start: result.startNpt,
        end:
          result.scale < 0
            ? range?.end !== undefined
              ? (result.endNpt ?? 0)
              : undefined
            : (result.endNpt ?? (this.entry.growth?.growing ? undefined : this.entry.durationSec)),
      }),
      aggregateUrl: t.aggregateUrl,
      rtpInfo: result.rtpInfo,
      extra,
      begin: result.restart ? () => this.begin(result.startNpt) : undefined,
    };
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
    const same = range?.start === undefined && this.session.state === 'playing';
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
    if (range?.start === undefined && this.session.state === 'playing') {
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
      this.session.state === 'playing'
        ? Math.max(0, Math.min(duration, this.timeline.mediaTimeAt(now)))
        : this.everPlayed
          ? this.pausedAt
          : 0;
    if (range?.start === undefined && this.session.state === 'playing' && scale === this.scale && speed === this.speed) {
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

  traffic(): PresentationTraffic {
    const setups = [...this.setups.values()];
    return {
      packetsSent: setups.reduce((n, s) => n + s.stream.sender.stats.packets, 0),
      bytesSent: setups.reduce((n, s) => n + s.stream.sender.stats.octets, 0),
      lastReports: setups.flatMap((s) => (s.rtcp.lastReport ? [s.rtcp.lastReport] : [])),
      reportedPackets: setups.reduce(
        (n, s) => n + (s.rtcp.lastReport ? packetsUpToReport(s.stream.sender.stats.packets, s.stream.sender.seq, s.rtcp.lastReport) : 0),
        0,
      ),
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
    const now = this.ctx.clock.now();
    // At Scale and Speed 1 the segment starts on the file's send lattice (at most a period back)
    // or else its send grid (at most a step ahead; send-grid.ts): every session of the file then
    // has its packets due at the same instants, served by one wake-up.
    const normal = scale === 1 && speed === 1;
    const lattice = normal ? this.entry.sendLattice : undefined;
    const grid = normal ? this.entry.sendGridMs : undefined;
    this.segmentStartMs = lattice
      ? latticeStartMs(now, startNpt, lattice.periodSec)
      : grid !== undefined
        ? alignedStartMs(now, startNpt, grid)
        : now;
    // Video moves to the midpoints; the lattice's own track and any other audio keep their times.
    // Over TCP to the lattice's instants themselves: a client's tracks share its connection, and
    // its video then joins the audio's write (one sendmsg per instant instead of two); over UDP
    // the midpoints keep a video frame's burst from delaying every client's audio.
    const between = lattice ? betweenLattice(lattice) : undefined;
    for (const s of this.setups.values()) {
      const video = lattice && s.track.source.format.media === 'video' && this.entry.tracks.indexOf(s.track) !== lattice.track;
      s.stream.lattice = video ? (s.egress.kind === 'tcp' ? lattice : between) : undefined;
    }
    const streams = [...this.setups.values()].map((s) => ({ stream: s.stream, track: s.track.source.track }));
    retimeStreams(streams, startNpt, scale, speed, this.segmentStartMs);
  }

  /**
   * Starts (or resumes) sending, after the PLAY response went out. The timeline starts when the
   * segment's RTP timing did (a few ms back: the answer was written meanwhile; or up to a send
   * grid step ahead, see startSegment), so the SR sent first maps the same wall time to the same
   * RTP time as RTP-Info.
   */
  begin(startNpt: number): void {
    if (this.closed) return;
    this.everPlayed = true;
    const now = this.ctx.clock.now();
    const start = this.segmentStartMs ?? now;
    this.timeline.start(startNpt, start, this.scale * this.speed);
    this.segmentStartMs = undefined;
    // On a grid (aligned start), whole grid steps keep each track's first wake-up on it too (on a
    // lattice every wake-up after a track's first is on it anyway).
    const grid = this.scale === 1 && this.speed === 1 && !this.entry.sendLattice ? this.entry.sendGridMs : undefined;
    const stagger = grid !== undefined ? Math.ceil(TRACK_START_STAGGER_MS / grid) * grid : TRACK_START_STAGGER_MS;
    let k = 0;
    for (const s of this.setups.values()) {
      s.stream.start();
      // The SR first (RtcpSession.start), then the stream's first packet at the next wake, each
      // track `stagger` after the one before (what was due meanwhile leaves at once).
      s.rtcp.start();
      this.ctx.scheduler.schedule(s.stream, Math.max(now, start) + stagger * k++);
    }
  }

  /** PAUSE: streams stop where they are; the Range answered runs from there to the end. */
  pause(): string {
    const now = this.ctx.clock.now();
    if (this.session.state === 'playing') this.pausedAt = Math.max(0, Math.min(this.timeline.mediaTimeAt(now), this.entry.durationSec));
    for (const s of this.setups.values()) {
      s.stream.stop(now);
      this.ctx.scheduler.remove(s.stream);
      s.rtcp.pause();
    }
    return formatNptRange({ start: this.pausedAt, end: this.entry.durationSec });
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
    this.ctx.events.emit('stream-ended', { id: this.session.id, control: stream.control });
    log.debug('stream ended', { session: this.session.id, control: stream.control, packets: stream.sender.stats.packets });
  }

  /** Frees what the presentation holds: scheduler tasks, RTCP timers (after a BYE), the file. */
  close(reason: string): void {
    for (const s of this.setups.values()) {
      this.ctx.scheduler.remove(s.stream);
      s.stream.stop();
      if (reason !== 'connection closed') s.rtcp.sendBye(reason === 'timeout' ? 'session timeout' : 'teardown');
      s.rtcp.close();
    }
    this.ctx.releaseEntry(this.entry);
  }
}

/** The Range of a PLAY; 457 when malformed or running the wrong way (down only when rewinding). */
function rangeOf(req: RtspRequest, reverse = false): { start?: number; end?: number } | undefined {
  const value = req.headers.get('Range');
  if (value === undefined) return undefined;
  const r = parseRange(value);
  if (!r.ok) throw new RtspError(457, 'SRV_ERR_INVALID_RANGE', `unsupported Range ${value}: ${r.code}`);
  const { start, end } = r.value;
  if (start === 'now' || end === 'now') return undefined;
  // Playing backwards (Scale < 0) a range runs down: `npt=10-0` (RFC 7826 §4.4.2).
  if (start !== undefined && end !== undefined && (reverse ? end > start : end < start)) {
    throw new RtspError(457, 'SRV_ERR_INVALID_RANGE', reverse ? 'a reverse range must run down' : 'end before start');
  }
  return { start, end };
}

/** Scale (any non-zero number) or Speed (> 0) from a PLAY request; 400 when malformed or out of range. */
function rateHeader(req: RtspRequest, name: 'Scale' | 'Speed'): number | undefined {
  const value = req.headers.get(name);
  if (value === undefined) return undefined;
  const r = parseScale(value);
  if (!r.ok) throw badRequest('SRV_ERR_BAD_SCALE', `malformed ${name}: ${value.trim()}`);
  if (name === 'Scale' ? r.value === 0 : r.value <= 0) throw badRequest('SRV_ERR_BAD_SCALE', `${name} ${r.value} is not allowed`);
  return r.value;
}

/**
 * A file as DESCRIBE and SETUP find it (session/presentation-requests.ts): by the name the client
 * asked for, opened from the catalog (shared with other sessions of the same file).
 */
export class FilePresentationSource implements PresentationSource {
  readonly aggregateUrl: string;
  readonly control: string | undefined;
  readonly impairment: ImpairmentSpec | undefined;
  /** The safe relative path the URL names; undefined when it names none (the catalog then refuses it). */
  private readonly name: string | undefined;
  /** The catalog's name of the file, once opened. */
  private opened: string | undefined;

  constructor(private readonly target: RequestTarget) {
    this.aggregateUrl = target.aggregateUrl;
    this.control = target.control;
    this.impairment = impairmentFromQuery(target.query);
    this.name = safeRelativePath(target.mediaPath);
  }

  /** By the name asked for: the catalog may share one entry between names of one file (a symlink). */
  get media(): string {
    return this.name ?? this.opened ?? this.target.mediaPath;
  }

  async describe(origin: SdpOrigin, ctx: HandlerContext): Promise<string> {
    const entry = await ctx.catalog.acquire(this.target.mediaPath);
    this.opened = entry.relPath;
    try {
      return describeSdp(entry, origin);
    } finally {
      ctx.catalog.release(entry);
    }
  }

  chooseTransport(specs: TransportSpec[], clientIp: string): TransportSpec {
    return chooseUnicast(specs, clientIp);
  }

  /** The file session the Session header names (454 when it names another kind). */
  existing(req: RtspRequest, ctx: HandlerContext): RtspSession | undefined {
    const s = findSession(req, ctx);
    if (s && !(s.presentation instanceof FilePresentation)) throw sessionNotFound();
    return s;
  }

  plays(s: RtspSession): boolean {
    return s.presentation instanceof FilePresentation && this.name === s.media;
  }

  async open(ctx: HandlerContext): Promise<RtspSession> {
    const entry = await ctx.catalog.acquire(this.target.mediaPath, this.target.control);
    this.opened = entry.relPath;
    const name = this.media;
    const s: FileSession = new RtspSession<TrackSetup, FilePresentation>(
      newSessionId(ctx.sessionContext.random, ctx.sessionContext.sessionIdPrefix),
      ctx.clientIp,
      ctx.sessionContext,
      (session) => new FilePresentation(session, entry, name),
    );
    s.impairment = sessionImpairment(this, ctx, defaultImpairmentFor(ctx, name));
    log.debug('session created', { session: s.id, media: name, client: ctx.clientIp });
    return s;
  }
}
