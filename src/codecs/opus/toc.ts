/**
 * The Opus TOC byte (RFC 6716 §3.1) and the packet duration it implies, at 48 kHz:
 *
 *    0 1 2 3 4 5 6 7
 *   +-+-+-+-+-+-+-+-+
 *   | config  |s| c |
 *   +-+-+-+-+-+-+-+-+
 *
 * config 0..11 SILK (NB/MB/WB × 10/20/40/60 ms), 12..15 Hybrid (SWB/FB × 10/20 ms), 16..31 CELT
 * (NB/WB/SWB/FB × 2.5/5/10/20 ms); c = 0: one frame, 1 and 2: two frames, 3: an arbitrary count M
 * in the low 6 bits of the next byte (§3.2.5, 1..48 frames and at most 120 ms).
 */
import { opusError, type OpusResult } from './errors.ts';
import { at } from '../../util/narrow.ts';

/** Samples per frame at 48 kHz by TOC config (RFC 6716 Table 2). */
const FRAME_SAMPLES: readonly number[] = [
  ...[480, 960, 1920, 2880, 480, 960, 1920, 2880, 480, 960, 1920, 2880], // SILK NB, MB, WB: 10/20/40/60 ms
  ...[480, 960, 480, 960], // Hybrid SWB, FB: 10/20 ms
  ...[120, 240, 480, 960, 120, 240, 480, 960, 120, 240, 480, 960, 120, 240, 480, 960], // CELT: 2.5/5/10/20 ms
];

/** An Opus packet holds at most 120 ms (§3.2.5). */
export const OPUS_MAX_PACKET_SAMPLES = 5760;

export interface OpusToc {
  config: number;
  /** The `s` bit. */
  stereo: boolean;
  /** Frame count code c (0..3). */
  code: number;
  /** Samples per frame at 48 kHz. */
  frameSamples: number;
}

/** Reads the TOC byte (any byte value is a valid TOC). */
export function parseOpusToc(toc: number): OpusToc {
  const config = toc >> 3;
  return { config, stereo: (toc & 0x04) !== 0, code: toc & 0x03, frameSamples: at(FRAME_SAMPLES, config) };
}

/** Frames in the packet: from c, or from the frame count byte of a code 3 packet. */
export function opusFrameCount(packet: Buffer): OpusResult<number> {
  if (packet.length < 1) return opusError('CODEC_ERR_TRUNCATED', 'empty Opus packet', 0);
  const code = packet.readUInt8(0) & 0x03;
  if (code === 0) return { ok: true, value: 1 };
  if (code !== 3) return { ok: true, value: 2 };
  if (packet.length < 2) return opusError('CODEC_ERR_TRUNCATED', 'code 3 packet without a frame count byte', 1);
  const m = packet.readUInt8(1) & 0x3f;
  if (m === 0) return opusError('CODEC_ERR_OPUS_BAD_FRAME_COUNT', 'frame count 0', 1);
  return { ok: true, value: m };
}

/** The packet's duration in samples at 48 kHz (the RTP clock of RFC 7587), from its TOC. */
export function opusPacketDurationSamples(packet: Buffer): OpusResult<number> {
  const count = opusFrameCount(packet);
  if (!count.ok) return count;
  const samples = count.value * parseOpusToc(packet.readUInt8(0)).frameSamples; // opusFrameCount checked length >= 1
  if (samples > OPUS_MAX_PACKET_SAMPLES) {
    return opusError('CODEC_ERR_OPUS_BAD_FRAME_COUNT', `${count.value} frames make ${samples} samples, over 120 ms`, 1);
  }
  return { ok: true, value: samples };
}
