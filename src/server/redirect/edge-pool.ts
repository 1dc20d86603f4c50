import { parseRtspUrl, withoutUserinfo } from '../../rtsp/index.ts';
import type { ClientCredentials } from '../../rtsp/index.ts';
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
  /** For `rtsps://` edges: the CA to check their certificate against, or accept any. */
  tls?: { ca?: Buffer; insecure?: boolean };
}

export const EDGE_POOL_DEFAULTS: EdgePoolOptions = { pollMs: 2000, timeoutMs: 2000 };

/** One edge as the front knows it. */
export interface EdgeState {
  /** `rtsp://host:port` (no path, no credentials): Locations are this plus the request's path. */
  base: string;
  /** Answered its last poll with its load: chosen. Down (refused, timed out, an error status): left out. */
  up: boolean;
  /** Why it is down (the last poll's failure), or undefined when up or not polled yet. */
  lastError: string | undefined;
  /** Front clock ms of the last transition (up or down). */
  sinceMs: number | undefined;
  /** Sessions it reported at the last poll. */
  sessions: number;
  maxSessions: number;
  /** Clients sent to it since that poll's answer (they are not in `sessions` yet). */
  sentSincePoll: number;
  /** Clients sent to it in total. */
  redirected: number;
  polls: number;
  pollFailures: number;
  /** Times it went down (up → down, or down at the first poll). */
  downs: number;
}

/**
 * The edges' URLs from `--redirect-to rtsp://E1,rtsp://[USER:PASS@]E2` (throws with the reason):
 * `scheme://[userinfo@]host:port`, userinfo as written (the front's credentials for the poll).
 */
export function parseEdgeList(value: string): string[] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0) throw new Error('--redirect-to wants rtsp://[USER:PASS@]HOST:PORT[,rtsp://HOST:PORT...]');
  if (list.length > MAX_EDGES) throw new Error(`--redirect-to: at most ${MAX_EDGES} edges`);
  return list.map((s) => {
    const u = parseRtspUrl(s);
    if (!u.ok || u.value.scheme === 'rtspu' || (u.value.rawPath !== '' && u.value.rawPath !== '/') || u.value.query !== undefined)
      throw new Error(`--redirect-to: ${withoutUserinfo(s)} is not rtsp://[USER:PASS@]HOST:PORT`);
    const host = u.value.host.includes(':') ? `[${u.value.host}]` : u.value.host;
    const userinfo = /^[a-z]+:\/\/([^@/]*)@/i.exec(s)?.[1];
    return `${u.value.scheme}://${userinfo !== undefined ? `${userinfo}@` : ''}${host}:${u.value.port}`;
  });
}

/**
 * The edges behind a redirecting front and their health and load. Each edge is polled every
 * `pollMs`, on its own (a slow edge does not hold the others' polls back), with a session-less
 * `GET_PARAMETER` asking `sessions` and `max-sessions` (load-parameter.ts) over one RTSP
 * connection kept open (our RTSP client; a new one after a failure). Credentials in an edge's URL
 * answer its 401 (Digest, or Basic when offered): edges with `--auth read` or `all`.
 *
 * An edge that does not answer (connection refused, no answer within `timeoutMs`) or answers an
 * error (401 without usable credentials, 5xx, no `sessions`) is down: left out until a poll gets
 * its load again. Transitions are logged (warn down, info up) and counted. The least loaded edge
 * is the one with the fewest sessions reported plus clients sent to it since, among those up and
 * below their `max-sessions`; ties go to the first listed.
 */
export class EdgePool {
  readonly edges: EdgeState[];
  private readonly credentials = new Map<EdgeState, ClientCredentials>();
  private readonly conns = new Map<EdgeState, RtspClientConnection>();
  private readonly timers = new Map<EdgeState, TimerHandle>();
  private closed = false;
  private readonly o: EdgePoolOptions;

  constructor(
    urls: string[],
    readonly clock: Clock,
    options: Partial<EdgePoolOptions> = {},
  ) {
    this.o = { ...EDGE_POOL_DEFAULTS, ...options };
    this.edges = urls.map((url) => {
      const u = parseRtspUrl(url);
      const e: EdgeState = {
        base: withoutUserinfo(url).replace(/\/$/, ''),
        up: false,
        lastError: undefined,
        sinceMs: undefined,
        sessions: 0,
        maxSessions: Infinity,
        sentSincePoll: 0,
        redirected: 0,
        polls: 0,
        pollFailures: 0,
        downs: 0,
      };
      if (u.ok && u.value.username !== undefined) this.credentials.set(e, { username: u.value.username, password: u.value.password ?? '' });
      return e;
    });
  }

  /** Seconds a client told "no edge" should wait: an edge that comes back is seen within a poll. */
  get retryAfterSec(): number {
    return Math.max(1, Math.ceil(this.o.pollMs / 1000));
  }

  /** Polls every edge now and then each every pollMs; resolves after the first round. */
  async start(): Promise<void> {
    await this.pollAll();
    for (const e of this.edges) this.schedule(e);
  }

