import { createResponse, formatNptRange, formatScale, formatTransport, parseRange, parseScale } from '../rtsp/index.ts';
import type { RtspRequest, RtspResponse } from '../rtsp/index.ts';
import { createLogger } from '../util/log.ts';
import { describeSdp } from './describe.ts';
import { impairmentFromQuery } from './impairment.ts';
import { RtspError, badRequest, notFound, sessionNotFound } from './errors.ts';
import { safeRelativePath } from './media-path.ts';
import { parseRequestTarget } from './request-target.ts';
import type { RequestTarget } from './request-target.ts';
import { ServerSession, newSessionId } from './session.ts';
import type { HandlerContext, HandlerResult } from './session/request-context.ts';
import { sessionIdOf } from './session/lookup.ts';
import type { SessionMethod } from './session/method-table.ts';
import { pickTrack, setupInSession } from './session/setup-flow.ts';
import { chooseUnicast, formatRtpInfo, setSessionHeader, transportsOf } from './session/transport-negotiation.ts';
import { handleLiveRequest } from './live/index.ts';

export type { HandlerContext, HandlerResult } from './session/request-context.ts';

const log = createLogger('rtsp');

export const SUPPORTED_METHODS = ['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER'] as const;

/** RTSP 1.0 methods we know but do not offer (405 with Allow); anything else is 501. */
const KNOWN_METHODS = new Set(['ANNOUNCE', 'RECORD', 'REDIRECT']);

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
  let refusedCode: string | undefined;
  try {
    // Authentication first (issue 13): a request the rules protect reaches no handler without it.
    const auth = ctx.auth?.check(req, ctx.clientIp);
    const live = ctx.live?.claims(req) ? ctx.live : undefined;
    const handler = live
      ? (r: RtspRequest, c: HandlerContext) => handleLiveRequest(r, c, live)
      : HANDLERS[req.method as keyof typeof HANDLERS];
    if (auth && !auth.ok) {
      result = { response: auth.response };
    } else if (!handler) {
      const status = KNOWN_METHODS.has(req.method) ? 405 : 501;
      throw new RtspError(status, 'SRV_ERR_METHOD', `${req.method} not supported`, { Allow: SUPPORTED_METHODS.join(', ') });
    } else {
      result = await handler(req, ctx);
    }
  } catch (err) {
    if (err instanceof RtspError) {
      refusedCode = err.code;
      // Every refusal reaches the operator's log with its reason (issue 12).
      log.info('request refused', {
        client: ctx.clientIp,
        method: req.method,
        uri: req.uri,
        status: err.status,
        code: err.code,
        reason: err.message,
      });
      result = { response: createResponse(err.status, err.headers) };
    } else {
      log.error('request failed', { method: req.method, uri: req.uri, error: String(err) });
      result = { response: createResponse(500) };
    }
  }
  const res = result.response;
  ctx.sessionContext.events.emit('request', {
    method: req.method,
    status: res.statusCode,
    ...(refusedCode !== undefined ? { code: refusedCode } : {}),
  });
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
  setSessionHeader(res, session.id, ctx.sessionContext.timeoutSec);
}

/** The session named by the Session header, or undefined when there is none. */
function findSession(req: RtspRequest, ctx: HandlerContext): ServerSession | undefined {
  const id = sessionIdOf(req);
  if (id === undefined) return undefined;
  const s = ctx.sessionContext.registry.get(id);
  if (!(s instanceof ServerSession) || s.isClosed) throw sessionNotFound();
  return s;
}

/** A request that needs a session: find it, check the method table, keep it alive. */
function requireSession(req: RtspRequest, ctx: HandlerContext): ServerSession {
  const s = findSession(req, ctx);
  if (!s) throw new RtspError(455, 'SRV_ERR_NO_SESSION', `${req.method} needs a Session header`);
  s.check(req.method as SessionMethod);
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
  // By the name asked for: another name of the same file (symlink) has its own.
  if (impairment) ctx.describedImpairments.set(safeRelativePath(t.mediaPath) ?? entry.relPath, impairment);
  try {
    const sdp = describeSdp(entry, {
      localIp: ctx.localIp,
      serverName: ctx.serverName,
      sessionId: String(Math.floor(ctx.sessionContext.clock.wallNow() / 1000)),
    });
    const res = createResponse(
      200,
      {
        'Content-Type': 'application/sdp',
        'Content-Base': `${t.aggregateUrl}/`,
      },
      Buffer.from(sdp),
    );
    return { response: res };
  } finally {
    ctx.catalog.release(entry);
  }
}

async function setup(req: RtspRequest, ctx: HandlerContext): Promise<HandlerResult> {
  const t = target(req);
  const spec = chooseUnicast(transportsOf(req), ctx.clientIp);
  const { session, transport } = await setupInSession(ctx.sessionContext.registry, findSession(req, ctx), {
    // Against the name the session asked for: the entry may be shared with another name (symlink).
    samePresentation: (s) => safeRelativePath(t.mediaPath) === s.media,
    create: async () => {
      const impairment = impairmentFromQuery(t.query);
      const entry = await ctx.catalog.acquire(t.mediaPath, t.control);
      const name = safeRelativePath(t.mediaPath) ?? entry.relPath;
      const s = new ServerSession(newSessionId(ctx.sessionContext.random), entry, name, ctx.clientIp, ctx.sessionContext);
      s.impairment = impairment ?? ctx.describedImpairments.get(name) ?? ctx.defaultImpairment;
      log.debug('session created', { session: s.id, media: name, client: ctx.clientIp });
      return s;
    },
    addTrack: async (s) => {
      const track = pickTrack(s.entry.tracks, t.control, (c) => s.setups.has(c), s.media);
      const transport =
        spec.lowerTransport === 'TCP'
          ? s.setupInterleaved(track, ctx.socket, spec.interleaved ?? s.nextChannels())
          : await s.setupUdp(track, spec.clientPort!);
      transport.ssrc = s.setups.get(track.control)!.stream.sender.ssrc;
      return transport;
    },
  });
  const res = createResponse(200, { Transport: formatTransport(transport) });
  sessionHeader(res, session, ctx);
  return { response: res };
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
      end:
        result.scale < 0
          ? range?.end !== undefined
            ? (result.endNpt ?? 0)
            : undefined
          : (result.endNpt ?? (session.entry.growth?.growing ? undefined : session.entry.durationSec)),
    }),
    'RTP-Info': formatRtpInfo(t.aggregateUrl, result.rtpInfo),
  });
  // The Scale and Speed used, whenever asked for or not 1 (RFC 2326 §12.34, §12.35).
  if (scale !== undefined || result.scale !== 1) res.headers.set('Scale', formatScale(result.scale));
  if (speed !== undefined || result.speed !== 1) res.headers.set('Speed', formatScale(result.speed));
  sessionHeader(res, session, ctx);
  session.commit('PLAY');
  if (result.restart) {
    ctx.sessionContext.events.emit('stream-started', {
      id: session.id,
      kind: 'file',
      media: session.media,
      client: session.clientIp,
      transport: session.transport,
      tracks: result.rtpInfo,
    });
  }
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
  session.commit('PAUSE');
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
