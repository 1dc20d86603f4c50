import { createResponse } from '../../rtsp/index.ts';
import type { RtspRequest, RtspResponse } from '../../rtsp/index.ts';

/**
 * The load of a server as RTSP parameters (RFC 2326 §10.8 GET_PARAMETER, `text/parameters`),
 * what a redirecting front polls on each edge: `GET_PARAMETER rtsp://edge/ RTSP/1.0` without a
 * Session, body `sessions\r\n`, answered `sessions: 12\r\nmax-sessions: 1000\r\n`. Pure.
 */
export const LOAD_PARAMETERS = ['sessions', 'max-sessions'] as const;

/** Most parameter names one request may ask for (the body is bounded by the server too). */
const MAX_NAMES = 8;

/**
 * The answer to a session-less GET_PARAMETER asking only for load parameters; undefined when the
 * request is anything else (it goes on to the ordinary keep-alive path, 451 for unknown names).
 */
export function loadParameterAnswer(req: RtspRequest, load: { sessions: number; maxSessions: number }): RtspResponse | undefined {
  if (req.method !== 'GET_PARAMETER' || req.headers.get('Session') !== undefined || req.body.length === 0) return undefined;
  const names = req.body
    .toString('utf8')
    .split(/\r?\n/)
    .map((l) => l.trim().toLowerCase())
    .filter((l) => l !== '');
  if (names.length === 0 || names.length > MAX_NAMES || !names.every((n) => (LOAD_PARAMETERS as readonly string[]).includes(n)))
    return undefined;
  const values: Record<string, number> = { sessions: load.sessions, 'max-sessions': load.maxSessions };
  const body = names.map((n) => `${n}: ${values[n]}\r\n`).join('');
  return createResponse(200, { 'Content-Type': 'text/parameters' }, Buffer.from(body));
}

/** Parses `name: value` lines of a text/parameters body (numbers only; others skipped). */
export function parseParameters(body: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of body.split(/\r?\n/).slice(0, 64)) {
    const m = /^\s*([A-Za-z0-9_.-]{1,64})\s*:\s*(\d{1,12})\s*$/.exec(line);
    if (m) out.set(m[1]!.toLowerCase(), Number(m[2]));
  }
  return out;
}
