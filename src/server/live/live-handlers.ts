import { createResponse } from '../../rtsp/index.ts';
import type { ImpairmentSpec } from '../../transport/index.ts';
import type { RtspRequest, TransportSpec } from '../../rtsp/index.ts';
import { createLogger } from '../../util/log.ts';
import { RtspError, notFound, sessionNotFound } from '../errors.ts';
import { impairmentFromQuery } from '../impairment.ts';
import { CAPACITY_RETRY_AFTER_SEC } from '../session/registry.ts';
import type { HandlerContext, HandlerResult } from '../session/request-context.ts';
import { RtspSession, newSessionId } from '../session/rtsp-session.ts';
import { sessionIdOf } from '../session/lookup.ts';
import { findSession, handleSessionRequest, isSessionRequest } from '../session/session-requests.ts';
import { describePresentation, sessionImpairment, setupPresentation } from '../session/presentation-requests.ts';
import type { PresentationSource, SdpOrigin } from '../session/presentation-requests.ts';
import { chooseTransport, transportsOf } from '../session/transport-negotiation.ts';
import type { LiveChannel } from './live-channel.ts';
import type { LiveHub } from './live-hub.ts';
import { liveSdp, tracksFromAnnouncedSdp } from './live-sdp.ts';
import type { LiveTarget } from './live-target.ts';
import { LiveView } from './live-view.ts';
import type { LiveViewSession, ViewerSetup } from './live-view.ts';
import { RecordTarget } from './record-target.ts';
import { defaultImpairmentFor } from '../path-access.ts';
import type { PublisherSession, PublisherSetup } from './record-target.ts';

const log = createLogger('live');

export const LIVE_METHODS = [
  'OPTIONS',
  'DESCRIBE',
  'ANNOUNCE',
  'SETUP',
  'PLAY',
  'PAUSE',
  'RECORD',
  'TEARDOWN',
  'GET_PARAMETER',
  'SET_PARAMETER',
];

/** How long DESCRIBE of a configured channel waits for its source to come up (ffmpeg starting). */
export const DESCRIBE_WAIT_MS = 10_000;

type Live = { hub: LiveHub; ctx: HandlerContext };

/** Answers one request about `live/...` (the hub claimed it). Errors are thrown as RtspError. */
export async function handleLiveRequest(req: RtspRequest, ctx: HandlerContext, hub: LiveHub): Promise<HandlerResult> {
  const l: Live = { hub, ctx };
  // PLAY, PAUSE, TEARDOWN, GET/SET_PARAMETER: the one path of every session (its presentation answers).
  if (isSessionRequest(req.method)) return handleSessionRequest(req, ctx);
  switch (req.method) {
    case 'OPTIONS':
      return { response: createResponse(200, { Public: LIVE_METHODS.join(', ') }) };
    case 'DESCRIBE':
      return describePresentation(req, ctx, liveSource(req, l));
    case 'ANNOUNCE':
      return announce(req, l);
    case 'SETUP':
      return setupPresentation(req, ctx, liveSource(req, l));
    case 'RECORD':
      return record(req, l);
    default:
      throw new RtspError(req.method === 'REDIRECT' ? 405 : 501, 'SRV_ERR_METHOD', `${req.method} not supported`, {
        Allow: LIVE_METHODS.join(', '),
      });
  }
}

function target(req: RtspRequest, l: Live): LiveTarget {
  const t = l.hub.target(req.uri);
  if (t === 'other')
    throw new RtspError(403, 'SRV_ERR_PUBLISH_PATH', 'only live/NAME paths and paths a config rule opens can be published to');
  if (!t) throw notFound(`no live channel ${req.uri}`);
  return t;
}

function isViewer(s: RtspSession): s is LiveViewSession {
  return s.presentation instanceof LiveView;
}

function isPublisher(s: RtspSession): s is PublisherSession {
  return s.presentation instanceof RecordTarget;
}

/** The publisher named by the Session header, else (no header) the one of this connection. */
function findPublisher(req: RtspRequest, ctx: HandlerContext): PublisherSession | undefined {
  const id = sessionIdOf(req);
  if (id !== undefined) {
    const p = ctx.sessionContext.registry.get(id);
    return p instanceof RtspSession && isPublisher(p) && !p.isClosed ? p : undefined;
  }
  // ANNOUNCE answered with a Session, but a client may SETUP without it: the connection tells.
  for (const s of ctx.sessionContext.registry.onSocket(ctx.socket)) {
    if (s instanceof RtspSession && isPublisher(s) && !s.isClosed) return s;
  }
  return undefined;
}

