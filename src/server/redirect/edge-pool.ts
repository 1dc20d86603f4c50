import { parseRtspUrl, withoutUserinfo } from '../../rtsp/index.ts';
import { RtspClientConnection } from '../../transport/rtsp-client.ts';
import type { Clock, TimerHandle } from '../../util/clock.ts';
import { createLogger } from '../../util/log.ts';
import { parseParameters } from './load-parameter.ts';

const log = createLogger('redirect');

/** Most edges a front redirects to. */
export const MAX_EDGES = 64;

export interface EdgePoolOptions {
  /** How often each edge is asked for its load (ms). */
  pollMs: number;
  /** Connect and answer timeout of a poll (ms). */
  timeoutMs: number;
}

export const EDGE_POOL_DEFAULTS: EdgePoolOptions = { pollMs: 2000, timeoutMs: 2000 };

/** One edge as the front knows it. */
export interface EdgeState {
  /** `rtsp://host:port` (no path, no credentials): Locations are this plus the request's path. */
  base: string;
  /** Reachable at the last poll. */
  up: boolean;
  /** Sessions it reported at the last poll. */
  sessions: number;
  maxSessions: number;
  /** Clients sent to it since that poll's answer (they are not in `sessions` yet). */
  sentSincePoll: number;
  /** Clients sent to it in total. */
  redirected: number;
  polls: number;
  pollFailures: number;
}

/** The edges' base URLs from `--redirect-to rtsp://E1,rtsp://E2` (throws with the reason). */
export function parseEdgeList(value: string): string[] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0) throw new Error('--redirect-to wants rtsp://HOST:PORT[,rtsp://HOST:PORT...]');
  if (list.length > MAX_EDGES) throw new Error(`--redirect-to: at most ${MAX_EDGES} edges`);
  return list.map((s) => {
    const u = parseRtspUrl(s);
    if (!u.ok || u.value.scheme === 'rtspu' || u.value.username !== undefined)
      throw new Error(`--redirect-to: ${withoutUserinfo(s)} is not rtsp://HOST:PORT (no credentials)`);
    const host = u.value.host.includes(':') ? `[${u.value.host}]` : u.value.host;
    return `${u.value.scheme}://${host}:${u.value.port}`;
  });
}

/**
 * The edges behind a redirecting front and their load. Each edge is polled every `pollMs` with a
 * session-less `GET_PARAMETER` asking `sessions` and `max-sessions` (load-parameter.ts), over
 * one RTSP connection kept open (our RTSP client; a new one after a failure). The least loaded
 * edge is the one with the fewest sessions reported plus clients sent to it since, among those
 * that answered the last poll and are below their `max-sessions`; ties go to the first listed.
 * An edge that does not answer is left out until it answers again.
 */
export class EdgePool {
  readonly edges: EdgeState[];
  private readonly conns = new Map<EdgeState, RtspClientConnection>();
  private timer: TimerHandle | undefined;
  private closed = false;
  private readonly o: EdgePoolOptions;

  constructor(
    bases: string[],
    private readonly clock: Clock,
    options: Partial<EdgePoolOptions> = {},
  ) {
    this.o = { ...EDGE_POOL_DEFAULTS, ...options };
    this.edges = bases.map((base) => ({
      base,
      up: false,
      sessions: 0,
      maxSessions: Infinity,
      sentSincePoll: 0,
      redirected: 0,
      polls: 0,
      pollFailures: 0,
    }));
  }

  /** Polls every edge now and then every pollMs; resolves after the first round. */
  async start(): Promise<void> {
    await this.pollAll();
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = this.clock.setTimeout(() => {
      void this.pollAll().then(() => this.schedule());
    }, this.o.pollMs);
  }

  pollAll(): Promise<void> {
    return Promise.all(this.edges.map((e) => this.poll(e))).then(() => undefined);
  }

  private async poll(e: EdgeState): Promise<void> {
    try {
      let conn = this.conns.get(e);
      if (!conn || !conn.isOpen) {
        const u = parseRtspUrl(e.base);
        if (!u.ok) throw new Error('bad edge URL');
        conn = await RtspClientConnection.connect({
          host: u.value.host,
          port: u.value.port,
          responseTimeoutMs: this.o.timeoutMs,
          connectTimeoutMs: this.o.timeoutMs,
          ...(u.value.scheme === 'rtsps' ? { tls: {} } : {}),
        });
        this.conns.set(e, conn);
      }
      const res = await conn.request(
        'GET_PARAMETER',
        `${e.base}/`,
        { 'Content-Type': 'text/parameters' },
        Buffer.from('sessions\r\nmax-sessions\r\n'),
      );
      const p = parseParameters(res.body.toString('utf8'));
      const sessions = p.get('sessions');
      if (res.statusCode !== 200 || sessions === undefined) throw new Error(`answered ${res.statusCode} without sessions`);
      e.sessions = sessions;
      e.maxSessions = p.get('max-sessions') ?? Infinity;
      e.sentSincePoll = 0;
      e.polls++;
      if (!e.up) log.info('edge up', { edge: e.base, sessions });
      e.up = true;
    } catch (err) {
      e.pollFailures++;
      if (e.up || e.pollFailures === 1)
        log.warn('edge does not answer; left out', { edge: e.base, error: String((err as Error).message ?? err) });
      e.up = false;
      this.conns.get(e)?.close();
      this.conns.delete(e);
    }
  }

  /** The edge the next client goes to (counted as sent), or undefined when none is up. */
  pick(): EdgeState | undefined {
    let best: EdgeState | undefined;
    for (const e of this.edges) {
      if (!e.up || e.sessions + e.sentSincePoll >= e.maxSessions) continue;
      if (!best || e.sessions + e.sentSincePoll < best.sessions + best.sentSincePoll) best = e;
    }
    if (best) {
      best.sentSincePoll++;
      best.redirected++;
    }
    return best;
  }

  close(): void {
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    for (const c of this.conns.values()) c.close();
    this.conns.clear();
  }
}