  private schedule(e: EdgeState): void {
    if (this.closed) return;
    this.timers.set(
      e,
      this.clock.setTimeout(() => {
        void this.poll(e).then(() => this.schedule(e));
      }, this.o.pollMs),
    );
  }

  pollAll(): Promise<void> {
    return Promise.all(this.edges.map((e) => this.poll(e))).then(() => undefined);
  }

  /** A new RTSP connection to an edge, with the front's credentials and TLS settings for it. */
  private async connect(e: EdgeState): Promise<RtspClientConnection> {
    const u = parseRtspUrl(e.base);
    if (!u.ok) throw new Error('bad edge URL');
    const credentials = this.credentials.get(e);
    return RtspClientConnection.connect({
      host: u.value.host,
      port: u.value.port,
      responseTimeoutMs: this.o.timeoutMs,
      connectTimeoutMs: this.o.timeoutMs,
      ...(credentials ? { credentials } : {}),
      ...(u.value.scheme === 'rtsps' ? { tls: this.o.tls ?? {} } : {}),
      certificateHint: 'give its CA with --pull-tls-ca FILE, or --pull-tls-insecure to accept any certificate',
    });
  }

  private async poll(e: EdgeState): Promise<void> {
    const credentials = this.credentials.get(e);
    try {
      let conn = this.conns.get(e);
      if (!conn || !conn.isOpen) {
        conn = await this.connect(e);
        if (this.closed) {
          conn.close();
          return;
        }
        this.conns.set(e, conn);
      }
      const res = await conn.request(
        'GET_PARAMETER',
        `${e.base}/`,
        { 'Content-Type': 'text/parameters' },
        Buffer.from('sessions\r\nmax-sessions\r\n'),
      );
      if (res.statusCode === 401)
        throw new Error(
          credentials
            ? 'answered 401: it refused the credentials of --redirect-to'
            : 'answered 401: it asks for credentials; give them in --redirect-to rtsp://USER:PASS@HOST:PORT',
        );
      const p = parseParameters(res.body.toString('utf8'));
      const sessions = p.get('sessions');
      if (res.statusCode !== 200 || sessions === undefined)
        throw new Error(`answered ${res.statusCode} ${res.reason}${res.statusCode === 200 ? ' without sessions' : ''}`);
      e.sessions = sessions;
      e.maxSessions = p.get('max-sessions') ?? Infinity;
      e.sentSincePoll = 0;
      e.polls++;
      if (!e.up) {
        log.info('edge up', { edge: e.base, sessions, maxSessions: p.get('max-sessions'), downForMs: this.since(e) });
        e.up = true;
        e.lastError = undefined;
        e.sinceMs = this.clock.now();
      }
    } catch (err) {
      e.pollFailures++;
      const error = String((err as Error).message ?? err);
      if (e.up || e.sinceMs === undefined) {
        log.warn('edge down: left out until it answers again', { edge: e.base, error, upForMs: this.since(e) });
        e.downs++;
        e.up = false;
        e.sinceMs = this.clock.now();
      }
      e.lastError = error;
      this.conns.get(e)?.close();
      this.conns.delete(e);
    }
  }

  /**
   * Asks `e` whether it serves `path` (the client's path and query): a DESCRIBE on a connection
   * of its own (the poll's stays free), with the front's credentials; resolves with the status.
   * On an edge whose rule pulls on demand this starts the pull, as the client's DESCRIBE would.
   */
  async probePath(e: EdgeState, path: string): Promise<{ status: number; retryAfter: string | undefined }> {
    const conn = await this.connect(e);
    try {
      const res = await conn.request('DESCRIBE', `${e.base}${path}`, { Accept: 'application/sdp' });
      return { status: res.statusCode, retryAfter: res.headers.get('Retry-After') };
    } finally {
      conn.close();
    }
  }

  private since(e: EdgeState): number | undefined {
    return e.sinceMs === undefined ? undefined : this.clock.now() - e.sinceMs;
  }

  /** The edges a client may go to, least loaded first (ties: the first listed), with their index. */
  ranked(): { edge: EdgeState; index: number }[] {
    const load = (e: EdgeState) => e.sessions + e.sentSincePoll;
    return this.edges
      .map((edge, index) => ({ edge, index }))
      .filter(({ edge }) => edge.up && load(edge) < edge.maxSessions)
      .sort((a, b) => load(a.edge) - load(b.edge) || a.index - b.index);
  }

  /** A client was sent to `e`: counted in its load until its next poll. */
  take(e: EdgeState): void {
    e.sentSincePoll++;
    e.redirected++;
  }

  /** The edge the next client goes to (counted as sent), or undefined when none is up. */
  pick(): EdgeState | undefined {
    const best = this.ranked()[0]?.edge;
    if (best) this.take(best);
    return best;
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
    for (const c of this.conns.values()) c.close();
    this.conns.clear();
  }
}
