/**
 * The operator's HTTP side of `streamlab serve --http PORT` (127.0.0.1 unless --http-host says
 * otherwise): the dashboard, a JSON API over the server's public interface and Prometheus metrics.
 *
 *   GET    /                    the dashboard (dashboard-page.ts), fed by the WebSocket /ws
 *                               (live-feed.ts) once a second; uPlot at /uplot.js, /uplot.css
 *   GET    /api/sessions        every RTSP session: kind, client, path, transport, state, age,
 *                               packets and bytes, the receivers' last reports (XR VoIP metrics too)
 *   GET    /api/sessions/:id    one session (404 JSON when unknown)
 *   DELETE /api/sessions/:id    ends it as a TEARDOWN would (its client gets a BYE)
 *   GET    /api/live            live channels with their viewers and publisher
 *   GET    /metrics             Prometheus text format
 *
 * Bounded: connections (MAX_HTTP_CONNECTIONS), request bodies (none are read: methods that carry
 * one are refused with 413 past MAX_BODY_BYTES), header and request timeouts.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { RtspServer } from '../server/index.ts';
import { createLogger } from '../util/log.ts';
import { DASHBOARD_HTML } from './dashboard-page.ts';
import { LiveFeed } from './live-feed.ts';
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
export const MAX_BODY_BYTES = 64 * 1024;
const REQUEST_TIMEOUT_MS = 10_000;

export interface OperatorHttpOptions {
  host?: string;
  port: number;
}

type Reply = { status: number; body: unknown } | { status: number; text: string; contentType: string };

export class OperatorHttp {
  private readonly metrics: ServerMetrics;
  readonly feed: LiveFeed;

  private constructor(
    private readonly server: RtspServer,
    private readonly http: http.Server,
  ) {
    this.metrics = new ServerMetrics(server);
    this.feed = new LiveFeed(server);
  }

  static async start(server: RtspServer, o: OperatorHttpOptions): Promise<OperatorHttp> {
    const h = http.createServer();
    h.maxConnections = MAX_HTTP_CONNECTIONS;
    h.requestTimeout = REQUEST_TIMEOUT_MS;
    h.headersTimeout = REQUEST_TIMEOUT_MS;
    const op = new OperatorHttp(server, h);
    h.on('request', (req, res) => void op.handle(req, res));
    h.on('upgrade', (req, socket, head: Buffer) => {
      socket.on('error', () => undefined);
      if (new URL(req.url ?? '/', 'http://x').pathname === '/ws') op.feed.upgrade(req, socket, head);
      else socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
    });
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

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      reply = await this.route(req);
    } catch (err) {
      log.error('HTTP request failed', { method: req.method, url: req.url, error: String(err) });
      reply = { status: 500, body: { error: 'internal error' } };
    }
    if ('text' in reply) {
      res.writeHead(reply.status, { 'Content-Type': reply.contentType, 'Cache-Control': 'no-store' });
      res.end(reply.text);
    } else {
      res.writeHead(reply.status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(reply.body));
    }
  }

  private async route(req: http.IncomingMessage): Promise<Reply> {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > MAX_BODY_BYTES) return { status: 413, body: { error: `request body over ${MAX_BODY_BYTES} bytes` } };
    // No route reads a body: drain whatever came (bounded above) so the connection can be reused.
    req.resume();
    if (path === '/' && method === 'GET') return { status: 200, text: DASHBOARD_HTML, contentType: 'text/html; charset=utf-8' };
    if ((path === '/uplot.js' || path === '/uplot.css') && method === 'GET') {
      return { status: 200, text: await asset(path), contentType: UPLOT[path].type };
    }
    if (path === '/metrics' && method === 'GET') {
      return { status: 200, text: await this.metrics.text(), contentType: this.metrics.contentType };
    }
    if (path === '/api/sessions' && method === 'GET') return { status: 200, body: { sessions: this.server.sessionList() } };
    if (path === '/api/live' && method === 'GET') return { status: 200, body: { channels: this.server.snapshot().live } };
    const m = /^\/api\/sessions\/([^/]+)$/.exec(path);
    if (m) {
      const id = decodeURIComponent(m[1]!);
      if (method === 'GET') {
        const s = this.server.sessionList().find((x) => x.id === id);
        return s ? { status: 200, body: s } : { status: 404, body: { error: `no session ${id}` } };
      }
      if (method === 'DELETE') {
        if (!this.server.kick(id)) return { status: 404, body: { error: `no session ${id}` } };
        log.info('session kicked', { session: id, by: req.socket.remoteAddress });
        return { status: 200, body: { kicked: id } };
      }
      return { status: 405, body: { error: `${method} not allowed here` } };
    }
    return { status: 404, body: { error: `nothing at ${path}` } };
  }

  async close(): Promise<void> {
    this.metrics.close();
    this.feed.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
