import { createResponse, formatTransport } from '../../rtsp/index.ts';
import type { RtspRequest, TransportSpec } from '../../rtsp/index.ts';
import type { ImpairmentSpec } from '../../transport/index.ts';
import { RtspError, notFound } from '../errors.ts';
import type { HandlerContext, HandlerResult } from './request-context.ts';
import type { RtspSession } from './rtsp-session.ts';
import { setupInSession } from './setup-flow.ts';
import { transportsOf } from './transport-negotiation.ts';

/**
 * DESCRIBE and SETUP, the same for every kind of presentation: the request path chooses the
 * presentation's source once (handlers.ts: a file, a live channel, a live path to publish to), and
 * this file runs the one path over it: the SDP answer, the transport, the session (an existing
 * one, or a new one admitted first), the track set up by the session's presentation, the state
 * committed, the Session and Transport headers.
 */

/** The SDP origin of a DESCRIBE answer: the server's address on the connection and its name. */
export interface SdpOrigin {
  localIp: string;
  serverName: string;
  /** The `o=` session id (the server's wall clock in seconds). */
  sessionId: string;
}

/**
 * What a DESCRIBE or SETUP URL names, chosen once per request (handlers.ts): a file, a live channel
 * to view, or a live path to publish to. It answers DESCRIBE, chooses the transport, finds the
 * session a SETUP continues or opens a new one; the session's presentation then sets up the track
 * (session/presentation-requests.ts runs the one path).
 */
export interface PresentationSource {
  /** The name its sessions play or record (`sample.mp4`, `live/NAME`): DESCRIBE's impairment is remembered by it. */
  readonly media: string;
  /** The aggregate URL as the client wrote it (Content-Base is this and a slash). */
  readonly aggregateUrl: string;
  /** The track the URL names after the presentation, if any. */
  readonly control: string | undefined;
  /** The impairment the URL's query asks for, if any. */
  readonly impairment: ImpairmentSpec | undefined;
  /** DESCRIBE: the SDP (RtspError when there is nothing to describe: 404, 503 + Retry-After). */
  describe(origin: SdpOrigin, ctx: HandlerContext): Promise<string>;
  /** The first of the client's transports this presentation serves (461, 403 otherwise). */
  chooseTransport(specs: TransportSpec[], clientIp: string): TransportSpec;
  /**
   * The session a SETUP continues: the one its Session header names (454 when it is not one of
   * this kind), or for a publisher the one of its connection; undefined when it starts one.
   */
  existing(req: RtspRequest, ctx: HandlerContext): RtspSession | undefined;
  /** Whether session `s` plays this presentation (a SETUP of another one is refused, 459). */
  plays(s: RtspSession): boolean;
  /** A new session on this presentation (the place in the registry is held already). */
  open(ctx: HandlerContext): Promise<RtspSession>;
}

/** DESCRIBE: the source's SDP with Content-Base; an impairment in its URL is remembered for the SETUPs of this connection. */
export async function describePresentation(req: RtspRequest, ctx: HandlerContext, source: PresentationSource): Promise<HandlerResult> {
  if (source.control) throw notFound('DESCRIBE names a track, not a presentation');
  const accept = req.headers.get('Accept');
  if (accept && !/application\/sdp|\*\/\*|application\/\*/i.test(accept)) {
    throw new RtspError(406, 'SRV_ERR_ACCEPT', 'only application/sdp descriptions');
  }
  const sdp = await source.describe(
    {
      localIp: ctx.localIp,
      serverName: ctx.serverName,
      sessionId: String(Math.floor(ctx.sessionContext.clock.wallNow() / 1000)),
    },
    ctx,
  );
  // By the name asked for: another name of the same file (symlink) has its own.
  if (source.impairment) ctx.describedImpairments.set(source.media, source.impairment);
  return {
    response: createResponse(200, { 'Content-Type': 'application/sdp', 'Content-Base': `${source.aggregateUrl}/` }, Buffer.from(sdp)),
  };
}

/**
 * The impairment of a new session: its SETUP URL's, else its DESCRIBE's on this connection, else
 * `fallback` (the caller's: its path's rule's, else the server's; path-access.ts defaultImpairmentFor).
 */
export function sessionImpairment(
  source: PresentationSource,
  ctx: HandlerContext,
  fallback: ImpairmentSpec | undefined = ctx.defaultImpairment,
): ImpairmentSpec | undefined {
  return source.impairment ?? ctx.describedImpairments.get(source.media) ?? fallback;
}

/** SETUP: the transport chosen, then the track set up in the session it continues or a new one. */
export async function setupPresentation(req: RtspRequest, ctx: HandlerContext, source: PresentationSource): Promise<HandlerResult> {
  const spec: TransportSpec = source.chooseTransport(transportsOf(req), ctx.clientIp);
  const { session, transport } = await setupInSession(ctx.sessionContext.registry, source.existing(req, ctx), {
    samePresentation: (s) => source.plays(s),
    create: () => source.open(ctx),
    addTrack: (s) => s.presentation.setupTrack(source.control, spec, ctx.socket),
  });
  return { response: session.header(createResponse(200, { Transport: formatTransport(transport) })) };
}
