import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rtcpBandwidthFromSession, rtcpDeterministicInterval, rtcpInterval, updateAvgRtcpSize } from '../../src/stats/index.ts';

describe('A.7 RTCP interval', () => {
  it('5 % of a 64 kbit/s session is 400 octets/s', () => {
    expect(rtcpBandwidthFromSession(64000)).toBe(400);
  });

  it('two members: the 5 s minimum applies, randomized over [0.5, 1.5) / 1.21828', () => {
    const p = { members: 2, senders: 1, rtcpBandwidth: 400, weSent: true, avgRtcpSize: 100, initial: false };
    // senders (1) > members/4 (0.5): no split; t = 100 * 2 / 400 = 0.5 s < 5 s -> 5 s
    expect(rtcpDeterministicInterval(p)).toBe(5);
    expect(rtcpInterval(p, () => 0)).toBeCloseTo(2.0520734149784943, 12); // 5 * 0.5 / 1.21828
    expect(rtcpInterval(p, () => 0.5)).toBeCloseTo(4.104146829956989, 12); // 5 / 1.21828
    expect(rtcpInterval({ ...p, initial: true }, () => 0)).toBeCloseTo(1.0260367074892471, 12); // 2.5 * 0.5 / 1.21828
  });

  it('large session: receivers share 75 %, senders 25 %', () => {
    const p = { members: 1000, senders: 10, rtcpBandwidth: 400, weSent: false, avgRtcpSize: 100, initial: false };
    // receiver: bw = 300, n = 990 -> 100 * 990 / 300 = 330 s
    expect(rtcpDeterministicInterval(p)).toBeCloseTo(330, 9);
    expect(rtcpInterval(p, () => 0.5)).toBeCloseTo(270.87369077716124, 9);
    // sender: bw = 100, n = 10 -> 10 s; random 0.75 -> 10 * 1.25 / 1.21828
    expect(rtcpDeterministicInterval({ ...p, weSent: true })).toBeCloseTo(10, 12);
    expect(rtcpInterval({ ...p, weSent: true }, () => 0.75)).toBeCloseTo(10.260367074892471, 9);
  });

  it('property: result within [0.5, 1.5) x deterministic / 1.21828 and never below the randomized minimum', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10000 }),
        fc.integer({ min: 0, max: 10000 }),
        fc.double({ min: 1, max: 1e6, noNaN: true }),
        fc.boolean(),
        fc.double({ min: 20, max: 1500, noNaN: true }),
        fc.boolean(),
        fc.double({ min: 0, max: 0.9999999, noNaN: true }),
        (members, sendersRaw, rtcpBandwidth, weSent, avgRtcpSize, initial, r) => {
          const senders = Math.min(sendersRaw, members);
          const p = { members, senders, rtcpBandwidth, weSent, avgRtcpSize, initial };
          const det = rtcpDeterministicInterval(p);
          expect(det).toBeGreaterThanOrEqual(initial ? 2.5 : 5);
          const t = rtcpInterval(p, () => r);
          expect(t).toBeGreaterThanOrEqual((0.5 * det) / 1.21828 - 1e-9);
          expect(t).toBeLessThan((1.5 * det) / 1.21828);
          expect(t).toBeGreaterThanOrEqual(((initial ? 2.5 : 5) * 0.5) / 1.21828 - 1e-9);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('avg RTCP size moves 1/16 of the way', () => {
    expect(updateAvgRtcpSize(100, 260)).toBe(110);
  });
});
