/**
 * The XR VoIP metrics block our receiver sends (RFC 3611 §4.7): rates as fractions of 256,
 * durations from burst/gap lengths, the E-model R and MOS-LQ for audio (G.107 with G.113's G.711
 * values, no PLC), unavailable (127) for video, the jitter buffer and RX config bits.
 */
import { describe, expect, it } from 'vitest';
import { voipMetricsBlock } from '../../src/receiver/voip-metrics.ts';
import type { VoipMetricsInput } from '../../src/receiver/voip-metrics.ts';
import { G113, emodel } from '../../src/stats/index.ts';

const base: VoipMetricsInput = {
  sourceSsrc: 0xaabbccdd,
  media: 'audio',
  encodingName: 'PCMU',
  expected: 1000,
  lost: 50,
  discarded: 10,
  burstGap: { bursts: 2, gaps: 3, burstDensity: 0.5, gapDensity: 0.02, burstLengthPackets: 6, gapLengthPackets: 300 },
  burstR: 1.5,
  packetIntervalMs: 20,
  rttMs: 3.4,
  endSystemDelayMs: 120.6,
  jitterBuffer: { adaptive: true, nominalMs: 100, maximumMs: 140, absMaxMs: 1000 },
};

describe('voipMetricsBlock', () => {
  it('audio: loss and discard rates, burst/gap, delays, E-model R and MOS-LQ, PLC disabled, adaptive buffer', () => {
    const q = emodel(G113.g711NoPlc, 6, 1.5); // (50 + 10) / 1000 = 6 %
    expect(voipMetricsBlock(base)).toEqual({
      type: 'voip-metrics',
      ssrc: 0xaabbccdd,
      lossRate: 12, // floor(0.05 × 256)
      discardRate: 2, // floor(0.01 × 256)
      burstDensity: 128,
      gapDensity: 5,
      burstDurationMs: 120,
      gapDurationMs: 6000,
      roundTripDelayMs: 3,
      endSystemDelayMs: 121,
      signalLevel: 127,
      noiseLevel: 127,
      rerl: 127,
      gmin: 16,
      rFactor: Math.round(q.r),
      extRFactor: 127,
      mosLq: Math.round(q.mos * 10),
      mosCq: 127,
      rxConfig: 0b01_11_0000,
      jbNominalMs: 100,
      jbMaximumMs: 140,
      jbAbsMaxMs: 1000,
    });
  });

  it('video: no speech quality estimate; a fixed buffer; durations clamp to 16 bits; no RTT is 0', () => {
    const b = voipMetricsBlock({
      ...base,
      media: 'video',
      encodingName: 'H264',
      burstGap: { ...base.burstGap, gapLengthPackets: 1e6 },
      rttMs: undefined,
      jitterBuffer: { adaptive: false, nominalMs: 200, maximumMs: 200, absMaxMs: 200 },
    });
    expect([b.rFactor, b.mosLq, b.mosCq]).toEqual([127, 127, 127]);
    expect(b.rxConfig).toBe(0b00_10_0000);
    expect(b.gapDurationMs).toBe(0xffff);
    expect(b.roundTripDelayMs).toBe(0);
  });
});
