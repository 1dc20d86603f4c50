import type { Socket } from 'node:net';
import { createResponse, formatNptRange, formatScale, formatSession, formatTransport, parseRange, parseScale, parseSession, parseTransport } from '../rtsp/index.ts';
import type { RtspRequest, RtspResponse, TransportSpec } from '../rtsp/index.ts';
import type { ImpairmentSpec } from '../transport/index.ts';
import { createLogger } from '../util/log.ts';
import { describeSdp } from './describe.ts';
import { impairmentFromQuery } from './impairment.ts';
import { RtspError, badRequest, notFound, sessionNotFound } from './errors.ts';
import type { MediaCatalog, MediaEntry, ServedTrack } from './media-catalog.ts';
import { safeRelativePath } from './media-path.ts';
import { parseRequestTarget } from './request-target.ts';
import type { RequestTarget } from './request-target.ts';
import { ServerSession, newSessionId } from './session.ts';
import type { SessionContext } from './session.ts';
import { transition } from './session-state.ts';
import { handleLiveRequest } from './live/index.ts';
import type { LiveHub } from './live/index.ts';

const log = createLogger('rtsp');

export const SUPPORTED_METHODS = [
  'OPTIONS',
  'DESCRIBE',
  'SETUP',
  'PLAY',
  'PAUSE',
  'TEARDOWN',
  'GET_PARAMETER',
  'SET_PARAMETER',
] as const;

/** RTSP 1.0 methods we know but do not offer (405 with Allow); anything else is 501. */
const KNOWN_METHODS = new Set(['ANNOUNCE', 'RECORD', 'REDIRECT']);

/** What a handler needs from the server and the connection the request came on. */
export interface HandlerContext {
  catalog: MediaCatalog;
  sessions: Map<string, ServerSession>;
  sessionContext: SessionContext;
  /** The RTSP peer: RTP goes only there (never to a Transport `destination`). */
  clientIp: string;
  /** The server's own address on this connection, for the SDP origin line. */
  localIp: string;
  socket: Socket;
  serverName: string;
  maxSessions: number;
  /** Impairment for every session unless its URL asks for another (`serve --netem`). */
  defaultImpairment: ImpairmentSpec | undefined;
  /**
   * Impairment asked for in a DESCRIBE URL on this connection, by media path: clients build SETUP
   * URLs from Content-Base, which carries no query string, so the connection remembers it.
   */
  describedImpairments: Map<string, ImpairmentSpec>;
  /** Live channels: requests about `live/...` (ANNOUNCE/RECORD included) and live sessions go there. */
  live?: LiveHub;
}

export interface HandlerResult {
  response: RtspResponse;
  /** Runs after the response is written (PLAY starts sending only then). */
  after?: () => void;
}

type Handler = (req: RtspRequest, ctx: HandlerContext) => Promise<HandlerResult>;

const HANDLERS: Record<(typeof SUPPORTED_METHODS)[number], Handler> = {
  OPTIONS: async () => ({ response: createResponse(200, { Public: SUPPORTED_METHODS.join(', ') }) }),
  DESCRIBE: describe,
  SETUP: setup,
  PLAY: play,
  PAUSE: pause,
  TEARDOWN: teardown,
  GET_PARAMETER: keepAlive,
  SET_PARAMETER: setParameter,
};

/**
 * Runs one request. Every failure becomes a response here, in one place: RtspError carries its
 * status; anything else is a 500 and is logged (and never takes the server down).
 */
export async function handleRequest(req: RtspRequest, ctx: HandlerContext): Promise<HandlerResult> {
  let result: HandlerResult;
  try {
    const live = ctx.live?.claims(req) ? ctx.live : undefined;
    const handler = live ? (r: RtspRequest, c: HandlerContext) => handleLiveRequest(r, c, live) : HANDLERS[req.method as keyof typeof HANDLERS];
    if (!handler) {
      const status = KNOWN_METHODS.has(req.method) ? 405 : 501;
      throw new RtspError(status, 'SRV_ERR_METHOD', `${req.method} not supported`, { Allow: SUPPORTED_METHODS.join(', ') });
    }
    result = await handler(req, ctx);
  } catch (err) {
    if (err instanceof RtspError) {
      log.debug('request refused', { method: req.method, uri: req.uri, status: err.status, code: err.code, reason: err.message });
      result = { response: createResponse(err.status, err.headers) };
    } else {
      log.error('request failed', { method: req.method, uri: req.uri, error: String(err) });
      result = { response: createResponse(500) };
    }
  }
  const res = result.response;
  const cseq = req.headers.get('CSeq');
  if (cseq !== undefined) res.headers.set('CSeq', cseq.trim());
  res.headers.set('Server', ctx.serverName);
  res.headers.set('Date', new Date().toUTCString());
  return result;
}