/**
 * A live channel as DESCRIBE and a viewer's SETUP find it (session/presentation-requests.ts): it
 * must have a source now; a configured `ffmpeg:` source that is down is 503 with when to retry.
 */
class LiveViewSource implements PresentationSource {
  readonly media: string;
  readonly aggregateUrl: string;
  readonly control: string | undefined;
  readonly impairment: ImpairmentSpec | undefined;

  constructor(
    private readonly t: LiveTarget,
    private readonly hub: LiveHub,
  ) {
    this.media = t.path;
    this.aggregateUrl = t.aggregateUrl;
    this.control = t.control;
    this.impairment = impairmentFromQuery(`?${t.query.toString()}`);
  }

  async describe(origin: SdpOrigin, ctx: HandlerContext): Promise<string> {
    const name = this.t.name;
    const channel = this.hub.channel(this.t.path, false);
    if (!channel) throw notFound(`no live channel ${name}`);
    // An on-demand edge channel starts pulling its origin now.
    this.hub.demand(channel);
    if (!channel.live && channel.source !== 'publish') {
      // An `ffmpeg:` source that failed is down until it comes back: say so now, with when to retry.
      if (channel.failure === undefined) await channel.waitLive(DESCRIBE_WAIT_MS);
      const failure = channel.failure;
      if (!channel.live && failure !== undefined) {
        const retrySec = Math.max(1, Math.ceil((failure.retryAtMs - ctx.sessionContext.clock.now()) / 1000));
        log.warn('live channel source is down', { channel: name, reason: failure.reason, retryAfterSec: retrySec });
        throw new RtspError(503, 'SRV_ERR_SOURCE_DOWN', `live channel ${name}: ${failure.reason}`, { 'Retry-After': String(retrySec) });
      }
    }
    if (!channel.live) throw notFound(`live channel ${name} has no source now`);
    return liveSdp(channel.path, channel.tracks, { localIp: origin.localIp, serverName: origin.serverName });
  }

  chooseTransport(specs: TransportSpec[], clientIp: string): TransportSpec {
    const multicast = this.hub.multicast;
    return chooseTransport(specs, clientIp, {
      // Multicast only over UDP, and only when the server has a multicast range.
      acceptMulticast: multicast ? (s) => s.lowerTransport === 'UDP' : undefined,
      supported: `RTP/AVP unicast with client_port, RTP/AVP/TCP interleaved${multicast ? ', RTP/AVP multicast' : ''}`,
    });
  }

  /** The viewer the Session header names (454 when it names no viewer); 404 when the channel has no source now. */
  existing(req: RtspRequest, ctx: HandlerContext): RtspSession | undefined {
    const s = findSession(req, ctx);
    if (s && !isViewer(s)) throw sessionNotFound();
    this.liveChannel();
    return s;
  }

  private liveChannel(): LiveChannel {
    const channel = this.hub.channel(this.t.path, false);
    if (!channel?.live) throw notFound(`live channel ${this.t.name} has no source now`);
    return channel;
  }

  plays(s: RtspSession): boolean {
    return isViewer(s) && s.presentation.channel === this.hub.channel(this.t.path, false);
  }

  async open(ctx: HandlerContext): Promise<RtspSession> {
    const channel = this.liveChannel();
    const hub = this.hub;
    const multicast = hub.multicast;
    const v: LiveViewSession = new RtspSession<ViewerSetup, LiveView>(
      newSessionId(ctx.sessionContext.random, ctx.sessionContext.sessionIdPrefix),
      ctx.clientIp,
      ctx.sessionContext,
      (session) =>
        new LiveView(
          session,
          channel,
          multicast
            ? {
                allowClientDestination: multicast.options.allowClientDestination,
                group: (track, chosen) => hub.multicastGroup(track, chosen),
              }
            : undefined,
        ),
    );
    v.impairment = sessionImpairment(this, ctx, defaultImpairmentFor(ctx, this.t.path));
    return v;
  }
}

/**
 * A live path as a publisher's SETUP (mode=record) finds it: in the session its ANNOUNCE made
 * (named by the Session header, else the one of this connection); without one, 455.
 */
class PublishSource implements PresentationSource {
  readonly media: string;
  readonly aggregateUrl: string;
  readonly control: string | undefined;
  readonly impairment = undefined;

  constructor(private readonly t: LiveTarget) {
    this.media = t.path;
    this.aggregateUrl = t.aggregateUrl;
    this.control = t.control;
  }

  /** Not reached: DESCRIBE describes what viewers see. */
  describe(): Promise<string> {
    return Promise.reject(notFound(`no live channel ${this.t.name}`));
  }

