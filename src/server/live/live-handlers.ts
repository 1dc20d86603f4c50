import { createResponse, formatTransport, parseRange } from '../../rtsp/index.ts';
import type { RtspRequest, RtspResponse, TransportSpec } from '../../rtsp/index.ts';
import { createLogger } from '../../util/log.ts';
import { RtspError, notFound, sessionNotFound } from '../errors.ts';
import { impairmentFromQuery } from '../impairment.ts';
import { newSessionId } from '../session.ts';
import { sessionIdOf } from '../session/lookup.ts';
import type { SessionMethod } from '../session/method-table.ts';
import type { HandlerContext, HandlerResult } from '../session/request-context.ts';
import { pickTrack, setupInSession } from '../session/setup-flow.ts';
import { checkDestination, formatRtpInfo, isUnicastRtp, setSessionHeader, transportsOf } from '../session/transport-negotiation.ts';
import type { LiveTrack } from './live-track.ts';
import type { LiveHub } from './live-hub.ts';
import { liveSdp, tracksFromAnnouncedSdp } from './live-sdp.ts';
import { parseLiveTarget } from './live-target.ts';
import type { LiveTarget } from './live-target.ts';
import { isMulticastAddress } from './multicast.ts';
import { LivePublisherSession } from './publisher-session.ts';
import { LiveViewerSession } from './viewer-session.ts';

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
  switch (req.method) {
    case 'OPTIONS':
      return { response: createResponse(200, { Public: LIVE_METHODS.join(', ') }) };
    case 'DESCRIBE':
      return describe(req, l);
    case 'ANNOUNCE':
      return announce(req, l);
    case 'SETUP':
      return setup(req, l);
    case 'PLAY':
      return play(req, l);
    case 'RECORD':
      return record(req, l);
    case 'PAUSE':
      return pause(req, l);
    case 'TEARDOWN':
      return teardown(req, l);
    case 'GET_PARAMETER':
    case 'SET_PARAMETER':
      return keepAlive(req, l);
    default:
      throw new RtspError(req.method === 'REDIRECT' ? 405 : 501, 'SRV_ERR_METHOD', `${req.method} not supported`, {
        Allow: LIVE_METHODS.join(', '),
      });
  }
}

function target(req: RtspRequest): LiveTarget {
  const t = parseLiveTarget(req.uri);
  if (t === 'other') throw new RtspError(403, 'SRV_ERR_PUBLISH_PATH', 'only live/NAME paths can be published to');
  if (!t) throw notFound(`no live channel ${req.uri}`);
  return t;
}

function withSession(res: RtspResponse, id: string, l: Live): RtspResponse {
  return setSessionHeader(res, id, l.ctx.sessionContext.timeoutSec);
}

function findViewer(req: RtspRequest, l: Live): LiveViewerSession | undefined {
  const id = sessionIdOf(req);
  if (id === undefined) return undefined;
  const s = l.ctx.sessionContext.registry.get(id);
  if (s instanceof LivePublisherSession) return undefined;
  if (!(s instanceof LiveViewerSession) || s.isClosed) throw sessionNotFound();
  return s;
}

function findPublisher(req: RtspRequest, l: Live): LivePublisherSession | undefined {
  const id = sessionIdOf(req);
  if (id !== undefined) {
    const p = l.ctx.sessionContext.registry.get(id);
    return p instanceof LivePublisherSession && !p.isClosed ? p : undefined;
  }
  // ANNOUNCE answered with a Session, but a client may SETUP without it: the connection tells.
  for (const s of l.ctx.sessionContext.registry.onSocket(l.ctx.socket)) if (s instanceof LivePublisherSession && !s.isClosed) return s;
  return undefined;
}

function requireViewer(req: RtspRequest, l: Live): LiveViewerSession {
  const v = findViewer(req, l);
  if (!v) throw new RtspError(455, 'SRV_ERR_NO_SESSION', `${req.method} needs a viewer Session`);
  v.check(req.method as SessionMethod);
  v.touch();
  return v;
}

async function describe(req: RtspRequest, l: Live): Promise<HandlerResult> {
  const t = target(req);
  if (t.control) throw notFound('DESCRIBE names a track, not a channel');
  const impairment = impairmentFromQuery(`?${t.query.toString()}`);
  const channel = l.hub.channel(t.name, false);
  if (!channel) throw notFound(`no live channel ${t.name}`);
  if (impairment) l.ctx.describedImpairments.set(`live/${t.name}`, impairment);
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
  const sdp = liveSdp(channel.name, channel.tracks, { localIp: l.ctx.localIp, serverName: l.ctx.serverName });
  return { response: createResponse(200, { 'Content-Type': 'application/sdp', 'Content-Base': `${t.aggregateUrl}/` }, Buffer.from(sdp)) };
}