function target(req: RtspRequest): RequestTarget {
  const t = parseRequestTarget(req.uri);
  if (!t) throw badRequest('SRV_ERR_BAD_URI', `bad request URI ${req.uri}`);
  return t;
}

function sessionHeader(res: RtspResponse, session: ServerSession, ctx: HandlerContext): void {
  res.headers.set('Session', formatSession({ id: session.id, timeout: ctx.sessionContext.timeoutSec }));
}

/** The session named by the Session header, or undefined when there is none. */
function findSession(req: RtspRequest, ctx: HandlerContext): ServerSession | undefined {
  const value = req.headers.get('Session');
  if (value === undefined) return undefined;
  const parsed = parseSession(value);
  if (!parsed.ok) throw badRequest('SRV_ERR_BAD_SESSION', 'malformed Session header');
  const s = ctx.sessions.get(parsed.value.id);
  if (!s || s.isClosed) throw sessionNotFound();
  return s;
}

/** A request that needs a session: find it, check the state machine, keep it alive. */
function requireSession(req: RtspRequest, ctx: HandlerContext): ServerSession {
  const s = findSession(req, ctx);
  if (!s) throw new RtspError(455, 'SRV_ERR_NO_SESSION', `${req.method} needs a Session header`);
  const t = transition(s.state, req.method);
  if (!t.ok) throw new RtspError(455, 'SRV_ERR_STATE', `${req.method} not valid in state ${s.state}`, { Allow: t.allowed.join(', ') });
  s.touch();
  return s;
}

async function describe(req: RtspRequest, ctx: HandlerContext): Promise<HandlerResult> {
  const t = target(req);
  if (t.control) throw notFound('DESCRIBE names a track, not a presentation');
  const accept = req.headers.get('Accept');
  if (accept && !/application\/sdp|\*\/\*|application\/\*/i.test(accept)) {
    throw new RtspError(406, 'SRV_ERR_ACCEPT', 'only application/sdp descriptions');
  }
  const impairment = impairmentFromQuery(t.query);
  const entry = await ctx.catalog.acquire(t.mediaPath);
  if (impairment) ctx.describedImpairments.set(entry.relPath, impairment);
  try {
    const sdp = describeSdp(entry, { localIp: ctx.localIp, serverName: ctx.serverName });
    const res = createResponse(200, {
      'Content-Type': 'application/sdp',
      'Content-Base': `${t.aggregateUrl}/`,
    }, Buffer.from(sdp));
    return { response: res };
  } finally {
    ctx.catalog.release(entry);
  }
}

function pickTrack(entry: MediaEntry, t: RequestTarget, session: ServerSession | undefined): ServedTrack {
  if (t.control) {
    const track = entry.tracks.find((x) => x.control === t.control);
    if (!track) throw notFound(`no ${t.control} in ${entry.relPath}`);
    return track;
  }
  // SETUP on the aggregate URL: the next track not set up yet (clients of single-track media do this).
  const track = entry.tracks.find((x) => !session?.setups.has(x.control));
  if (!track) throw new RtspError(459, 'SRV_ERR_AGGREGATE', 'every track is already set up');
  return track;
}

function chooseTransport(specs: TransportSpec[], ctx: HandlerContext): TransportSpec {
  for (const s of specs) {
    if (s.protocol !== 'RTP' || s.profile !== 'AVP') continue;
    if (s.delivery === 'multicast') continue;
    if (s.lowerTransport === 'UDP' && !s.clientPort) continue;
    if (s.destination !== undefined && s.destination !== '' && s.destination !== ctx.clientIp) {
      throw new RtspError(403, 'SRV_ERR_DESTINATION', `destination ${s.destination} is not the client's address`);
    }
    return s;
  }
  throw new RtspError(461, 'SRV_ERR_TRANSPORT', 'supported: RTP/AVP unicast with client_port, RTP/AVP/TCP interleaved');
}

