/**
 * The operator's HTTP side of `streamlab serve --http PORT` (127.0.0.1 unless --http-host says
 * otherwise): the dashboard, a JSON API over the server's public interface and Prometheus metrics.
 *
 *   GET    /                    the dashboard (dashboard-page.ts), fed by the WebSocket /ws
 *                               (live-feed.ts) once a second; uPlot at /uplot.js, /uplot.css
 *   /api/...                    the JSON API (api.ts): sessions (list, inspect, kick), media,
 *                               live channels (list, start from a file, stop)
 *   GET    /metrics             Prometheus text format (metrics.ts)
 *
 * Bounded: connections (MAX_HTTP_CONNECTIONS), request bodies (maxBodyBytes, 413), header and
 * request timeouts, dashboard pages (live-feed.ts). Against DNS rebinding, a request whose Host
 * does not name this machine (or the address listened on) is refused 421, and a browser's
 * cross-site Origin on a WebSocket upgrade or a POST/DELETE is refused 403.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { OperatorServer } from './operator-server.ts';
import { createLogger } from '../util/log.ts';
import { handleApi, json } from './api.ts';
import type { ApiAnswer, ApiRefusal } from './api.ts';
import { DASHBOARD_HTML } from './dashboard-page.ts';
import { FEED_INTERVAL_MS, LiveFeed, MAX_FEED_BACKLOG_BYTES } from './live-feed.ts';
import { MediaLister } from './media-list.ts';
import { ServerMetrics } from './metrics.ts';

/** uPlot's browser build and stylesheet, from the installed package (read once, on first request). */
const UPLOT = {
  '/uplot.js': { file: 'uplot/dist/uPlot.iife.min.js', type: 'text/javascript; charset=utf-8' },
  '/uplot.css': { file: 'uplot/dist/uPlot.min.css', type: 'text/css; charset=utf-8' },
} as const;
const assets = new Map<string, Promise<string>>();
function asset(name: keyof typeof UPLOT): Promise<string> {
  let p = assets.get(name);
  if (!p) {
    p = readFile(createRequire(import.meta.url).resolve(UPLOT[name].file), 'utf8');
    assets.set(name, p);
  }
  return p;
}

const log = createLogger('http');

export const MAX_HTTP_CONNECTIONS = 256;
export const MAX_BODY_BYTES = 16 * 1024;
const REQUEST_TIMEOUT_MS = 10_000;
/** GET /api/media: files listed at most, folder depth, ffprobe runs per listing. */
export const MEDIA_LIST_LIMITS = { maxMediaFiles: 500, maxMediaDepth: 4, maxProbesPerListing: 16 } as const;

export interface OperatorHttpOptions {
  host?: string;
  port: number;
  /** Largest request body (POST /api/live); default MAX_BODY_BYTES. */
  maxBodyBytes?: number;
  /** The dashboard feed: how often it pushes (default FEED_INTERVAL_MS), what backlog drops a page (default MAX_FEED_BACKLOG_BYTES). */
  feedIntervalMs?: number;
  maxFeedBacklogBytes?: number;
}

/** Why the operator's HTTP side refused something (streamlab_operator_refusals_total{reason}). */
export type OperatorRefusal = ApiRefusal | 'host' | 'origin' | 'bad_target' | 'http_connections' | 'feed_full' | 'feed_backlog';

/** Host names a browser on this machine uses for us; other Host headers are refused (DNS rebinding). */
const LOCAL_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

type Reply = ApiAnswer | { status: number; text: string; contentType: string };

export class OperatorHttp {
  readonly metrics: ServerMetrics;
  readonly feed: LiveFeed;
  private readonly media: MediaLister;
  private readonly maxBodyBytes: number;
  private readonly refusals = new Map<OperatorRefusal, number>();

  private constructor(
    private readonly server: OperatorServer,
    private readonly http: http.Server,
    private readonly opts: OperatorHttpOptions,
  ) {
    this.metrics = new ServerMetrics(server);
    this.feed = new LiveFeed(server, {
      intervalMs: opts.feedIntervalMs ?? FEED_INTERVAL_MS,
      maxBacklogBytes: opts.maxFeedBacklogBytes ?? MAX_FEED_BACKLOG_BYTES,
      refused: (r) => this.refused(r),
    });
    this.metrics.feedClients(() => this.feed.clients);
    this.media = new MediaLister(server.catalog.rootDir, MEDIA_LIST_LIMITS);
    this.maxBodyBytes = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  }