  /** Record transports only; media comes from the publisher's own address: no destination to check. */
  chooseTransport(specs: TransportSpec[], clientIp: string): TransportSpec {
    return chooseTransport(specs.filter(isRecord), clientIp, {
      checkDestination: false,
      supported: 'publishing: RTP/AVP unicast with client_port, or RTP/AVP/TCP interleaved',
    });
  }

  existing(req: RtspRequest, ctx: HandlerContext): RtspSession {
    const p = findPublisher(req, ctx);
    if (!p || p.presentation.channel.path !== this.t.path) throw noAnnounce();
    return p;
  }

  plays(): boolean {
    return true;
  }

  /** Not reached: existing() finds the ANNOUNCE's session or refuses. */
  open(): Promise<RtspSession> {
    return Promise.reject(noAnnounce());
  }
}

function noAnnounce(): RtspError {
  return new RtspError(455, 'SRV_ERR_NO_ANNOUNCE', 'SETUP mode=record needs an ANNOUNCE of this path first');
}

/** What a DESCRIBE or SETUP of `live/...` names: a channel to view, or (SETUP mode=record) a path to publish to. */
function liveSource(req: RtspRequest, l: Live): PresentationSource {
  const t = target(req, l);
  if (req.method === 'SETUP' && transportsOf(req).some(isRecord)) return new PublishSource(t);
  return new LiveViewSource(t, l.hub);
}

async function announce(req: RtspRequest, l: Live): Promise<HandlerResult> {
  const t = target(req, l);
  const type = req.headers.get('Content-Type');
  if (type !== undefined && !/application\/sdp/i.test(type))
    throw new RtspError(415, 'SRV_ERR_ANNOUNCE_TYPE', 'ANNOUNCE wants application/sdp');
  const existing = l.hub.channel(t.path, false);
  if (existing?.source === 'file') throw new RtspError(403, 'SRV_ERR_PUBLISH_FORBIDDEN', `${t.path} plays a file`);
  if (existing?.source === 'pull') throw new RtspError(403, 'SRV_ERR_PUBLISH_FORBIDDEN', `${t.path} is pulled from an origin`);
  if (existing?.source === 'ffmpeg' && !(await existing.admitsSourcePublisher(t.query.get('key'), l.ctx.socket))) {
    throw new RtspError(403, 'SRV_ERR_PUBLISH_FORBIDDEN', `${t.path} is fed by its own ffmpeg source`);
  }
  if (existing?.publisher) throw new RtspError(403, 'SRV_ERR_PUBLISHER_BUSY', `${t.path} already has a publisher`);
  const announced = tracksFromAnnouncedSdp(req.body.toString('utf8'));
  if (!announced.ok) throw new RtspError(400, 'SRV_ERR_ANNOUNCE_SDP', announced.reason);
  const registry = l.ctx.sessionContext.registry;
  const admission = registry.admit();
  const channel = l.hub.channel(t.path, true);
  if (!channel) {
    admission.release();
    throw new RtspError(453, 'SRV_ERR_CAPACITY', 'too many live channels', { 'Retry-After': String(CAPACITY_RETRY_AFTER_SEC) });
  }
  const p: PublisherSession = new RtspSession<PublisherSetup, RecordTarget>(
    newSessionId(l.ctx.sessionContext.random, l.ctx.sessionContext.sessionIdPrefix),
    l.ctx.clientIp,
    l.ctx.sessionContext,
    (session) => new RecordTarget(session, channel, l.ctx.socket, announced.tracks),
  );
  registry.add(p, admission);
  log.debug('announce', { channel: t.name, session: p.id, client: l.ctx.clientIp, tracks: announced.tracks.map((x) => x.format.rtpmap) });
  return { response: p.header(createResponse(200)) };
}

function isRecord(spec: TransportSpec): boolean {
  return spec.mode !== undefined && /record/i.test(spec.mode);
}

/** RECORD: the publisher named by the Session header, or the one of this connection, goes live. */
async function record(req: RtspRequest, l: Live): Promise<HandlerResult> {
  target(req, l);
  const p = findPublisher(req, l.ctx);
  if (!p) throw new RtspError(455, 'SRV_ERR_NO_SESSION', 'RECORD needs the publisher Session');
  p.touch();
  p.check('RECORD');
  p.presentation.record();
  p.commit('RECORD');
  l.ctx.sessionContext.events.emit('stream-started', {
    id: p.id,
    kind: 'publisher',
    media: p.media,
    client: p.clientIp,
    transport: p.transport,
    tracks: [],
  });
  return { response: p.header(createResponse(200)) };
}
