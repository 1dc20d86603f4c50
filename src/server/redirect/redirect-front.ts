import { createResponse, parseRtspUrl } from '../../rtsp/index.ts';
import type { RtspRequest, RtspResponse } from '../../rtsp/index.ts';
import type { Clock } from '../../util/clock.ts';
import { createLogger } from '../../util/log.ts';
import type { EdgePool, EdgeState } from './edge-pool.ts';
import { EdgePaths } from './edge-paths.ts';
import type { EdgePathCounters, EdgePathOptions, PathProber } from './edge-paths.ts';

const log = createLogger('redirect');

/** The requests a front redirects: those that start a presentation (no Session yet). */
const REDIRECTED = new Set(['DESCRIBE', 'SETUP', 'PLAY', 'ANNOUNCE']);

export interface RedirectCounters {
  redirected: number;
  /** Answered 503: no edge was up or every one was full. */
  noEdge: number;
  /** Answered 404 or 503: every edge up said it does not serve the path. */
  noPath: number;
  /** Clients sent past a less loaded edge that said it does not serve the path. */
  pathSkips: number;
  /** What the edges were asked of paths (edge-paths.ts). */
  paths: EdgePathCounters;
}

export interface RedirectFrontOptions {
  /** 302 (default) or 301. */
  status?: 301 | 302;
  /** Ask edges whether they serve a DESCRIBE's path before sending a client there (default on). */
  pathProbe?: false | Partial<EdgePathOptions>;
  /** The clock of the path answers (default: the pool's). */
  clock?: Clock;
  /** How a path is asked (default: the pool's DESCRIBE). */
  prober?: PathProber;
}

/**
 * A redirecting front (`serve --redirect-to rtsp://E1,rtsp://E2`): DESCRIBE (and SETUP, PLAY or
 * ANNOUNCE without a Session) is answered `302 Found` (or `301`) with `Location:` the same path
 * on the least loaded edge (edge-pool.ts); OPTIONS is answered as usual (ffmpeg stops at an
 * OPTIONS that is not 200). ffmpeg, GStreamer's rtspsrc, VLC (live555) and `streamlab play` follow
 * it. No edge up (every one down, or full): 503 with Retry-After of one poll interval.
 *
 * For a DESCRIBE, with more than one edge up, the front also asks the edges, least loaded first, whether they serve the path
 * (edge-paths.ts: a DESCRIBE of their own, answers kept a few seconds, bounded): an edge that
 * answers 404 or 503 for it is passed over for the next one; the first that serves it, or that
 * could not be asked (it is taken on load alone, as without probes), gets the client. When every
 * edge up lacks the path the client gets 503 (with the shortest Retry-After an edge gave) if one
 * said 503, else 404.
 */
export class RedirectFront {
  readonly counters: RedirectCounters;
  private readonly status: 301 | 302;
  private readonly paths: EdgePaths | undefined;

  constructor(
    readonly pool: EdgePool,
    o: RedirectFrontOptions | 301 | 302 = {},
  ) {
    const opts: RedirectFrontOptions = typeof o === 'number' ? { status: o } : o;
    this.status = opts.status ?? 302;
    this.paths =
      opts.pathProbe === false
        ? undefined
        : new EdgePaths(opts.prober ?? ((e, path) => pool.probePath(e, path)), opts.clock ?? pool.clock, opts.pathProbe ?? {});
    this.counters = {
      redirected: 0,
      noEdge: 0,
      noPath: 0,
      pathSkips: 0,
      paths: this.paths?.counters ?? { probes: 0, cacheHits: 0, probeFailures: 0, probesSkipped: 0, evictions: 0 },
    };
  }

  /** The redirect for `req`, or undefined when the request is not one to redirect. */
  async answer(req: RtspRequest, client: string): Promise<RtspResponse | undefined> {
    if (!REDIRECTED.has(req.method) || req.headers.get('Session') !== undefined) return undefined;
    const u = parseRtspUrl(req.uri);
    if (!u.ok) return undefined;
    const pathAndQuery = `${u.value.rawPath}${u.value.query !== undefined ? `?${u.value.query}` : ''}`;
    const ranked = this.pool.ranked();
    if (ranked.length === 0) {
      this.counters.noEdge++;
      log.warn('no edge to redirect to', { client, uri: req.uri });
      // Within a poll interval an edge that comes back is seen again.
      return createResponse(503, { 'Retry-After': String(this.pool.retryAfterSec) });
    }
    let edge: EdgeState | undefined = ranked[0]!.edge;
    // With one edge there is no other to prefer: its own answer is the client's.
    if (this.paths && req.method === 'DESCRIBE' && ranked.length > 1) {
      edge = undefined;
      const lacking: { status: number; retryAfter?: string | undefined }[] = [];
      for (const { edge: e, index } of ranked) {
        const r = await this.paths.check(e, index, pathAndQuery);
        if (r.answer !== 'lacks') {
          edge = e;
          break;
        }
        lacking.push({ status: r.status ?? 404, retryAfter: r.retryAfter });
      }
      if (!edge) return this.noPath(lacking, client, req.uri);
      if (lacking.length > 0) this.counters.pathSkips++;
      // Its load may have changed while we asked; the client goes there all the same.
      if (!edge.up) log.debug('edge went down while asked about a path', { edge: edge.base });
    }
    this.pool.take(edge);
    this.counters.redirected++;
    const location = `${edge.base}${pathAndQuery}`;
    log.info('redirected', { client, method: req.method, to: location, edgeSessions: edge.sessions, sentSincePoll: edge.sentSincePoll });
    return createResponse(this.status, { Location: location });
  }

  /** Every edge up said it does not serve the path: 503 if one is only away for now, else 404. */
  private noPath(lacking: { status: number; retryAfter?: string | undefined }[], client: string, uri: string): RtspResponse {
    this.counters.noPath++;
    const unavailable = lacking.filter((l) => l.status === 503);
    log.info('no edge serves the path', { client, uri, answers: lacking.map((l) => l.status) });
    if (unavailable.length === 0) return createResponse(404);
    const waits = unavailable.map((l) => Number(l.retryAfter)).filter((n) => Number.isInteger(n) && n >= 0);
    const retryAfter = waits.length > 0 ? Math.min(...waits) : this.pool.retryAfterSec;
    return createResponse(503, { 'Retry-After': String(retryAfter) });
  }
}