async function announce(req: RtspRequest, l: Live): Promise<HandlerResult> {
  const t = target(req);
  const type = req.headers.get('Content-Type');
  if (type !== undefined && !/application\/sdp/i.test(type))
    throw new RtspError(415, 'SRV_ERR_ANNOUNCE_TYPE', 'ANNOUNCE wants application/sdp');
  const existing = l.hub.channel(t.name, false);
  if (existing?.source === 'file') throw new RtspError(403, 'SRV_ERR_PUBLISH_FORBIDDEN', `live/${t.name} plays a file`);
  if (existing?.source === 'ffmpeg' && !(await existing.admitsSourcePublisher(t.query.get('key'), l.ctx.socket))) {
    throw new RtspError(403, 'SRV_ERR_PUBLISH_FORBIDDEN', `live/${t.name} is fed by its own ffmpeg source`);
  }
  if (existing?.publisher) throw new RtspError(403, 'SRV_ERR_PUBLISHER_BUSY', `live/${t.name} already has a publisher`);
  const announced = tracksFromAnnouncedSdp(req.body.toString('utf8'));
  if (!announced.ok) throw new RtspError(400, 'SRV_ERR_ANNOUNCE_SDP', announced.reason);
  const registry = l.ctx.sessionContext.registry;
  const admission = registry.admit();
  const channel = l.hub.channel(t.name, true);
  if (!channel) {
    admission.release();
    throw new RtspError(453, 'SRV_ERR_CAPACITY', 'too many live channels', { 'Retry-After': '10' });
  }
  const p = new LivePublisherSession(
    newSessionId(l.ctx.sessionContext.random),
    channel,
    l.ctx.clientIp,
    l.ctx.socket,
    announced.tracks,
    l.ctx.sessionContext,
  );
  registry.add(p, admission);
  log.debug('announce', { channel: t.name, session: p.id, client: l.ctx.clientIp, tracks: announced.tracks.map((x) => x.format.rtpmap) });
  return { response: withSession(createResponse(200), p.id, l) };
}

function isRecord(spec: TransportSpec): boolean {
  return spec.mode !== undefined && /record/i.test(spec.mode);
}

async function setup(req: RtspRequest, l: Live): Promise<HandlerResult> {
  const t = target(req);
  const specs = transportsOf(req);
  if (specs.some(isRecord)) return setupPublisher(req, t, specs.filter(isRecord), l);
  return setupViewer(req, t, specs, l);
}

async function setupPublisher(req: RtspRequest, t: LiveTarget, specs: TransportSpec[], l: Live): Promise<HandlerResult> {
  const p = findPublisher(req, l);
  if (!p || p.channel.name !== t.name)
    throw new RtspError(455, 'SRV_ERR_NO_ANNOUNCE', 'SETUP mode=record needs an ANNOUNCE of this path first');
  p.check('SETUP');
  p.touch();
  const i = p.trackIndexFor(t.control);
  for (const s of specs) {
    if (s.protocol !== 'RTP' || s.profile !== 'AVP' || s.delivery === 'multicast') continue;
    let transport: TransportSpec;
    if (s.lowerTransport === 'TCP') transport = p.setupInterleaved(i, s.interleaved ?? [2 * i, 2 * i + 1]);
    else if (s.clientPort) transport = await p.setupUdp(i, s.clientPort, s.ssrc);
    else continue;
    p.commit('SETUP');
    return { response: withSession(createResponse(200, { Transport: formatTransport(transport) }), p.id, l) };
  }
  throw new RtspError(461, 'SRV_ERR_TRANSPORT', 'publishing: RTP/AVP unicast with client_port, or RTP/AVP/TCP interleaved');
}

async function setupViewer(req: RtspRequest, t: LiveTarget, specs: TransportSpec[], l: Live): Promise<HandlerResult> {
  const existing = findViewer(req, l);
  const channel = l.hub.channel(t.name, false);
  if (!channel?.live) throw notFound(`live channel ${t.name} has no source now`);
  const { session, transport } = await setupInSession(l.ctx.sessionContext.registry, existing, {
    samePresentation: (v) => v.channel === channel,
    create: async () => {
      const v = new LiveViewerSession(newSessionId(l.ctx.sessionContext.random), channel, l.ctx.clientIp, l.ctx.sessionContext);
      v.impairment =
        impairmentFromQuery(`?${t.query.toString()}`) ?? l.ctx.describedImpairments.get(`live/${t.name}`) ?? l.ctx.defaultImpairment;
      return v;
    },
    addTrack: (v) =>
      viewerTransport(
        v,
        pickTrack(channel.tracks, t.control, (c) => v.setups.has(c), `live/${t.name}`),
        specs,
        l,
      ),
  });
  return { response: withSession(createResponse(200, { Transport: formatTransport(transport) }), session.id, l) };
}

