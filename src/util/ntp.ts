/**
 * NTP 64-bit timestamps (RFC 5905 §6: 32-bit seconds since 1900-01-01 plus a 32-bit fraction) from
 * wall-clock milliseconds, the middle 32 bits used by RTCP LSR, and the "compact" 16.16 format of
 * LSR/DLSR (units of 1/65536 s, RFC 3550 §6.4.1). Pure functions; the caller supplies the time.
 */

/** Seconds between 1900-01-01 (NTP era 0) and 1970-01-01 (Unix epoch). */
export const NTP_UNIX_OFFSET_SECONDS = 2_208_988_800;
const TWO_32 = 0x1_0000_0000;

export interface NtpTimestamp {
  /** Seconds since 1900-01-01, modulo 2^32 (era wraps in 2036). */
  seconds: number;
  /** Fraction of a second in units of 2^-32 s (0 .. 2^32 - 1). */
  fraction: number;
}

/** NTP timestamp for Unix milliseconds (may be fractional); the fraction is truncated. */
export function ntpFromUnixMs(ms: number): NtpTimestamp {
  const wholeSeconds = Math.floor(ms / 1000);
  const remMs = ms - wholeSeconds * 1000; // [0, 1000)
  let fraction = Math.floor((remMs * TWO_32) / 1000);
  let seconds = wholeSeconds + NTP_UNIX_OFFSET_SECONDS;
  if (fraction >= TWO_32) {
    fraction -= TWO_32;
    seconds += 1;
  }
  return { seconds: seconds >>> 0, fraction: fraction >>> 0 };
}

/**
 * Unix milliseconds for an NTP timestamp. Seconds with the top bit clear are taken as era 1
 * (2036-2104), as RFC 4330 §3 suggests, so times from 1968 to 2104 map back correctly.
 */
export function ntpToUnixMs(ntp: NtpTimestamp): number {
  const sec = ntp.seconds >= 0x8000_0000 ? ntp.seconds : ntp.seconds + TWO_32;
  return (sec - NTP_UNIX_OFFSET_SECONDS) * 1000 + (ntp.fraction * 1000) / TWO_32;
}

/** The middle 32 bits of the 64-bit timestamp (low 16 bits of seconds, high 16 of fraction). */
export function ntpMiddle32(ntp: NtpTimestamp): number {
  return (((ntp.seconds & 0xffff) << 16) | (ntp.fraction >>> 16)) >>> 0;
}

/** Shortcut: ntpMiddle32(ntpFromUnixMs(ms)), the "compact NTP" time of a wall-clock instant. */
export function compactNtpFromUnixMs(ms: number): number {
  return ntpMiddle32(ntpFromUnixMs(ms));
}

/** Milliseconds for a compact 16.16 NTP value (units of 1/65536 s), e.g. a DLSR or an RTT. */
export function compactNtpToMs(x: number): number {
  return ((x >>> 0) * 1000) / 65536;
}

/** Compact 16.16 NTP units (rounded) for a duration in ms, clamped to [0, 2^32 - 1]. */
export function msToCompactNtp(ms: number): number {
  const v = Math.round((ms * 65536) / 1000);
  if (!(v > 0)) return 0;
  return v >= TWO_32 ? TWO_32 - 1 : v;
}
