/**
 * The operator's JSON API, routed from a request's method and decoded path. Every answer is JSON:
 * unknown ids and paths 404 `{error}`, a method a path does not take 405 with Allow, a malformed
 * body 400, a body past the bound 413, a body that is not JSON 415.
 *
 *   GET    /api/sessions            every RTSP session (RtspServer.sessionList)
 *   GET    /api/sessions/:id        one
 *   DELETE /api/sessions/:id        kicks it (BYE, TEARDOWN semantics)
 *   GET    /api/media               the media directory's files with tracks and durations
 *   GET    /api/live                live channels with viewers and publisher
 *   POST   /api/live                `{"name": "cam", "file": "sample.mp4", "loop": true}` starts live/cam
 *   GET    /api/live/:name          one channel
 *   DELETE /api/live/:name          stops it: viewers get BYE, an ffmpeg: source is stopped
 */
import type { IncomingMessage } from 'node:http';
import type { RtspServer } from '../server/index.ts';
import { LiveHubError } from '../server/index.ts';
import type { MediaLister } from './media-list.ts';

export interface ApiAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export const json = (status: number, body: unknown, headers?: Record<string, string>): ApiAnswer => ({
  status,
  body,
  ...(headers ? { headers } : {}),
});
const notFound = (what: string): ApiAnswer => json(404, { error: `no ${what}` });

/** What the API refuses at a limit or for a bad request (counted by reason in the metrics). */
export type ApiRefusal = 'body_too_large' | 'bad_json' | 'bad_body' | 'not_json';

export interface ApiContext {
  server: Pick<RtspServer, 'sessionList' | 'kick' | 'snapshot' | 'startLiveChannel' | 'stopLiveChannel' | 'address' | 'port' | 'secure'>;
  media: Pick<MediaLister, 'list'>;
  maxBodyBytes: number;
  refused(reason: ApiRefusal): void;
  /** Told of what the API changed (a kick, a channel started or stopped), for the log. */
  did(what: string, fields: Record<string, unknown>): void;
}

/** Reads a request body up to `max` bytes: `too-large` when it is longer (answered 413), `closed` when it never completes. */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large' | 'closed'> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > max) return Promise.resolve('too-large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > max) {
        done = true;
        resolve('too-large');
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(chunks));
      }
    });
    // A body that never completes (the request timeout closed it, the client went away).
    req.on('close', () => {
      if (!done && !req.complete) {
        done = true;
        resolve('closed');
      }
    });
    req.on('error', reject);
  });
}

/** A path segment decoded, or undefined when its percent-encoding is malformed. */
function decodeSegment(s: string | undefined): string | undefined {
  try {
    return decodeURIComponent(s ?? '');
  } catch {
    return undefined;
  }
}

const SESSION_PATH = /^\/api\/sessions\/([^/]+)$/;
const LIVE_PATH = /^\/api\/live\/([^/]+)$/;

/** The API's answer for `pathname`, undefined for paths outside /api/. Never throws for bad input. */
export async function handleApi(req: IncomingMessage, pathname: string, ctx: ApiContext): Promise<ApiAnswer | undefined> {
  const method = req.method ?? 'GET';
  const allow = (methods: string[]): ApiAnswer | undefined =>
    methods.includes(method) ? undefined : json(405, { error: `${method} not allowed here` }, { Allow: methods.join(', ') });
  if (pathname === '/api/sessions') return allow(['GET']) ?? json(200, { sessions: ctx.server.sessionList() });
  let m = SESSION_PATH.exec(pathname);
  if (m) {
    const bad = allow(['GET', 'DELETE']);
    if (bad) return bad;
    const id = decodeSegment(m[1]);
    if (id === undefined) return notFound('session (malformed percent-encoding)');
    if (method === 'DELETE') {
      if (!ctx.server.kick(id)) return notFound(`session ${id}`);
      ctx.did('session kicked', { session: id });
      return json(200, { kicked: id });
    }
    const s = ctx.server.sessionList().find((x) => x.id === id);
    return s ? json(200, s) : notFound(`session ${id}`);
  }
  if (pathname === '/api/media') return allow(['GET']) ?? json(200, await ctx.media.list());
  if (pathname === '/api/live') {
    const bad = allow(['GET', 'POST']);
    if (bad) return bad;
    if (method === 'GET') return json(200, { channels: ctx.server.snapshot().live });
    return startChannel(req, ctx);
  }
  m = LIVE_PATH.exec(pathname);
  if (m) {
    const bad = allow(['GET', 'DELETE']);
    if (bad) return bad;
    const name = decodeSegment(m[1]);
    if (name === undefined) return notFound('live channel (malformed percent-encoding)');
    if (method === 'DELETE') {
      if (!(await ctx.server.stopLiveChannel(name))) return notFound(`live channel ${name}`);
      ctx.did('live channel stopped', { channel: name });
      return json(200, { stopped: name });
    }
    const c = ctx.server.snapshot().live.find((x) => x.name === name);
    return c ? json(200, c) : notFound(`live channel ${name}`);
  }
  if (pathname.startsWith('/api/')) return notFound(pathname);
  return undefined;
}

const LIVE_ERROR_STATUS: Record<LiveHubError['code'], number> = {
  LIVE_ERR_EXISTS: 409,
  LIVE_ERR_FULL: 503,
  LIVE_ERR_NAME: 400,
  LIVE_ERR_NOT_FOUND: 404,
  LIVE_ERR_OPEN: 422,
};

async function startChannel(req: IncomingMessage, ctx: ApiContext): Promise<ApiAnswer> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  // JSON only: a cross-site form cannot send it without a CORS preflight, which is never granted.
  if (type !== 'application/json') {
    ctx.refused('not_json');
    return json(415, { error: 'Content-Type must be application/json' });
  }
  const body = await readBody(req, ctx.maxBodyBytes);
  // Nobody to answer: the connection is gone.
  if (body === 'closed') return json(400, { error: 'request closed before its body ended' });
  if (body === 'too-large') {
    ctx.refused('body_too_large');
    return json(413, { error: `body larger than ${ctx.maxBodyBytes} bytes` }, { Connection: 'close' });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    ctx.refused('bad_json');
    return json(400, { error: 'body is not JSON' });
  }
  const o = parsed as { name?: unknown; file?: unknown; loop?: unknown } | null;
  if (
    typeof o !== 'object' ||
    o === null ||
    Array.isArray(o) ||
    typeof o.name !== 'string' ||
    typeof o.file !== 'string' ||
    (o.loop !== undefined && typeof o.loop !== 'boolean')
  ) {
    ctx.refused('bad_body');
    return json(400, { error: 'want {"name": string, "file": string, "loop"?: boolean}' });
  }
  const loop = o.loop ?? true;
  try {
    await ctx.server.startLiveChannel({ name: o.name, file: o.file, loop });
  } catch (err) {
    if (err instanceof LiveHubError) return json(LIVE_ERROR_STATUS[err.code], { error: err.message, code: err.code });
    throw err;
  }
  ctx.did('live channel started', { channel: o.name, file: o.file, loop });
  const h = ctx.server.address;
  const host = h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h.includes(':') ? `[${h}]` : h;
  return json(201, {
    name: o.name,
    file: o.file,
    loop,
    url: `${ctx.server.secure ? 'rtsps' : 'rtsp'}://${host}:${ctx.server.port}/live/${o.name}`,
  });
}
