/**
 * Session header (RFC 2326 §12.37):
 *
 *   Session = "Session" ":" session-id [ ";" "timeout" "=" delta-seconds ]
 *
 * The id is kept as sent (1*( ALPHA | DIGIT | safe ) in the RFC; we accept any run of visible
 * characters other than ';'). Unknown parameters are ignored.
 */

import { rtspError, rtspOk, type RtspResult } from '../errors.ts';
import { parseUint, splitOutsideQuotes } from './split.ts';
import { group } from '../../util/narrow.ts';

export interface SessionHeader {
  id: string;
  /** Seconds; absent when not sent (RFC default 60). */
  timeout?: number;
}

export const DEFAULT_SESSION_TIMEOUT_S = 60;

export function parseSession(value: string): RtspResult<SessionHeader> {
  const parts = splitOutsideQuotes(value, ';');
  const id = parts[0];
  if (!/^[\x21-\x7e]+$/.test(id)) return rtspError('RTSP_ERR_BAD_SESSION', `bad session id ${JSON.stringify(id)}`);
  const out: SessionHeader = { id };
  for (const part of parts.slice(1)) {
    const m = /^timeout[ \t]*=[ \t]*(.*)$/i.exec(part);
    if (m === null) continue;
    const raw = group(m, 1);
    const t = parseUint(raw, 0xffffffff);
    if (t === undefined) return rtspError('RTSP_ERR_BAD_SESSION', `bad session timeout ${JSON.stringify(raw)}`);
    out.timeout = t;
  }
  return rtspOk(out);
}

export function formatSession(s: SessionHeader): string {
  if (!/^[\x21-\x3a\x3c-\x7e]+$/.test(s.id)) throw new TypeError(`invalid session id ${JSON.stringify(s.id)}`);
  return s.timeout === undefined ? s.id : `${s.id};timeout=${s.timeout}`;
}
