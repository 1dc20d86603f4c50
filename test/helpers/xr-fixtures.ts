import type { XrVoipMetrics } from '../../src/rtcp/index.ts';

/**
 * One RFC 3611 §4.7 VoIP metrics block about `ssrc`, with every kind of field: rates 13/256 and
 * 2/256, burst density 1/4, durations, delays, unavailable levels (127), Gmin 16, R 76, MOS-LQ
 * 3.8, RX config PLC disabled + adaptive jitter buffer, JB 150/300/1000 ms.
 */
export function voipSample(ssrc: number): XrVoipMetrics {
  return {
    type: 'voip-metrics',
    ssrc,
    lossRate: 13,
    discardRate: 2,
    burstDensity: 64,
    gapDensity: 5,
    burstDurationMs: 120,
    gapDurationMs: 1500,
    roundTripDelayMs: 42,
    endSystemDelayMs: 200,
    signalLevel: 127,
    noiseLevel: 127,
    rerl: 127,
    gmin: 16,
    rFactor: 76,
    extRFactor: 127,
    mosLq: 38,
    mosCq: 127,
    rxConfig: 0x70,
    jbNominalMs: 150,
    jbMaximumMs: 300,
    jbAbsMaxMs: 1000,
  };
}
