import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  NTP_UNIX_OFFSET_SECONDS,
  compactNtpFromUnixMs,
  compactNtpToMs,
  msToCompactNtp,
  ntpFromUnixMs,
  ntpMiddle32,
  ntpToUnixMs,
} from '../../src/util/ntp.ts';

describe('NTP timestamps', () => {
  it('offset between 1900 and 1970 is 70 years incl. 17 leap days', () => {
    expect(NTP_UNIX_OFFSET_SECONDS).toBe((70 * 365 + 17) * 86400);
  });

  it.each([
    // unix ms, NTP seconds, NTP fraction (hand-computed)
    [0, 0x83aa7e80, 0], // 1970-01-01 = 2208988800 s after 1900
    [1500, 0x83aa7e81, 0x80000000], // + 1.5 s
    [250, 0x83aa7e80, 0x40000000], // + 0.25 s
    [125, 0x83aa7e80, 0x20000000], // + 0.125 s
    // RFC 3550 §6.4.1 Figure 2: 10 Nov 1995 11:33:25.125 UTC = 0xb44db705 : 0x20000000
    [Date.UTC(1995, 10, 10, 11, 33, 25, 125), 0xb44db705, 0x20000000],
    // 2036-02-07 06:28:16 UTC is the end of NTP era 0: seconds wrap to 0
    [Date.UTC(2036, 1, 7, 6, 28, 16), 0, 0],
  ])('ntpFromUnixMs(%d)', (ms, seconds, fraction) => {
    expect(ntpFromUnixMs(ms)).toEqual({ seconds, fraction });
  });

  it('1 ms is floor(2^32 / 1000) = 4294967 fraction units', () => {
    expect(ntpFromUnixMs(1).fraction).toBe(4294967);
  });

  it('ntpMiddle32 takes the low 16 bits of seconds and the high 16 of the fraction', () => {
    expect(ntpMiddle32({ seconds: 0xaabbccdd, fraction: 0x11223344 })).toBe(0xccdd1122);
    // RFC 3550 Figure 2: LSR = 0xb705:2000
    expect(ntpMiddle32({ seconds: 0xb44db705, fraction: 0x20000000 })).toBe(0xb7052000);
    expect(compactNtpFromUnixMs(Date.UTC(1995, 10, 10, 11, 33, 36, 500))).toBe(0xb7108000); // A in Figure 2
  });

  it('ntpToUnixMs inverts, including era 1 after 2036', () => {
    expect(ntpToUnixMs({ seconds: 0x83aa7e81, fraction: 0x80000000 })).toBe(1500);
    expect(ntpToUnixMs({ seconds: 0, fraction: 0 })).toBe(Date.UTC(2036, 1, 7, 6, 28, 16));
    expect(ntpToUnixMs({ seconds: 10, fraction: 0x40000000 })).toBe(Date.UTC(2036, 1, 7, 6, 28, 26, 250));
  });

  it('property: round trip within 1 µs for 1970..2100', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 4.1e12, noNaN: true }), (ms) => {
        const back = ntpToUnixMs(ntpFromUnixMs(ms));
        expect(Math.abs(back - ms)).toBeLessThan(0.001);
      }),
      { numRuns: 1000 },
    );
  });

  it('compact NTP <-> ms', () => {
    expect(compactNtpToMs(0x00010000)).toBe(1000);
    expect(compactNtpToMs(0x00054000)).toBe(5250); // DLSR of RFC Figure 2
    expect(compactNtpToMs(0x00062000)).toBe(6125);
    expect(compactNtpToMs(1)).toBeCloseTo(1000 / 65536, 12);
    expect(msToCompactNtp(5250)).toBe(0x00054000);
    expect(msToCompactNtp(1)).toBe(66); // 65.536 rounds to 66
    expect(msToCompactNtp(-5)).toBe(0); // a negative delay is clamped
    expect(msToCompactNtp(1e12)).toBe(0xffffffff);
  });
});
