/**
 * AudioSpecificConfig, ISO/IEC 14496-3 §1.6.2.1 (the esds DecoderSpecificInfo of an MP4 AAC
 * track, and the `config=` of RFC 3640's fmtp):
 *
 *   audioObjectType (5; 31 = escape: 32 + 6 more bits) | samplingFrequencyIndex (4; 15 = explicit:
 *   24-bit frequency) | channelConfiguration (4) | [AOT 5/29 (explicit SBR/PS): extension
 *   frequency index (4 or 4+24) | audioObjectType again] | GASpecificConfig: frameLengthFlag (1)
 *   | dependsOnCoreCoder (1) [+ coreCoderDelay (14)] | extensionFlag (1) | [program_config_element
 *   when channelConfiguration = 0] ... | [sync extension 0x2b7: backward-compatible SBR/PS signal]
 *
 * Supported: the GA family (AAC Main/LC/SSR/LTP, scalable, ER AAC, ER AAC LD) and ER AAC ELD.
 */
import { BitReader } from '../bit-reader.ts';
import { codecError, type ParseResult } from '../errors.ts';
import { at } from '../../util/narrow.ts';

export interface AudioSpecificConfig {
  /** The audioObjectType as signalled first: 2 AAC-LC, 5 SBR (HE-AAC), 29 PS (HE-AACv2), 39 ELD, ... */
  objectType: number;
  /** The underlying core object type (differs from objectType only for explicit SBR/PS, 5 or 29). */
  coreObjectType: number;
  /** Core sampling rate in Hz (from the index table or the explicit 24-bit value). */
  sampleRate: number;
  channelConfiguration: number;
  /** Channel count: from the configuration table, or from the program_config_element when 0. */
  channels: number;
  /** Samples per access unit at sampleRate: 1024 or 960 (512 or 480 for ER AAC LD and ELD). */
  frameLength: number;
  /** SBR signalled (explicitly, or by the backward-compatible sync extension). */
  sbr: boolean;
  /** Parametric stereo signalled. */
  ps: boolean;
  /** Output sampling rate of the SBR extension, when signalled. */
  extensionSampleRate?: number;
  /** The config bytes in lower-case hex, for RFC 3640's `config=`. */
  hex: string;
}

/** Sampling rates by samplingFrequencyIndex (13 and 14 reserved, 15 = explicit). */
export const AAC_SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350] as const;

/** Channels by channelConfiguration; 0 = defined by a PCE, -1 = reserved. */
const CHANNELS = [0, 1, 2, 3, 4, 5, 6, 8, -1, -1, -1, 7, 8, 24, 8, -1];

const GA_TYPES = new Set([1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23]);
const ER_TYPES = new Set([17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 39]);
const AOT_SBR = 5;
const AOT_PS = 29;
const AOT_ER_AAC_LD = 23;
const AOT_ER_AAC_ELD = 39;

function readObjectType(r: BitReader): number {
  const t = r.read(5);
  return t === 31 ? 32 + r.read(6) : t;
}

function readSampleRate(r: BitReader): number {
  const idx = r.read(4);
  if (idx === 15) return r.read(24);
  return AAC_SAMPLE_RATES[idx] ?? -1;
}

/** program_config_element (§4.4.1.1): returns the channel count. */
function readPceChannels(r: BitReader, startBit: number): number {
  r.skip(4 + 2 + 4); // element_instance_tag, object_type, sampling_frequency_index
  const front = r.read(4);
  const side = r.read(4);
  const back = r.read(4);
  const lfe = r.read(2);
  const assoc = r.read(3);
  const cc = r.read(4);
  if (r.read(1)) r.skip(4); // mono_mixdown
  if (r.read(1)) r.skip(4); // stereo_mixdown
  if (r.read(1)) r.skip(3); // matrix_mixdown_idx, pseudo_surround_enable
  let channels = 0;
  for (let i = 0; i < front + side + back; i++) {
    channels += r.read(1) ? 2 : 1;
    r.skip(4);
  }
  channels += lfe;
  r.skip(4 * lfe + 4 * assoc + 5 * cc);
  const misalign = (r.bitPosition - startBit) & 7;
  if (misalign) r.skip(8 - misalign);
  r.skip(8 * r.read(8)); // comment_field_bytes
  return channels;
}

