/**
 * The MPEG audio frame header (ISO/IEC 11172-3 §2.4.1.3, 13818-3, and the unofficial MPEG 2.5):
 *
 *   AAAAAAAA AAABBCCD EEEEFFGH IIJJKLMM
 *   A sync (11 ones) | B version (00 = 2.5, 01 reserved, 10 = 2, 11 = 1) | C layer (01 = III,
 *   10 = II, 11 = I, 00 reserved) | D protection_bit (0 = CRC follows) | E bitrate index |
 *   F sampling rate index | G padding | H private | I mode (11 = mono) | J mode extension |
 *   K copyright | L original | M emphasis
 *
 * Frame length in bytes (bitrate in bit/s, floor division):
 *   Layer I:   (12 × bitrate / rate + padding) × 4
 *   Layer II:  144 × bitrate / rate + padding
 *   Layer III: 144 × bitrate / rate + padding (MPEG-1), 72 × bitrate / rate + padding (MPEG-2/2.5)
 */
import { mpaError, type MpaResult } from './errors.ts';
import { at } from '../../util/narrow.ts';

export interface MpegAudioHeader {
  /** 1, 2 or 2.5. */
  version: 1 | 2 | 2.5;
  layer: 1 | 2 | 3;
  /** A 16-bit CRC follows the header (protection_bit = 0). */
  crc: boolean;
  /** Bit/s. */
  bitrate: number;
  sampleRate: number;
  padding: boolean;
  channels: 1 | 2;
  /** Whole frame in bytes, header included. */
  frameLength: number;
  /** 384 (Layer I), 1152 (Layer II, Layer III MPEG-1) or 576 (Layer III MPEG-2/2.5). */
  samplesPerFrame: number;
}

/** The longest frame a header can describe (MPEG-2.5 Layer II, 160 kbit/s, 8 kHz, padded). */
export const MPA_MAX_FRAME_LENGTH = 2881;

// kbit/s by bitrate index 1..14 (0 = free format, 15 = reserved).
const BITRATES_V1: Record<1 | 2 | 3, readonly number[]> = {
  1: [32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  2: [32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  3: [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
};
const BITRATES_V2_L1 = [32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256];
const BITRATES_V2_L23 = [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const RATES_V1 = [44100, 48000, 32000];

/** Parses the 4-byte header at `offset`. */
export function parseMpegAudioHeader(buf: Buffer, offset = 0): MpaResult<MpegAudioHeader> {
  if (buf.length - offset < 4) return mpaError('CODEC_ERR_TRUNCATED', 'MPEG audio header needs 4 bytes', offset);
  const b1 = buf.readUInt8(offset + 1);
  const b2 = buf.readUInt8(offset + 2);
  if (buf.readUInt8(offset) !== 0xff || (b1 & 0xe0) !== 0xe0) return mpaError('CODEC_ERR_MPA_NO_SYNC', 'no frame sync', offset);
  const v = (b1 >> 3) & 3;
  const l = (b1 >> 1) & 3;
  const bi = b2 >> 4;
  const si = (b2 >> 2) & 3;
  if (v === 1 || l === 0 || bi === 15 || si === 3) {
    return mpaError('CODEC_ERR_MPA_RESERVED_VALUE', `version ${v} layer ${l} bitrate ${bi} rate ${si}`, offset);
  }
  if (bi === 0) return mpaError('CODEC_ERR_MPA_FREE_FORMAT', 'free-format bitrate', offset);
  const version = v === 3 ? 1 : v === 2 ? 2 : 2.5;
  const layer = (4 - l) as 1 | 2 | 3;
  const table = version === 1 ? BITRATES_V1[layer] : layer === 1 ? BITRATES_V2_L1 : BITRATES_V2_L23;
  // bi is 1..14 and si 0..2 here: 0, 15 and 3 were rejected above.
  const bitrate = at(table, bi - 1) * 1000;
  const sampleRate = at(RATES_V1, si) / (version === 1 ? 1 : version === 2 ? 2 : 4);
  const pad = (b2 >> 1) & 1;
  let frameLength: number;
  let samplesPerFrame: number;
  if (layer === 1) {
    frameLength = (Math.floor((12 * bitrate) / sampleRate) + pad) * 4;
    samplesPerFrame = 384;
  } else if (layer === 2 || version === 1) {
    frameLength = Math.floor((144 * bitrate) / sampleRate) + pad;
    samplesPerFrame = 1152;
  } else {
    frameLength = Math.floor((72 * bitrate) / sampleRate) + pad;
    samplesPerFrame = 576;
  }
  return {
    ok: true,
    value: {
      version,
      layer,
      crc: (b1 & 1) === 0,
      bitrate,
      sampleRate,
      padding: pad === 1,
      channels: buf.readUInt8(offset + 3) >> 6 === 3 ? 1 : 2,
      frameLength,
      samplesPerFrame,
    },
  };
}

/** The frame length in bytes from the header at `offset` (see parseMpegAudioHeader). */
export function mpegAudioFrameLength(buf: Buffer, offset = 0): MpaResult<number> {
  const h = parseMpegAudioHeader(buf, offset);
  return h.ok ? { ok: true, value: h.value.frameLength } : h;
}
