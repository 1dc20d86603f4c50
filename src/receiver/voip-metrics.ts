import { RFC3611_GMIN, XR_UNAVAILABLE } from '../rtcp/index.ts';
import type { XrVoipMetrics } from '../rtcp/index.ts';
import { G113, emodel } from '../stats/index.ts';
import type { BurstGapFigures, EmodelCodec } from '../stats/index.ts';

/** E-model values for AAC-LC, which G.113 does not list (as the lab assumes: Ie 0, Bpl 4.3). */
const AAC_ASSUMED: EmodelCodec = { name: 'aac (assumed)', ie: 0, bpl: 4.3 };

/** What a track receiver knows for its XR VoIP metrics block (RFC 3611 §4.7). */
export interface VoipMetricsInput {
  sourceSsrc: number;
  media: string;
  encodingName: string;
  /** RFC 3550 counts: packets expected, lost (never arrived), and discarded by the jitter buffer (late). */
  expected: number;
  lost: number;
  discarded: number;
  /** Burst/gap over the lost-or-discarded sequence the playout saw (Gmin 16), and its BurstR. */
  burstGap: BurstGapFigures;
  burstR: number;
  /** Mean time between packets, ms: turns burst and gap lengths into durations. */
  packetIntervalMs: number;
  rttMs: number | undefined;
  /** Delay from arrival to playout of the last packet released (the jitter buffer's part). */
  endSystemDelayMs: number;
  jitterBuffer: { adaptive: boolean; nominalMs: number; maximumMs: number; absMaxMs: number };
}

const fraction256 = (x: number) => Math.max(0, Math.min(255, Math.floor(x * 256)));
const ms16 = (x: number) => Math.max(0, Math.min(0xffff, Math.round(x)));

/** The E-model planning values for what we decode, or undefined for non-speech media. */
function codecValues(media: string, encodingName: string): EmodelCodec | undefined {
  if (media !== 'audio') return undefined;
  // We conceal nothing: a lost G.711 frame is silence (G.113 "without PLC").
  return /^PCM[UA]$/i.test(encodingName) ? G113.g711NoPlc : AAC_ASSUMED;
}

/**
 * Our receiver's VoIP metrics about one source: loss and discard rates, burst/gap densities and
 * durations, round trip and end system delay, Gmin, the E-model R and MOS-LQ for audio (G.107 with
 * G.113 values; unavailable for video), and the jitter buffer. Levels, RERL and the external R
 * factor are unavailable (127); MOS-CQ is left unavailable (conversational quality needs the
 * mouth-to-ear delay of the other direction).
 */
export function voipMetricsBlock(i: VoipMetricsInput): XrVoipMetrics {
  const expected = Math.max(1, i.expected);
  const bg = i.burstGap;
  const codec = codecValues(i.media, i.encodingName);
  const ppl = Math.max(0, Math.min(100, ((Math.max(0, i.lost) + i.discarded) / expected) * 100));
  const quality = codec ? emodel(codec, ppl, i.burstR) : undefined;
  // PLC: audio 01 (disabled: nothing concealed), video 00 (unspecified); JBA: adaptive 11, fixed 10.
  const plc = i.media === 'audio' ? 1 : 0;
  const jba = i.jitterBuffer.adaptive ? 3 : 2;
  return {
    type: 'voip-metrics',
    ssrc: i.sourceSsrc,
    lossRate: fraction256(Math.max(0, i.lost) / expected),
    discardRate: fraction256(i.discarded / expected),
    burstDensity: fraction256(bg.burstDensity),
    gapDensity: fraction256(bg.gapDensity),
    burstDurationMs: ms16(bg.burstLengthPackets * i.packetIntervalMs),
    gapDurationMs: ms16(bg.gapLengthPackets * i.packetIntervalMs),
    roundTripDelayMs: i.rttMs === undefined ? 0 : ms16(i.rttMs),
    endSystemDelayMs: ms16(i.endSystemDelayMs),
    signalLevel: XR_UNAVAILABLE,
    noiseLevel: XR_UNAVAILABLE,
    rerl: XR_UNAVAILABLE,
    gmin: RFC3611_GMIN,
    rFactor: quality ? Math.max(0, Math.min(100, Math.round(quality.r))) : XR_UNAVAILABLE,
    extRFactor: XR_UNAVAILABLE,
    mosLq: quality ? Math.round(quality.mos * 10) : XR_UNAVAILABLE,
    mosCq: XR_UNAVAILABLE,
    rxConfig: (plc << 6) | (jba << 4),
    jbNominalMs: ms16(i.jitterBuffer.nominalMs),
    jbMaximumMs: ms16(i.jitterBuffer.maximumMs),
    jbAbsMaxMs: ms16(i.jitterBuffer.absMaxMs),
  };
}
