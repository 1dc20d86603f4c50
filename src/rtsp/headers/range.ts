/**
 * Range header and SDP a=range, normal play time only (RFC 2326 §12.29, §3.6).
 *
 *   Range       = "Range" ":" 1#ranges-specifier [ ";" "time" "=" utc-time ]
 *   npt-range   = ( npt-time "-" [ npt-time ] ) | ( "-" npt-time )
 *   npt-time    = "now" | npt-sec | npt-hhmmss
 *   npt-sec     = 1*DIGIT [ "." *DIGIT ]
 *   npt-hhmmss  = npt-hh ":" npt-mm ":" npt-ss [ "." *DIGIT ]    (mm, ss: 1*2DIGIT, 0..59)
 *
 * Times are seconds (number) or 'now'. smpte= and clock= ranges are reported with
 * RTSP_ERR_UNSUPPORTED_RANGE_UNIT (answer 456 or ignore); a `;time=` suffix is ignored.
 */

import { rtspError, rtspOk, type RtspResult } from '../errors.ts';
import { trimWs } from './split.ts';
import { at } from '../../util/narrow.ts';

export type NptTime = number | 'now';

/**
 * At least one of start/end is present. `start` absent: "-end" (play up to end). An end before the
 * start is kept as written: played backwards (Scale < 0), a range runs from the later time down to
 * the earlier one (RFC 7826 §4.4.2; GStreamer's rtspsrc sends `npt=10-0`); callers judge it.
 */
export interface NptRange {
  start?: NptTime;
  end?: NptTime;
}

/** Parse one npt-time; undefined if malformed. */
export function parseNptTime(s: string): NptTime | undefined {
  if (s.toLowerCase() === 'now') return 'now';
  let m = /^(\d+)(\.\d*)?$/.exec(s);
  if (m !== null) return Number(m[1] + (m[2] !== undefined && m[2].length > 1 ? m[2] : ''));
  m = /^(\d+):(\d{1,2}):(\d{1,2})(\.\d*)?$/.exec(s);
  if (m === null) return undefined;
  const mm = Number(m[2]);
  const ss = Number(m[3]);
  if (mm > 59 || ss > 59) return undefined;
  const frac = m[4] !== undefined && m[4].length > 1 ? Number(`0${m[4]}`) : 0;
  return Number(m[1]) * 3600 + mm * 60 + ss + frac;
}

/** Parse a Range value (or an a=range attribute value) holding an npt range. */
export function parseRange(value: string): RtspResult<NptRange> {
  const spec = trimWs(at(value.split(';'), 0));
  const eq = spec.indexOf('=');
  const unit = trimWs(eq === -1 ? spec : spec.slice(0, eq)).toLowerCase();
  if (unit !== 'npt') {
    if (unit === 'clock' || unit.startsWith('smpte')) {
      return rtspError('RTSP_ERR_UNSUPPORTED_RANGE_UNIT', `unsupported range unit ${unit}`);
    }
    return rtspError('RTSP_ERR_BAD_RANGE', `bad range ${JSON.stringify(value.slice(0, 80))}`);
  }
  const body = spec.slice(eq + 1);
  const dash = body.indexOf('-');
  if (dash === -1) return rtspError('RTSP_ERR_BAD_RANGE', `npt range without '-': ${JSON.stringify(body)}`);
  const a = trimWs(body.slice(0, dash));
  const b = trimWs(body.slice(dash + 1));
  if (a === '' && b === '') return rtspError('RTSP_ERR_BAD_RANGE', 'empty npt range');
  const range: NptRange = {};
  if (a !== '') {
    const t = parseNptTime(a);
    if (t === undefined) return rtspError('RTSP_ERR_BAD_RANGE', `bad npt time ${JSON.stringify(a)}`);
    range.start = t;
  }
  if (b !== '') {
    const t = parseNptTime(b);
    if (t === undefined) return rtspError('RTSP_ERR_BAD_RANGE', `bad npt time ${JSON.stringify(b)}`);
    range.end = t;
  }
  return rtspOk(range);
}

function formatTime(t: NptTime, fractionDigits: number): string {
  if (t === 'now') return 'now';
  if (!Number.isFinite(t) || t < 0) throw new RangeError(`invalid npt time ${t}`);
  return t.toFixed(fractionDigits);
}

/** `npt=<start>-[<end>]` with seconds written with `fractionDigits` decimals (default 3). */
export function formatNptRange(range: NptRange, fractionDigits = 3): string {
  if (range.start === undefined && range.end === undefined) throw new RangeError('empty npt range');
  const a = range.start === undefined ? '' : formatTime(range.start, fractionDigits);
  const b = range.end === undefined ? '' : formatTime(range.end, fractionDigits);
  return `npt=${a}-${b}`;
}
