import { describe, expect, it } from 'vitest';
import type { ReportBlock } from '../../src/rtcp/index.ts';
import { SenderStats, makeSenderInfo, rtpTimestampAt, rttFromReportBlock, rttFromReportBlockAtWallMs } from '../../src/stats/index.ts';

const block = (lsr: number, dlsr: number): ReportBlock => ({
  ssrc: 1,
  fractionLost: 0,
  cumulativeLost: 0,
  extendedHighestSeq: 0,
  jitter: 0,
  lsr,
  dlsr,
});

describe('RTT from a report block (RFC 3550 §6.4.1)', () => {
  it('the RFC Figure 2 example: A=0xb710:8000, LSR=0xb705:2000, DLSR=0x0005:4000 -> 6.125 s', () => {
    expect(rttFromReportBlock(block(0xb7052000, 0x00054000), 0xb7108000)).toBe(6125);
    // the same with A as the wall clock of 10 Nov 1995 11:33:36.5 UTC
    expect(rttFromReportBlockAtWallMs(block(0xb7052000, 0x00054000), Date.UTC(1995, 10, 10, 11, 33, 36, 500))).toBe(6125);
  });

  it('LSR = 0 means no SR seen: undefined', () => {
    expect(rttFromReportBlock(block(0, 0), 0x10000)).toBeUndefined();
  });

  it('negative results are undefined; the compact clock may wrap', () => {
    expect(rttFromReportBlock(block(0x00020000, 0x00010000), 0x00020000)).toBeUndefined(); // A - LSR - DLSR = -1 s
    // A just after the 65536-s wrap: 0x00001000 - 0xffff0000 = 0x00011000 = 1.0625 s
    expect(rttFromReportBlock(block(0xffff0000, 0), 0x00001000)).toBe(1062.5);
    expect(rttFromReportBlock(block(0x00010000, 0x00010000), 0x00020000)).toBe(0);
  });

  it('throws when given Unix ms instead of compact NTP (programmer error)', () => {
    expect(() => rttFromReportBlock(block(1, 0), Date.UTC(2026, 0, 1))).toThrow(RangeError);
  });
});

describe('sender stats and SR sender info', () => {
  it('makeSenderInfo: NTP of the wall clock, RTP of the same instant, counters mod 2^32', () => {
    expect(makeSenderInfo(Date.UTC(1995, 10, 10, 11, 33, 25, 125), 123456, 2 ** 32 + 5, 64000)).toEqual({
      ntpSeconds: 0xb44db705,
      ntpFraction: 0x20000000,
      rtpTimestamp: 123456,
      packetCount: 5,
      octetCount: 64000,
    });
  });

  it('SenderStats counts packets and payload octets', () => {
    const s = new SenderStats();
    s.onPacketSent(1200);
    s.onPacketSent(300);
    expect([s.packets, s.octets]).toEqual([2, 1500]);
    expect(s.senderInfo(0, 7)).toEqual({ ntpSeconds: 0x83aa7e80, ntpFraction: 0, rtpTimestamp: 7, packetCount: 2, octetCount: 1500 });
    s.reset();
    expect([s.packets, s.octets]).toEqual([0, 0]);
  });

  it('rtpTimestampAt advances at the clock rate and wraps at 2^32', () => {
    expect(rtpTimestampAt(0xffffff00, 1000, 2000, 90000)).toBe(90000 - 256);
    expect(rtpTimestampAt(1000, 0, 20, 8000)).toBe(1160);
    expect(rtpTimestampAt(1000, 20, 0, 8000)).toBe(840);
  });
});
