/**
 * RTP-Info header (RFC 2326 §12.33), sent in PLAY responses:
 *
 *   RTP-Info   = "RTP-Info" ":" 1#stream-url 1*parameter
 *   stream-url = "url" "=" url
 *   parameter  = ";" "seq" "=" 1*DIGIT | ";" "rtptime" "=" 1*DIGIT
 *
 * Entries are split at a comma that is followed by `url=`, so URLs may contain commas; URLs must
 * not contain ';'. seq is returned as sent (RFC 2326's own example has seq=12312232, beyond 16
 * bits): mask with `& 0xffff` before use. Unknown parameters are ignored.
 */

import { rtspError, rtspOk, type RtspResult } from '../errors.ts';
import { parseUint, trimWs, unquote } from './split.ts';

export interface RtpInfoEntry {
  url: string;
  /** First RTP sequence number sent after the PLAY (0..2^32-1 as parsed; 16 bits on the wire). */
  seq?: number;
  /** RTP timestamp that corresponds to the Range start time. */
  rtptime?: number;
}

export function parseRtpInfo(value: string): RtspResult<RtpInfoEntry[]> {
  const entries: RtpInfoEntry[] = [];
  for (const raw of value.split(/,(?=[ \t]*url[ \t]*=)/i)) {
    const text = trimWs(raw);
    if (text === '') continue;
    let url: string | undefined;
    const entry: { seq?: number; rtptime?: number } = {};
    for (const param of text.split(';')) {
      const p = trimWs(param);
      const eq = p.indexOf('=');
      if (eq === -1) continue;
      const name = trimWs(p.slice(0, eq)).toLowerCase();
      const v = trimWs(p.slice(eq + 1));
      if (name === 'url') {
        url = unquote(v);
      } else if (name === 'seq' || name === 'rtptime') {
        const n = parseUint(v, 0xffffffff);
        if (n === undefined) return rtspError('RTSP_ERR_BAD_RTP_INFO', `bad ${name} ${JSON.stringify(v)}`);
        entry[name] = n;
      }
    }
    if (url === undefined || url === '') {
      return rtspError('RTSP_ERR_BAD_RTP_INFO', `RTP-Info entry without url: ${JSON.stringify(text.slice(0, 80))}`);
    }
    entries.push({ url, ...entry });
  }
  if (entries.length === 0) return rtspError('RTSP_ERR_BAD_RTP_INFO', 'empty RTP-Info');
  return rtspOk(entries);
}

/** `url=U;seq=S;rtptime=T` entries joined with ','. */
export function formatRtpInfo(entries: readonly RtpInfoEntry[]): string {
  return entries
    .map((e) => {
      if (e.url === '' || /[;\s]/.test(e.url) || /,[ \t]*url[ \t]*=/i.test(e.url))
        throw new TypeError(`invalid RTP-Info url ${JSON.stringify(e.url)}`);
      let s = `url=${e.url}`;
      if (e.seq !== undefined) s += `;seq=${e.seq}`;
      if (e.rtptime !== undefined) s += `;rtptime=${e.rtptime}`;
      return s;
    })
    .join(',');
}
