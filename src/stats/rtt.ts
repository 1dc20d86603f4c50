/**
 * Round-trip time from a reception report block (RFC 3550 §6.4.1): RTT = A - LSR - DLSR, all in
 * compact NTP units of 1/65536 s, where A is the arrival time of the report as the middle 32 bits
 * of our NTP clock. Undefined when the block has LSR = 0 (no SR seen) or the result is negative
 * (clock trouble or a stale report).
 *
 * @see RFC 3550 §6.4.1 (the "delay since last SR" paragraph and its example)
 */

import type { ReportBlock } from '../rtcp/index.ts';
import { compactNtpFromUnixMs, compactNtpToMs } from '../util/ntp.ts';

/**
 * RTT in ms. `arrivalCompactNtp` is the report's arrival time as compact NTP (0..2^32-1, e.g.
 * `compactNtpFromUnixMs(wallMs)`). Throws RangeError for a value outside 32 bits, which is how a
 * wall-clock millisecond value passed by mistake shows up.
 */
export function rttFromReportBlock(block: ReportBlock, arrivalCompactNtp: number): number | undefined {
  if (!Number.isInteger(arrivalCompactNtp) || arrivalCompactNtp < 0 || arrivalCompactNtp > 0xffffffff) {
    throw new RangeError(
      `arrivalCompactNtp must be a 32-bit compact NTP value, got ${arrivalCompactNtp} (use rttFromReportBlockAtWallMs for Unix ms)`,
    );
  }
  if (block.lsr === 0) return undefined;
  const rtt = (arrivalCompactNtp - block.lsr - block.dlsr) | 0; // modulo 2^32, signed
  if (rtt < 0) return undefined;
  return compactNtpToMs(rtt);
}

/** Same, with the arrival time given as wall-clock Unix milliseconds (the clock the SR's NTP came from). */
export function rttFromReportBlockAtWallMs(block: ReportBlock, arrivalWallMs: number): number | undefined {
  return rttFromReportBlock(block, compactNtpFromUnixMs(arrivalWallMs));
}
