import { createResponse, formatTransport } from '../../rtsp/index.ts';
import type { RtspRequest, TransportSpec } from '../../rtsp/index.ts';
import { createLogger } from '../../util/log.ts';
import { RtspError, notFound, sessionNotFound } from '../errors.ts';
import { impairmentFromQuery } from '../impairment.ts';
import { CAPACITY_RETRY_AFTER_SEC } from '../session/registry.ts';
import type { HandlerContext, HandlerResult } from '../session/request-context.ts';
import { RtspSession, newSessionId } from '../session/rtsp-session.ts';
import { sessionIdOf } from '../session/lookup.ts';
import { findSession, handleSessionRequest, isSessionRequest } from '../session/session-requests.ts';
import { pickTrack, setupInSession } from '../session/setup-flow.ts';
import { chooseTransport, transportsOf } from '../session/transport-negotiation.ts';
import type { LiveHub } from './live-hub.ts';
import { liveSdp, tracksFromAnnouncedSdp } from './live-sdp.ts';
import type { LiveTarget } from './live-target.ts';
import { LiveView } from './live-view.ts';
import type { LiveViewSession, ViewerSetup } from './live-view.ts';
import { isMulticastAddress } from './multicast.ts';
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
      return describe(req, l);
    case 'ANNOUNCE':
      return announce(req, l);
    case 'SETUP':
      return setup(req, l);
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

/** The viewer named by the Session header: undefined without one, 454 when it names no viewer. */
function findViewer(req: RtspRequest, l: Live): LiveViewSession | undefined {
  const s = findSession(req, l.ctx);
  if (s && !isViewer(s)) throw sessionNotFound();
  return s;
}

/** The publisher named by the Session header, else (no header) the one of this connection. */
function findPublisher(req: RtspRequest, l: Live): PublisherSession | undefined {
  const id = sessionIdOf(req);
  if (id !== undefined) {
    const p = l.ctx.sessionContext.registry.get(id);
    return p instanceof RtspSession && isPublisher(p) && !p.isClosed ? p : undefined;
  }
  // ANNOUNCE answered with a Session, but a client may SETUP without it: the connection tells.
  for (const s of l.ctx.sessionContext.registry.onSocket(l.ctx.socket)) {
    if (s instanceof RtspSession && isPublisher(s) && !s.isClosed) return s;
  }
  return undefined;
}