async function setup(req: RtspRequest, ctx: HandlerContext): Promise<HandlerResult> {
  const t = target(req);
  const header = req.headers.get('Transport');
  if (!header) throw badRequest('SRV_ERR_NO_TRANSPORT', 'SETUP without Transport');
  const specs = parseTransport(header);
  if (!specs.ok) throw badRequest('SRV_ERR_BAD_TRANSPORT', `malformed Transport: ${specs.code}`);
  const spec = chooseTransport(specs.value, ctx);

  let session = findSession(req, ctx);
  let entry: MediaEntry;
  let created = false;
  if (session) {
    const tr = transition(session.state, 'SETUP');
    if (!tr.ok) throw new RtspError(455, 'SRV_ERR_STATE', `SETUP not valid in state ${session.state}`);
    if (session.state === 'playing') throw new RtspError(455, 'SRV_ERR_STATE', 'SETUP while playing is not supported');
    session.touch();
    entry = session.entry;
    if (safeRelativePath(t.mediaPath) !== entry.relPath) {
      throw new RtspError(459, 'SRV_ERR_AGGREGATE', 'a session plays one presentation');
    }
  } else {
    if (ctx.sessions.size + (ctx.live?.sessionCount ?? 0) >= ctx.maxSessions) {
      throw new RtspError(453, 'SRV_ERR_CAPACITY', 'too many sessions', { 'Retry-After': '10' });
    }
    const impairment = impairmentFromQuery(t.query);
    entry = await ctx.catalog.acquire(t.mediaPath, t.control);
    session = new ServerSession(newSessionId(), entry, ctx.clientIp, ctx.sessionContext);
    session.impairment = impairment ?? ctx.describedImpairments.get(entry.relPath) ?? ctx.defaultImpairment;
    created = true;
  }
  try {
    const track = pickTrack(entry, t, session);
    let transport: TransportSpec;
    if (spec.lowerTransport === 'TCP') {
      const channels = spec.interleaved ?? nextChannels(session);
      transport = session.setupInterleaved(track, ctx.socket, channels);
    } else {
      transport = await session.setupUdp(track, spec.clientPort!);
    }
    transport.ssrc = session.setups.get(track.control)!.stream.ssrc;
    if (created) {
      ctx.sessions.set(session.id, session);
      ctx.sessionContext.events.emit('session-created', { id: session.id, media: entry.relPath, client: ctx.clientIp });
      log.info('session created', { session: session.id, media: entry.relPath, client: ctx.clientIp });
    }
    session.state = 'ready';
    const res = createResponse(200, { Transport: formatTransport(transport) });
    sessionHeader(res, session, ctx);
    return { response: res };
  } catch (err) {
    if (created) session.close('setup failed');
    throw err;
  }
}

function nextChannels(session: ServerSession): [number, number] {
  let used = -1;
  for (const s of session.setups.values()) if (s.transport.interleaved) used = Math.max(used, s.transport.interleaved[1]);
  const first = used + 1 + ((used + 1) % 2);
  return [first, first + 1];
}

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

async function play(req: RtspRequest, ctx: HandlerContext): Promise<HandlerResult> {
  const t = target(req);
  const session = requireSession(req, ctx);
  if (t.mediaPath !== '' && safeRelativePath(t.mediaPath) !== session.media) {
    throw new RtspError(459, 'SRV_ERR_AGGREGATE', 'PLAY on another presentation');
  }
  const scale = rateHeader(req, 'Scale');
  const speed = rateHeader(req, 'Speed');
  const range = rangeOf(req, scale !== undefined && scale < 0);
  const result = await session.preparePlay(range, { scale, speed });
  const res = createResponse(200, {
    // Rewinding: the reversed form (`npt=10-0`) to a client that sent one, else open-ended.
    Range: formatNptRange({
      start: result.startNpt,
      end: result.scale < 0 ? (range?.end !== undefined ? (result.endNpt ?? 0) : undefined) : (result.endNpt ?? (session.entry.growth?.growing ? undefined : session.entry.durationSec)),
    }),
    'RTP-Info': result.rtpInfo.map((x) => `url=${t.aggregateUrl}/${x.control};seq=${x.seq};rtptime=${x.rtptime}`).join(','),
  });
  // The Scale and Speed used, whenever asked for or not 1 (RFC 2326 §12.34, §12.35).
  if (scale !== undefined || result.scale !== 1) res.headers.set('Scale', formatScale(result.scale));
  if (speed !== undefined || result.speed !== 1) res.headers.set('Speed', formatScale(result.speed));
  sessionHeader(res, session, ctx);
  session.state = 'playing';
  return { response: res, after: result.restart ? () => session.begin(result.startNpt) : undefined };
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

async function pause(req: RtspRequest, ctx: HandlerContext): Promise<HandlerResult> {
  const session = requireSession(req, ctx);
  const at = session.pause();
  session.state = 'ready';
  const res = createResponse(200, { Range: formatNptRange({ start: at, end: session.entry.durationSec }) });
  sessionHeader(res, session, ctx);
  return { response: res };
}

async function teardown(req: RtspRequest, ctx: HandlerContext): Promise<HandlerResult> {
  const session = requireSession(req, ctx);
  session.close('teardown');
  return { response: createResponse(200) };
}

async function keepAlive(req: RtspRequest, ctx: HandlerContext): Promise<HandlerResult> {
  const session = findSession(req, ctx);
  session?.touch();
  if (req.body.length > 0) {
    // Parameters we could report: none yet; RFC 2326 §10.8 says 451 for ones we do not know.
    throw new RtspError(451, 'SRV_ERR_PARAMETER', 'parameter not understood');
  }
  const res = createResponse(200);
  if (session) sessionHeader(res, session, ctx);
  return { response: res };
}

async function setParameter(req: RtspRequest, ctx: HandlerContext): Promise<HandlerResult> {
  return keepAlive(req, ctx);
}
