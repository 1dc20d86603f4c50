/**
 * ADTS header (ISO/IEC 14496-3 §1.A.2.2.1 / ISO/IEC 13818-7 §6.2), 7 bytes without CRC:
 *
 *   syncword 0xFFF (12) | ID 0 = MPEG-4 (1) | layer '00' (2) | protection_absent 1 (1)
 *   | profile_ObjectType (2) = audioObjectType - 1 | sampling_frequency_index (4)
 *   | private_bit 0 (1) | channel_configuration (3) | original_copy 0 | home 0
 *   | copyright_identification_bit 0 | copyright_identification_start 0
 *   | aac_frame_length (13, header included) | adts_buffer_fullness 0x7FF (VBR)
 *   | number_of_raw_data_blocks_in_frame 0 (2)
 *
 * HE-AAC (SBR, PS) is carried as its AAC-LC core with implicit signalling, as usual in ADTS.
 */
import { tsError, type TsResult } from './errors.ts';

export const ADTS_HEADER_SIZE = 7;
/** Longest raw AAC frame an ADTS header can describe (13-bit frame length, header included). */
export const ADTS_MAX_RAW_FRAME_SIZE = 8191 - ADTS_HEADER_SIZE;

/** sampling_frequency_index table (ISO/IEC 14496-3 Table 1.18). */
const RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** What ADTS needs from an AudioSpecificConfig (codecs/aac's parseAudioSpecificConfig gives it). */
export interface AdtsConfigInput {
  objectType: number;
  /** For explicit SBR/PS (objectType 5/29): the core object type. */
  coreObjectType?: number;
  /** Core sampling rate in Hz. */
  sampleRate: number;
  channelConfiguration: number;
}

export interface AdtsConfig {
  /** profile_ObjectType: 0 Main, 1 LC, 2 SSR, 3 LTP. */
  profile: number;
  samplingIndex: number;
  channelConfiguration: number;
}

export function adtsConfig(asc: AdtsConfigInput): TsResult<AdtsConfig> {
  const aot = asc.objectType === 5 || asc.objectType === 29 ? (asc.coreObjectType ?? 2) : asc.objectType;
  if (!Number.isInteger(aot) || aot < 1 || aot > 4) {
    return tsError('TS_ERR_ADTS_UNSUPPORTED_OBJECT_TYPE', `audioObjectType ${aot} has no ADTS profile (1..4 only)`);
  }
  const samplingIndex = RATES.indexOf(asc.sampleRate);
  if (samplingIndex < 0) return tsError('TS_ERR_ADTS_UNSUPPORTED_RATE', `sampling rate ${asc.sampleRate} Hz has no ADTS index`);
  const ch = asc.channelConfiguration;
  if (!Number.isInteger(ch) || ch < 1 || ch > 7) {
    return tsError('TS_ERR_ADTS_UNSUPPORTED_CHANNELS', `channelConfiguration ${ch} cannot be signalled in ADTS`);
  }
  return { ok: true, value: { profile: aot - 1, samplingIndex, channelConfiguration: ch } };
}

/** The 7-byte header for a raw frame of `rawLength` bytes (checked by the caller against ADTS_MAX_RAW_FRAME_SIZE). */
export function serializeAdtsHeader(c: AdtsConfig, rawLength: number): Buffer {
  if (rawLength < 0 || rawLength > ADTS_MAX_RAW_FRAME_SIZE) throw new RangeError(`raw AAC frame of ${rawLength} bytes`);
  const len = rawLength + ADTS_HEADER_SIZE;
  const h = Buffer.allocUnsafe(ADTS_HEADER_SIZE);
  h[0] = 0xff;
  h[1] = 0xf1; // sync low nibble | ID 0 | layer 00 | protection_absent 1
  h[2] = (c.profile << 6) | (c.samplingIndex << 2) | (c.channelConfiguration >> 2);
  h[3] = ((c.channelConfiguration & 3) << 6) | (len >> 11);
  h[4] = (len >> 3) & 0xff;
  h[5] = ((len & 7) << 5) | 0x1f; // buffer fullness 0x7FF, top 5 bits
  h[6] = 0xfc; // buffer fullness low 6 bits | number_of_raw_data_blocks 0
  return h;
}