async function describe(req: RtspRequest, l: Live): Promise<HandlerResult> {
  const t = target(req, l);
  if (t.control) throw notFound('DESCRIBE names a track, not a channel');
  const impairment = impairmentFromQuery(`?${t.query.toString()}`);
  const channel = l.hub.channel(t.path, false);
  if (!channel) throw notFound(`no live channel ${t.name}`);
  if (impairment) l.ctx.describedImpairments.set(t.path, impairment);
  if (!channel.live && channel.source !== 'publish') {
    // An `ffmpeg:` source that failed is down until it comes back: say so now, with when to retry.
    if (channel.failure === undefined) await channel.waitLive(DESCRIBE_WAIT_MS);
    const failure = channel.failure;
    if (!channel.live && failure !== undefined) {
      const retrySec = Math.max(1, Math.ceil((failure.retryAtMs - l.ctx.sessionContext.clock.now()) / 1000));
      log.warn('live channel source is down', { channel: t.name, reason: failure.reason, retryAfterSec: retrySec });
      throw new RtspError(503, 'SRV_ERR_SOURCE_DOWN', `live channel ${t.name}: ${failure.reason}`, { 'Retry-After': String(retrySec) });
    }
  }
  if (!channel.live) throw notFound(`live channel ${t.name} has no source now`);
  const sdp = liveSdp(channel.path, channel.tracks, { localIp: l.ctx.localIp, serverName: l.ctx.serverName });
  return { response: createResponse(200, { 'Content-Type': 'application/sdp', 'Content-Base': `${t.aggregateUrl}/` }, Buffer.from(sdp)) };
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
    newSessionId(l.ctx.sessionContext.random),
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

async function setup(req: RtspRequest, l: Live): Promise<HandlerResult> {
  const t = target(req, l);
  const specs = transportsOf(req);
  if (specs.some(isRecord)) return setupPublisher(req, t, specs.filter(isRecord), l);
  return setupViewer(req, t, specs, l);
}

async function setupPublisher(req: RtspRequest, t: LiveTarget, specs: TransportSpec[], l: Live): Promise<HandlerResult> {
  const p = findPublisher(req, l);
  if (!p || p.presentation.channel.path !== t.path)
    throw new RtspError(455, 'SRV_ERR_NO_ANNOUNCE', 'SETUP mode=record needs an ANNOUNCE of this path first');
  p.check('SETUP');
  p.touch();
  const i = p.presentation.trackIndexFor(t.control);
  // Media comes from the publisher's own address: no destination to check.
  const spec = chooseTransport(specs, l.ctx.clientIp, {
    checkDestination: false,
    supported: 'publishing: RTP/AVP unicast with client_port, or RTP/AVP/TCP interleaved',
  });
  const transport = await p.presentation.setupTrack(i, spec);
  p.commit('SETUP');
  return { response: p.header(createResponse(200, { Transport: formatTransport(transport) })) };
}

async function setupViewer(req: RtspRequest, t: LiveTarget, specs: TransportSpec[], l: Live): Promise<HandlerResult> {
  const existing = findViewer(req, l);
  const channel = l.hub.channel(t.path, false);
  if (!channel?.live) throw notFound(`live channel ${t.name} has no source now`);
  const multicast = l.hub.multicast;
  const { session, transport } = await setupInSession(l.ctx.sessionContext.registry, existing, {
    samePresentation: (v) => v.presentation.channel === channel,
    create: async () => {
      const v: LiveViewSession = new RtspSession<ViewerSetup, LiveView>(
        newSessionId(l.ctx.sessionContext.random),
        l.ctx.clientIp,
        l.ctx.sessionContext,
        (session) => new LiveView(session, channel),
      );
      v.impairment =
        impairmentFromQuery(`?${t.query.toString()}`) ?? l.ctx.describedImpairments.get(t.path) ?? defaultImpairmentFor(l.ctx, t.path);
      return v;
    },
    addTrack: (v) => {
      const track = pickTrack(channel.tracks, t.control, (c) => v.setups.has(c), t.path);
      const spec = chooseTransport(specs, l.ctx.clientIp, {
        // Multicast only over UDP, and only when the server has a multicast range.
        acceptMulticast: multicast ? (s) => s.lowerTransport === 'UDP' : undefined,
        supported: `RTP/AVP unicast with client_port, RTP/AVP/TCP interleaved${multicast ? ', RTP/AVP multicast' : ''}`,
      });
      if (spec.delivery !== 'multicast' || !multicast) return v.presentation.setupTrack(track, spec, l.ctx.socket);
      let chosen: { address: string; port?: number } | undefined;
      if (spec.destination) {
        if (!multicast.options.allowClientDestination) {
          throw new RtspError(403, 'SRV_ERR_DESTINATION', 'the server chooses the multicast group (destination not allowed)');
        }
        if (!isMulticastAddress(spec.destination))
          throw new RtspError(403, 'SRV_ERR_DESTINATION', `${spec.destination} is not a multicast group`);
        chosen = { address: spec.destination, port: spec.port?.[0] };
      }
      return v.presentation.setupTrack(track, spec, l.ctx.socket, () => l.hub.multicastGroup(track, chosen));
    },
  });
  return { response: session.header(createResponse(200, { Transport: formatTransport(transport) })) };
}

/** RECORD: the publisher named by the Session header, or the one of this connection, goes live. */
async function record(req: RtspRequest, l: Live): Promise<HandlerResult> {
  target(req, l);
  const p = findPublisher(req, l);
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
