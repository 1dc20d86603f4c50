import { createResponse } from '../rtsp/index.ts';
import type { RtspRequest } from '../rtsp/index.ts';
import { createLogger } from '../util/log.ts';
import { RtspError, badRequest } from './errors.ts';
import { FilePresentationSource } from './file-presentation.ts';
import { parseRequestTarget } from './request-target.ts';
import type { RequestTarget } from './request-target.ts';
import type { HandlerContext, HandlerResult } from './session/request-context.ts';
import { handleSessionRequest, isSessionRequest } from './session/session-requests.ts';
import { describePresentation, setupPresentation } from './session/presentation-requests.ts';
import type * as LiveHandlers from './live/live-handlers.ts';
import type { LiveHub } from './live/live-hub.ts';
import { accessKind, checkAccess } from './path-access.ts';
import { loadParameterAnswer } from './redirect/index.ts';

export type { HandlerContext, HandlerResult } from './session/request-context.ts';

const log = createLogger('rtsp');

/**
 * The live handlers (live/live-handlers.ts, and the views, record targets and relays behind them)
 * are loaded by the first request about a live path: a server that only plays files never does.
 */
let liveHandlers: Promise<typeof LiveHandlers> | undefined;
async function handleLiveRequest(req: RtspRequest, ctx: HandlerContext, live: LiveHub): Promise<HandlerResult> {
  liveHandlers ??= import('./live/live-handlers.ts');
  return (await liveHandlers).handleLiveRequest(req, ctx, live);
}

export const SUPPORTED_METHODS = ['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER'] as const;

/** RTSP 1.0 methods we know but do not offer (405 with Allow); anything else is 501. */
const KNOWN_METHODS = new Set(['ANNOUNCE', 'RECORD', 'REDIRECT']);

type Handler = (req: RtspRequest, ctx: HandlerContext) => Promise<HandlerResult>;

const HANDLERS: Record<(typeof SUPPORTED_METHODS)[number], Handler> = {
  OPTIONS: async () => ({ response: createResponse(200, { Public: SUPPORTED_METHODS.join(', ') }) }),
  DESCRIBE: describe,
  SETUP: setup,
  PLAY: handleSessionRequest,
  PAUSE: handleSessionRequest,
  TEARDOWN: handleSessionRequest,
  GET_PARAMETER: handleSessionRequest,
  SET_PARAMETER: handleSessionRequest,
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
    // Per-path rules (serve --config paths:) may replace the --auth rule on a path.
    let auth = checkAccess(req, ctx);
    // The ffmpeg an `ffmpeg:` channel runs publishes without credentials; it is recognized instead.
    if (!auth.ok && ctx.live && accessKind(req) === 'publish' && (await ctx.live.isOwnSourcePublisher(req, ctx.socket)))
      auth = { ok: true };
    // PLAY, PAUSE, TEARDOWN, GET/SET_PARAMETER: one path for every kind of session.
    const live = !isSessionRequest(req.method) && ctx.live?.claims(req) ? ctx.live : undefined;
    const handler = live
      ? (r: RtspRequest, c: HandlerContext) => handleLiveRequest(r, c, live)
      : HANDLERS[req.method as keyof typeof HANDLERS];
    // A redirecting front sends new presentations to an edge; any server tells its load (redirect/).
    const early = !auth.ok
      ? undefined
      : ((await ctx.redirect?.answer(req, ctx.clientIp)) ?? loadParameterAnswer(req, ctx.sessionContext.registry.load()));
    if (!auth.ok) {
      result = { response: auth.response };
      refusedCode = 'SRV_ERR_AUTH';
      logRefusal(req, ctx, auth.response.statusCode, refusedCode, auth.reason);
    } else if (early) {
      result = { response: early };
    } else if (!handler) {
      const status = KNOWN_METHODS.has(req.method) ? 405 : 501;
      const why = req.method === 'ANNOUNCE' || req.method === 'RECORD' ? ': publishing needs live/NAME or a path a config rule opens' : '';
      throw new RtspError(status, 'SRV_ERR_METHOD', `${req.method} not supported${why}`, { Allow: SUPPORTED_METHODS.join(', ') });
    } else {
      result = await handler(req, ctx);
    }
  } catch (err) {
    if (err instanceof RtspError) {
      refusedCode = err.code;
      logRefusal(req, ctx, err.status, err.code, err.message);
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

/** Every refusal reaches the operator's log with its reason (issue 12): the handlers' and authentication's. */
function logRefusal(req: RtspRequest, ctx: HandlerContext, status: number, code: string, reason: string): void {
  log.info('request refused', { client: ctx.clientIp, method: req.method, uri: req.uri, status, code, reason });
}

function target(req: RtspRequest): RequestTarget {
  const t = parseRequestTarget(req.uri);
  if (!t) throw badRequest('SRV_ERR_BAD_URI', `bad request URI ${req.uri}`);
  return t;
}

async function describe(req: RtspRequest, ctx: HandlerContext): Promise<HandlerResult> {
  return describePresentation(req, ctx, new FilePresentationSource(target(req)));
}

async function setup(req: RtspRequest, ctx: HandlerContext): Promise<HandlerResult> {
  return setupPresentation(req, ctx, new FilePresentationSource(target(req)));
}
