import { createResponse, parseRtspUrl } from '../../rtsp/index.ts';
import type { RtspRequest, RtspResponse } from '../../rtsp/index.ts';
import { createLogger } from '../../util/log.ts';
import type { EdgePool } from './edge-pool.ts';

const log = createLogger('redirect');

/** The requests a front redirects: those that start a presentation (no Session yet). */
const REDIRECTED = new Set(['DESCRIBE', 'SETUP', 'PLAY', 'ANNOUNCE']);

export interface RedirectCounters {
  redirected: number;
  /** Answered 503: no edge was up or every one was full. */
  noEdge: number;
}

/**
 * A redirecting front (`serve --redirect-to rtsp://E1,rtsp://E2`): DESCRIBE (and SETUP, PLAY or
 * ANNOUNCE without a Session) is answered `302 Found` (or `301`) with `Location:` the same path
 * on the least loaded edge (edge-pool.ts); OPTIONS is answered as usual (ffmpeg stops at an
 * OPTIONS that is not 200). ffmpeg, GStreamer's rtspsrc, VLC (live555) and `streamlab play` follow
 * it. No edge up (every one down, or full): 503 with Retry-After of one poll interval.
 */
export class RedirectFront {
  readonly counters: RedirectCounters = { redirected: 0, noEdge: 0 };

  constructor(
    readonly pool: EdgePool,
    private readonly status: 301 | 302 = 302,
  ) {}

  /** The redirect for `req`, or undefined when the request is not one to redirect. */
  answer(req: RtspRequest, client: string): RtspResponse | undefined {
    if (!REDIRECTED.has(req.method) || req.headers.get('Session') !== undefined) return undefined;
    const u = parseRtspUrl(req.uri);
    if (!u.ok) return undefined;
    const edge = this.pool.pick();
    if (!edge) {
      this.counters.noEdge++;
      log.warn('no edge to redirect to', { client, uri: req.uri });
      // Within a poll interval an edge that comes back is seen again.
      return createResponse(503, { 'Retry-After': String(this.pool.retryAfterSec) });
    }
    this.counters.redirected++;
    const location = `${edge.base}${u.value.rawPath}${u.value.query !== undefined ? `?${u.value.query}` : ''}`;
    log.info('redirected', { client, method: req.method, to: location, edgeSessions: edge.sessions, sentSincePoll: edge.sentSincePoll });
    return createResponse(this.status, { Location: location });
  }
}
