import type { Clock } from '../../util/clock.ts';
import { createLogger } from '../../util/log.ts';
import type { EdgeState } from './edge-pool.ts';

const log = createLogger('redirect');

/** What an edge said of a path: it serves it, it does not (404, 503...), or we could not tell. */
export type PathAnswer = 'has' | 'lacks' | 'unknown';

/** An edge's answer to a probe of a path (a DESCRIBE): its status and Retry-After, if any. */
export interface ProbeResult {
  status: number;
  retryAfter?: string | undefined;
}

/** Asks `edge` about `path` (path and query of the client's URL); rejects when it cannot (timeout, refused). */
export type PathProber = (edge: EdgeState, path: string) => Promise<ProbeResult>;

export interface EdgePathOptions {
  /** How long an edge's answer about a path is trusted (ms). */
  ttlMs: number;
  /** Most (edge, path) answers kept; past it the oldest goes. */
  maxEntries: number;
  /** Most probes in flight at once (all edges). */
  maxInFlight: number;
  /** Most probes started per second (all edges). */
  maxPerSecond: number;
}

export const EDGE_PATH_DEFAULTS: EdgePathOptions = { ttlMs: 3000, maxEntries: 4096, maxInFlight: 16, maxPerSecond: 50 };

export interface EdgePathCounters {
  /** Probes sent (DESCRIBE to an edge). */
  probes: number;
  /** Answers taken from the cache. */
  cacheHits: number;
  /** Probes that got no answer (timeout, refused, closed): the edge is taken as before, by load. */
  probeFailures: number;
  /** Probes not sent because of maxInFlight or maxPerSecond (the edge is taken by load alone). */
  probesSkipped: number;
  /** Answers evicted to keep the cache within maxEntries. */
  evictions: number;
}

/** Statuses that say the edge does not serve the path now: another edge that does is better. */
const LACKS = new Set([404, 410, 453, 503]);

/** `has` (2xx, 3xx: the edge serves or forwards it), `lacks` (404, 410, 453, 503) or `unknown` (401, 403, 5xx...). */
export function classifyProbe(status: number): PathAnswer {
  if (status >= 200 && status < 400) return 'has';
  return LACKS.has(status) ? 'lacks' : 'unknown';
}

interface Entry {
  answer: PathAnswer;
  status: number;
  retryAfter: string | undefined;
  untilMs: number;
}

/**
 * What the edges behind a front say of each path, so a client is not sent to an edge that answers
 * 404 or 503 for it while another serves it. An (edge, path) pair is probed (a DESCRIBE, by the
 * pool) when a client asks for the path and nothing fresh is known; the answer is kept `ttlMs`.
 * Every bound is explicit: at most `maxEntries` answers (oldest evicted), `maxInFlight` probes at
 * once, `maxPerSecond` started per second (past those the edge is taken by load alone, counted);
 * clients asking at once for the same pair share one probe. Answers that could not be had
 * (timeout, refused) are not kept.
 */
export class EdgePaths {
  readonly counters: EdgePathCounters = { probes: 0, cacheHits: 0, probeFailures: 0, probesSkipped: 0, evictions: 0 };
  private readonly o: EdgePathOptions;
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<Entry | undefined>>();
  private windowStartMs = -Infinity;
  private startedInWindow = 0;

  constructor(
    private readonly probe: PathProber,
    private readonly clock: Clock,
    options: Partial<EdgePathOptions> = {},
  ) {
    this.o = { ...EDGE_PATH_DEFAULTS, ...options };
  }

  /** Answers kept now. */
  get size(): number {
    return this.entries.size;
  }

  /** What `edge` (index `index` in the pool) says of `path`: cached, probed, or unknown. */
  async check(
    edge: EdgeState,
    index: number,
    path: string,
  ): Promise<{ answer: PathAnswer; status?: number; retryAfter?: string | undefined }> {
    const key = `${index} ${path}`;
    const now = this.clock.now();
    const cached = this.entries.get(key);
    if (cached && cached.untilMs > now) {
      this.counters.cacheHits++;
      return cached;
    }
    if (cached) this.entries.delete(key);
    let pending = this.inFlight.get(key);
    if (!pending) {
      if (now - this.windowStartMs >= 1000) {
        this.windowStartMs = now;
        this.startedInWindow = 0;
      }
      if (this.inFlight.size >= this.o.maxInFlight || this.startedInWindow >= this.o.maxPerSecond) {
        this.counters.probesSkipped++;
        return { answer: 'unknown' };
      }
      this.startedInWindow++;
      this.counters.probes++;
      pending = this.run(edge, key, path);
      this.inFlight.set(key, pending);
    }
    const entry = await pending;
    return entry ?? { answer: 'unknown' };
  }

  private async run(edge: EdgeState, key: string, path: string): Promise<Entry | undefined> {
    try {
      const r = await this.probe(edge, path);
      const entry: Entry = {
        answer: classifyProbe(r.status),
        status: r.status,
        retryAfter: r.retryAfter,
        untilMs: this.clock.now() + this.o.ttlMs,
      };
      this.entries.set(key, entry);
      while (this.entries.size > this.o.maxEntries) {
        this.entries.delete(this.entries.keys().next().value!);
        this.counters.evictions++;
      }
      return entry;
    } catch (err) {
      this.counters.probeFailures++;
      log.debug('edge path probe failed', { edge: edge.base, path, error: String((err as Error).message ?? err) });
      return undefined;
    } finally {
      this.inFlight.delete(key);
    }
  }
}
