/**
 * 33-bit PES timestamps and 42-bit PCRs (ISO/IEC 13818-1 §2.4.3.6, §2.4.3.5). Callers pass
 * unwrapped 90 kHz counts as JS numbers (exact up to 2^53); they are reduced modulo 2^33 here.
 */
import { TS_TIMESTAMP_WRAP } from './constants.ts';

/** `ts` modulo 2^33, in 0..2^33-1 (negative values wrap too). */
export function wrap33(ts: number): number {
  if (!Number.isFinite(ts)) throw new RangeError(`timestamp must be finite, got ${ts}`);
  const t = Math.round(ts) % TS_TIMESTAMP_WRAP;
  return t < 0 ? t + TS_TIMESTAMP_WRAP : t;
}

/**
 * Writes a PTS or DTS field (5 bytes):
 *   prefix (4) | ts[32..30] (3) | marker | ts[29..15] (15) | marker | ts[14..0] (15) | marker
 * prefix: 0b0010 PTS alone, 0b0011 PTS followed by a DTS, 0b0001 the DTS.
 */
export function writePesTimestamp(buf: Uint8Array, offset: number, prefix: number, ts: number): void {
  const t = wrap33(ts);
  const hi = Math.floor(t / 2 ** 30); // 3 bits
  const mid = Math.floor(t / 2 ** 15) & 0x7fff;
  const lo = t & 0x7fff;
  buf[offset] = (prefix << 4) | (hi << 1) | 1;
  buf[offset + 1] = mid >> 7;
  buf[offset + 2] = ((mid & 0x7f) << 1) | 1;
  buf[offset + 3] = lo >> 7;
  buf[offset + 4] = ((lo & 0x7f) << 1) | 1;
}

/**
 * Writes a program_clock_reference (6 bytes): base (33, 90 kHz) | reserved '111111' | extension
 * (9, 27 MHz remainder; 0 here).
 */
export function writePcr(buf: Uint8Array, offset: number, base90k: number): void {
  const b = wrap33(base90k);
  const top = Math.floor(b / 2); // bits 32..1
  buf[offset] = (top >>> 24) & 0xff;
  buf[offset + 1] = (top >>> 16) & 0xff;
  buf[offset + 2] = (top >>> 8) & 0xff;
  buf[offset + 3] = top & 0xff;
  buf[offset + 4] = ((b & 1) << 7) | 0x7e; // extension bit 8 = 0
  buf[offset + 5] = 0; // extension bits 7..0
}