export function parseAudioSpecificConfig(buf: Buffer): ParseResult<AudioSpecificConfig> {
  const r = new BitReader(buf);
  const objectType = readObjectType(r);
  const sampleRate = readSampleRate(r);
  const channelConfiguration = r.read(4);
  let coreObjectType = objectType;
  let sbr = false;
  let ps = false;
  let extensionSampleRate: number | undefined;
  if (objectType === AOT_SBR || objectType === AOT_PS) {
    sbr = true;
    ps = objectType === AOT_PS;
    extensionSampleRate = readSampleRate(r);
    coreObjectType = readObjectType(r);
    if (coreObjectType === 22) r.skip(4); // extensionChannelConfiguration
  }
  if (r.overrun) return codecError('CODEC_ERR_TRUNCATED', `AudioSpecificConfig of ${buf.length} bytes`, 0);
  if (sampleRate <= 0 || (extensionSampleRate !== undefined && extensionSampleRate <= 0)) {
    return codecError('CODEC_ERR_ASC_RESERVED_VALUE', 'reserved or zero sampling frequency', 0);
  }
  let channels = at(CHANNELS, channelConfiguration); // a 4-bit field: 0..15, the table has 16 rows
  if (channels < 0) {
    return codecError('CODEC_ERR_ASC_RESERVED_VALUE', `reserved channelConfiguration ${channelConfiguration}`, 1);
  }
  let frameLength: number;
  if (GA_TYPES.has(coreObjectType)) {
    const short = r.read(1) === 1; // frameLengthFlag
    frameLength = coreObjectType === AOT_ER_AAC_LD ? (short ? 480 : 512) : short ? 960 : 1024;
    if (r.read(1)) r.skip(14); // dependsOnCoreCoder, coreCoderDelay
    const extensionFlag = r.read(1);
    if (channelConfiguration === 0) channels = readPceChannels(r, 0);
    if (coreObjectType === 6 || coreObjectType === 20) r.skip(3); // layerNr
    if (extensionFlag) {
      if (coreObjectType === 22) r.skip(5 + 11); // numOfSubFrame, layer_length
      if (coreObjectType === 17 || coreObjectType === 19 || coreObjectType === 20 || coreObjectType === 23) r.skip(3);
      r.skip(1); // extensionFlag3
    }
  } else if (coreObjectType === AOT_ER_AAC_ELD) {
    frameLength = r.read(1) ? 480 : 512; // ELDSpecificConfig begins with frameLengthFlag
  } else {
    return codecError('CODEC_ERR_ASC_UNSUPPORTED_OBJECT_TYPE', `audioObjectType ${coreObjectType}`, 0);
  }
  if (r.overrun) return codecError('CODEC_ERR_TRUNCATED', `AudioSpecificConfig of ${buf.length} bytes`, 0);
  if (channels === 0) return codecError('CODEC_ERR_ASC_RESERVED_VALUE', 'no channels', 1);
  // Backward-compatible SBR/PS signalling after the GA config (§1.6.5.2). Not for ER types or ELD,
  // whose epConfig and ELD extensions are not parsed here.
  if (!sbr && GA_TYPES.has(coreObjectType) && !ER_TYPES.has(coreObjectType) && r.bitsLeft >= 16) {
    if (r.read(11) === 0x2b7) {
      const ext = readObjectType(r);
      if (ext === AOT_SBR && r.read(1) === 1) {
        const rate = readSampleRate(r);
        if (!r.overrun && rate > 0) {
          sbr = true;
          extensionSampleRate = rate;
          if (r.bitsLeft >= 12 && r.read(11) === 0x548 && r.read(1) === 1) ps = true;
        }
      }
    }
  }
  const value: AudioSpecificConfig = {
    objectType,
    coreObjectType,
    sampleRate,
    channelConfiguration,
    channels,
    frameLength,
    sbr,
    ps,
    hex: buf.toString('hex'),
  };
  if (extensionSampleRate !== undefined) value.extensionSampleRate = extensionSampleRate;
  return { ok: true, value };
}
