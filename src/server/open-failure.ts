import { createLogger } from '../util/log.ts';
import { RtspError } from './errors.ts';

const log = createLogger('media');

const DENIED = /\b(EACCES|EPERM)\b/;

/** True when opening failed because the server may not read the file (EACCES/EPERM). */
export function isAccessDenied(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined;
  if (!e) return false;
  if (typeof e.code === 'string' && DENIED.test(e.code)) return true;
  // MediaError keeps the errno only in its message (media/mp4/open.ts, media/ts-file/open.ts).
  if (typeof e.message === 'string' && DENIED.test(e.message)) return true;
  return e.cause !== undefined && e.cause !== err && isAccessDenied(e.cause);
}

/**
 * The RTSP error for a media file that could not be opened: 403 with a warn line naming the file
 * when the server may not read it (the admin must fix permissions); 415 with a warn line for a
 * playlist or script format preparation refuses (PREP_ERR_REFUSED); else 415 (logged at info).
 */
export function openFailureError(err: unknown, relPath: string): RtspError {
  const code = (err as { code?: string }).code ?? 'MEDIA_ERR';
  if (isAccessDenied(err)) {
    log.warn('media file not readable by the server', { path: relPath, error: String(err) });
    return new RtspError(403, 'SRV_ERR_FORBIDDEN', `${relPath}: not readable`);
  }
  if (code === 'PREP_ERR_REFUSED') {
    // A playlist or script in the media dir (input-guard.ts): someone put it there; say so.
    log.warn('media file refused: its format names other files', { path: relPath, error: String(err) });
    return new RtspError(415, 'SRV_ERR_REFUSED_FORMAT', `${relPath}: format refused`);
  }
  log.info('cannot open media', { path: relPath, code, error: String(err) });
  return new RtspError(415, 'SRV_ERR_UNSUPPORTED_MEDIA', `${relPath}: ${code}`);
}