  static async start(server: OperatorServer, o: OperatorHttpOptions): Promise<OperatorHttp> {
    const h = http.createServer({ maxHeaderSize: 16 * 1024 });
    h.maxConnections = MAX_HTTP_CONNECTIONS;
    h.requestTimeout = REQUEST_TIMEOUT_MS;
    h.headersTimeout = REQUEST_TIMEOUT_MS;
    const op = new OperatorHttp(server, h, o);
    h.on('request', (req, res) => void op.handle(req, res));
    h.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => op.upgrade(req, socket, head));
    h.on('drop', () => op.refused('http_connections'));
    h.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      h.once('error', reject);
      h.listen(o.port, o.host ?? '127.0.0.1', () => {
        h.off('error', reject);
        resolve();
      });
    });
    log.info('operator HTTP listening', { url: op.url });
    return op;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get url(): string {
    const a = this.http.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${a.port}/`;
  }

  /** Counted by reason; logged for the first ten of a reason, then every thousandth. */
  refused(reason: OperatorRefusal, fields: Record<string, unknown> = {}): void {
    const n = (this.refusals.get(reason) ?? 0) + 1;
    this.refusals.set(reason, n);
    this.metrics.operatorRefused(reason);
    if (n <= 10 || n % 1000 === 0) log.warn('operator HTTP request refused', { reason, count: n, ...fields });
  }

  /** The WebSocket upgrade: only /ws, from this machine's pages. Never throws, whatever the request. */
  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const refuse = (status: string) => socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    try {
      const pathname = pathnameOf(req.url);
      if (pathname !== '/ws') return void refuse('404 Not Found');
      if (!this.hostAllowed(req)) {
        this.refused('host', { host: req.headers.host });
        return void refuse('421 Misdirected Request');
      }
      if (!this.originAllowed(req)) {
        this.refused('origin', { origin: req.headers.origin });
        return void refuse('403 Forbidden');
      }
      this.feed.upgrade(req, socket, head);
    } catch (err) {
      log.error('WebSocket upgrade failed', { url: req.url, error: String(err) });
      socket.destroy();
    }
  }

  /** Host must name this machine or the address listened on, unless listening on every address. */
  private hostAllowed(req: http.IncomingMessage): boolean {
    const bound = this.opts.host ?? '127.0.0.1';
    if (bound === '0.0.0.0' || bound === '::') return true;
    const h = (req.headers.host ?? '').toLowerCase();
    const name = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : (h.split(':')[0] ?? '');
    return LOCAL_HOSTNAMES.has(name) || name === bound || name === `[${bound}]`;
  }

  /** A browser's Origin (sent with WebSocket upgrades, POST and DELETE) must be this server itself. */
  private originAllowed(req: http.IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    try {
      return new URL(origin).host === (req.headers.host ?? '').toLowerCase();
    } catch {
      return false;
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      await this.server.refresh?.();
      reply = await this.route(req);
    } catch (err) {
      log.error('HTTP request failed', { method: req.method, url: req.url, error: String(err) });
      reply = json(500, { error: 'internal error' });
    }
    if (res.headersSent || res.destroyed) return;
    // Whatever of a body no route read (GET with a body, a refused POST): drained, bounded by the
    // request timeout, so the connection stays usable; a 413 closes it instead.
    if (!req.complete) req.resume();
    if ('text' in reply) {
      res.writeHead(reply.status, { 'Content-Type': reply.contentType, 'Cache-Control': 'no-store' });
      res.end(reply.text);
    } else {
      const body = JSON.stringify(reply.body);
      res.writeHead(reply.status, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        'Cache-Control': 'no-store',
        ...reply.headers,
      });
      res.end(body);
    }
  }

  private async route(req: http.IncomingMessage): Promise<Reply> {
    const method = req.method ?? 'GET';
    if (!this.hostAllowed(req)) {
      this.refused('host', { host: req.headers.host });
      return json(421, { error: 'unexpected Host: use the address the server listens on' });
    }
    const path = pathnameOf(req.url);
    if (path === undefined) {
      this.refused('bad_target', { target: req.url?.slice(0, 200) });
      return json(400, { error: 'bad request target' });
    }
    if (method !== 'GET' && method !== 'HEAD' && !this.originAllowed(req)) {
      this.refused('origin', { origin: req.headers.origin });
      return json(403, { error: 'cross-origin request refused' });
    }
    if (path === '/' && method === 'GET') return { status: 200, text: DASHBOARD_HTML, contentType: 'text/html; charset=utf-8' };
    if ((path === '/uplot.js' || path === '/uplot.css') && method === 'GET') {
      return { status: 200, text: await asset(path), contentType: UPLOT[path].type };
    }
    if (path === '/metrics') {
      if (method !== 'GET') return json(405, { error: `${method} not allowed here` }, { Allow: 'GET' });
      return { status: 200, text: await this.metrics.text(), contentType: this.metrics.contentType };
    }
    const answer = await handleApi(req, path, {
      server: this.server,
      media: this.media,
      maxBodyBytes: this.maxBodyBytes,
      refused: (r) => this.refused(r),
      did: (what, fields) => log.info(what, { ...fields, by: req.socket.remoteAddress }),
    });
    return answer ?? json(404, { error: `nothing at ${path}` });
  }

  async close(): Promise<void> {
    this.metrics.close();
    this.feed.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

/**
 * The path of a request target: origin-form (`/api/x?y`) up to its query, absolute-form
 * (`http://host/api/x`) through URL; undefined for anything else (answered 400). Not decoded:
 * routes decode their segments (a malformed percent-encoding is their 404).
 */
export function pathnameOf(target: string | undefined): string | undefined {
  const t = target ?? '/';
  if (t.startsWith('/')) {
    const end = t.search(/[?#]/);
    return end < 0 ? t : t.slice(0, end);
  }
  try {
    const p = new URL(t).pathname;
    return p.startsWith('/') ? p : undefined;
  } catch {
    return undefined;
  }
}
