import type { ByteStream } from '../../transport/index.ts';
import type { RtspResponse } from '../../rtsp/index.ts';
import type { ImpairmentSpec } from '../../transport/index.ts';
import type { AuthGate } from '../auth/gate.ts';
import type { LiveHub } from '../live/live-hub.ts';
import type { RedirectFront } from '../redirect/redirect-front.ts';
import type { MediaCatalog } from '../media-catalog.ts';
import type { PathRules } from '../path-rules.ts';
import type { SessionContext } from './context.ts';

/**
 * What a request handler (file or live) needs from the server and the connection the request
 * came on. Lives here, not in handlers.ts, so the live handlers need not import the file handlers.
 */
export interface HandlerContext {
  catalog: MediaCatalog;
  sessionContext: SessionContext;
  /** The RTSP peer: RTP goes only there (never to a Transport `destination`). */
  clientIp: string;
  /** The server's own address on this connection, for the SDP origin line. */
  localIp: string;
  socket: ByteStream;
  serverName: string;
  /** Impairment for every session unless its URL asks for another (`serve --netem`). */
  defaultImpairment: ImpairmentSpec | undefined;
  /**
   * Impairment asked for in a DESCRIBE URL on this connection, by media path: clients build SETUP
   * URLs from Content-Base, which carries no query string, so the connection remembers it.
   */
  describedImpairments: Map<string, ImpairmentSpec>;
  /** Live channels: requests about `live/...` (ANNOUNCE/RECORD included) and live sessions go there. */
  live?: LiveHub;
  /** Authentication (`serve --auth`): checked for every request before its handler. */
  auth?: AuthGate;
  /** Per-path rules (`serve --config` paths:): who may read and publish, impairment (path-access.ts). */
  paths?: PathRules;
  /** A redirecting front (`serve --redirect-to`): new presentations are sent to an edge. */
  redirect?: RedirectFront;
}

export interface HandlerResult {
  response: RtspResponse;
  /** Runs after the response is written (PLAY starts sending only then). */
  after?: () => void;
}
