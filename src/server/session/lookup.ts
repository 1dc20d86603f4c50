import { parseSession } from '../../rtsp/index.ts';
import type { RtspRequest } from '../../rtsp/index.ts';
import { badRequest } from '../errors.ts';

/** The session id of a request's Session header (RFC 2326 §12.37); undefined without one, 400 when malformed. */
export function sessionIdOf(req: RtspRequest): string | undefined {
  const value = req.headers.get('Session');
  if (value === undefined) return undefined;
  const parsed = parseSession(value);
  if (!parsed.ok) throw badRequest('SRV_ERR_BAD_SESSION', 'malformed Session header');
  return parsed.value.id;
}

/** The session id of a Session header value we wrote or trust (`id;timeout=N`): the part before any parameter. */
export function sessionIdOfHeader(value: string): string {
  const [id = ''] = value.split(';', 1);
  return id.trim();
}
