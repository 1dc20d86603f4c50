import { createResponse } from '../../rtsp/index.ts';
import type { RtspRequest } from '../../rtsp/index.ts';
import { RtspError, sessionNotFound } from '../errors.ts';
import { sessionIdOf } from './lookup.ts';
import type { SessionMethod } from './method-table.ts';
import type { HandlerContext, HandlerResult } from './request-context.ts';
import { RtspSession } from './rtsp-session.ts';
import { formatRtpInfo } from './transport-negotiation.ts';

/**
 * The requests that act on an existing session, the same for a file, a live view and a publisher:
 * the session is looked up, the method table checked, the session kept alive, and the request
 * handed to its presentation. SETUP (which may create a session) and RECORD (a publisher found
 * by its connection too) are the presentations' own handlers'.
 */
export const SESSION_REQUESTS = ['PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER'] as const;

export function isSessionRequest(method: string): method is (typeof SESSION_REQUESTS)[number] {
  return (SESSION_REQUESTS as readonly string[]).includes(method);
}

/** The session named by the Session header: undefined without one, 454 when unknown or closed. */
export function findSession(req: RtspRequest, ctx: HandlerContext): RtspSession | undefined {
  const id = sessionIdOf(req);
  if (id === undefined) return undefined;
  const s = ctx.sessionContext.registry.get(id);
  if (!(s instanceof RtspSession) || s.isClosed) throw sessionNotFound();
  return s;
}

/** A request that needs a session: find it (455 without a Session header), check the method table, keep it alive. */
export function requireSession(req: RtspRequest, ctx: HandlerContext): RtspSession {
  const s = findSession(req, ctx);
  if (!s) throw new RtspError(455, 'SRV_ERR_NO_SESSION', `${req.method} needs a Session header`);
  s.check(req.method as SessionMethod);
  s.touch();
  return s;
}

export async function handleSessionRequest(req: RtspRequest, ctx: HandlerContext): Promise<HandlerResult> {
  switch (req.method) {
    case 'PLAY':
      return play(req, ctx);
    case 'PAUSE':
      return pause(req, ctx);
    case 'TEARDOWN':
      requireSession(req, ctx).close('teardown');
      return { response: createResponse(200) };
    default:
      return keepAlive(req, ctx);
  }
}

async function play(req: RtspRequest, ctx: HandlerContext): Promise<HandlerResult> {
  const session = requireSession(req, ctx);
  const answer = await session.presentation.play(req);
  const res = createResponse(200, { Range: answer.range, 'RTP-Info': formatRtpInfo(answer.aggregateUrl, answer.rtpInfo) });
  for (const [name, value] of answer.extra ?? []) res.headers.set(name, value);
  session.header(res);
  session.commit('PLAY');
  const begin = answer.begin;
  if (!begin) return { response: res };
  ctx.sessionContext.events.emit('stream-started', {
    id: session.id,
    kind: session.kind,
    media: session.media,
    client: session.clientIp,
    transport: session.transport,
    tracks: answer.rtpInfo,
  });
  return { response: res, after: begin };
}

async function pause(req: RtspRequest, ctx: HandlerContext): Promise<HandlerResult> {
  const session = requireSession(req, ctx);
  const range = session.presentation.pause();
  session.commit('PAUSE');
  return { response: session.header(createResponse(200, range !== undefined ? { Range: range } : {})) };
}

/** GET_PARAMETER and SET_PARAMETER: a keep-alive; parameters in the body are not understood (451). */
async function keepAlive(req: RtspRequest, ctx: HandlerContext): Promise<HandlerResult> {
  const session = findSession(req, ctx);
  session?.touch();
  // Parameters we could report: none yet; RFC 2326 §10.8 says 451 for ones we do not know.
  if (req.body.length > 0) throw new RtspError(451, 'SRV_ERR_PARAMETER', 'parameter not understood');
  const res = createResponse(200);
  if (session) session.header(res);
  return { response: res };
}