/** Sets up `track` for a viewer with the first transport of the client's list we serve (multicast too). */
async function viewerTransport(viewer: LiveViewerSession, track: LiveTrack, specs: TransportSpec[], l: Live): Promise<TransportSpec> {
  for (const s of specs) {
    if (s.protocol !== 'RTP' || s.profile !== 'AVP') continue;
    if (s.delivery === 'multicast') {
      if (!l.hub.multicast || s.lowerTransport !== 'UDP') continue;
      let chosen: { address: string; port?: number } | undefined;
      if (s.destination) {
        if (!l.hub.multicast.options.allowClientDestination) {
          throw new RtspError(403, 'SRV_ERR_DESTINATION', 'the server chooses the multicast group (destination not allowed)');
        }
        if (!isMulticastAddress(s.destination))
          throw new RtspError(403, 'SRV_ERR_DESTINATION', `${s.destination} is not a multicast group`);
        chosen = { address: s.destination, port: s.port?.[0] };
      }
      return viewer.setupMulticast(track, await l.hub.multicastGroup(track, chosen));
    }
    if (!isUnicastRtp(s)) continue;
    checkDestination(s, l.ctx.clientIp);
    if (s.lowerTransport === 'TCP') return viewer.setupInterleaved(track, l.ctx.socket, s.interleaved ?? viewer.nextChannels());
    return viewer.setupUdp(track, s.clientPort!);
  }
  throw new RtspError(
    461,
    'SRV_ERR_TRANSPORT',
    `supported: RTP/AVP unicast with client_port, RTP/AVP/TCP interleaved${l.hub.multicast ? ', RTP/AVP multicast' : ''}`,
  );
}

async function play(req: RtspRequest, l: Live): Promise<HandlerResult> {
  const viewer = requireViewer(req, l);
  const range = req.headers.get('Range');
  // A live channel cannot seek: any valid Range is answered as live (RFC 2326 §12.29, `npt=now-`).
  if (range !== undefined && !parseRange(range).ok) throw new RtspError(457, 'SRV_ERR_INVALID_RANGE', `unsupported Range ${range}`);
  if (viewer.ended || !viewer.channel.live) throw notFound(`live/${viewer.channel.name} has ended`);
  const base = parseLiveTarget(req.uri);
  const url = typeof base === 'object' ? base.aggregateUrl : `live/${viewer.channel.name}`;
  const tracks = viewer.rtpInfo();
  const res = createResponse(200, {
    Range: 'npt=now-',
    'RTP-Info': formatRtpInfo(url, tracks),
  });
  viewer.commit('PLAY');
  l.ctx.sessionContext.events.emit('stream-started', {
    id: viewer.id,
    kind: 'live-viewer',
    media: viewer.media,
    client: viewer.clientIp,
    transport: viewer.transport,
    tracks,
  });
  return { response: withSession(res, viewer.id, l), after: () => viewer.startSending() };
}

async function pause(req: RtspRequest, l: Live): Promise<HandlerResult> {
  // GStreamer's rtspclientsink PAUSEs before its TEARDOWN: the stream goes on until it leaves.
  const p = sessionIdOf(req) !== undefined ? findPublisher(req, l) : undefined;
  if (p) {
    p.check('PAUSE');
    p.touch();
    p.commit('PAUSE');
    return { response: withSession(createResponse(200), p.id, l) };
  }
  const viewer = requireViewer(req, l);
  viewer.stopSending();
  viewer.commit('PAUSE');
  return { response: withSession(createResponse(200, { Range: 'npt=now-' }), viewer.id, l) };
}

async function record(req: RtspRequest, l: Live): Promise<HandlerResult> {
  target(req);
  const p = findPublisher(req, l);
  if (!p) throw new RtspError(455, 'SRV_ERR_NO_SESSION', 'RECORD needs the publisher Session');
  p.touch();
  p.record();
  l.ctx.sessionContext.events.emit('stream-started', {
    id: p.id,
    kind: 'publisher',
    media: p.media,
    client: p.clientIp,
    transport: p.transport,
    tracks: [],
  });
  return { response: withSession(createResponse(200), p.id, l) };
}

async function teardown(req: RtspRequest, l: Live): Promise<HandlerResult> {
  const p = sessionIdOf(req) !== undefined ? findPublisher(req, l) : undefined;
  if (p) {
    p.close('teardown');
    return { response: createResponse(200) };
  }
  const v = requireViewer(req, l);
  v.close('teardown');
  return { response: createResponse(200) };
}

async function keepAlive(req: RtspRequest, l: Live): Promise<HandlerResult> {
  const id = sessionIdOf(req);
  const s = id !== undefined ? l.ctx.sessionContext.registry.get(id) : undefined;
  const live = s instanceof LivePublisherSession || s instanceof LiveViewerSession ? s : undefined;
  live?.touch();
  if (req.body.length > 0) throw new RtspError(451, 'SRV_ERR_PARAMETER', 'parameter not understood');
  const res = createResponse(200);
  if (live) withSession(res, live.id, l);
  return { response: res };
}
