/**
 * Scale and Speed headers (RFC 2326 §12.34, §12.35): a decimal number, e.g. `Scale: -3.5`.
 */

import { rtspError, rtspOk, type RtspResult } from '../errors.ts';
import { trimWs } from './split.ts';

/** Scale may be negative (reverse play); Speed is parsed the same way (callers check > 0). */
export function parseScale(value: string): RtspResult<number> {
  const v = trimWs(value);
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(v)) return rtspError('RTSP_ERR_BAD_SCALE', `bad scale ${JSON.stringify(v)}`);
  return rtspOk(Number(v));
}

/** Shortest decimal form with at most 6 decimals (`1`, `-2`, `0.5`); never exponent notation. */
export function formatScale(n: number): string {
  if (!Number.isFinite(n) || Math.abs(n) >= 1e15) throw new RangeError(`invalid scale ${n}`);
  const s = n.toFixed(6).replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s;
}
