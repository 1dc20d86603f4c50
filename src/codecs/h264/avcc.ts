/**
 * AVCDecoderConfigurationRecord (the `avcC` box payload), ISO/IEC 14496-15 §5.3.3.1:
 *
 *   configurationVersion (8) = 1 | AVCProfileIndication (8) | profile_compatibility (8)
 *   | AVCLevelIndication (8) | reserved '111111' + lengthSizeMinusOne (2)
 *   | reserved '111' + numOfSequenceParameterSets (5) | { length (16) | SPS NAL } ...
 *   | numOfPictureParameterSets (8) | { length (16) | PPS NAL } ...
 *   [ High profiles: reserved + chroma_format (2) | reserved + bit_depth_luma_minus8 (3)
 *     | reserved + bit_depth_chroma_minus8 (3) | numOfSequenceParameterSetExt (8) | { length | ext } ... ]
 *
 * Many muxers omit the High-profile tail, so it is read only when present. Parameter sets are views.
 */
import { codecError, type ParseResult } from '../errors.ts';
import { NalType } from './nal.ts';

export interface AvcDecoderConfig {
  configurationVersion: number;
  /** profile_idc: 66 Baseline, 77 Main, 100 High, ... */
  profileIdc: number;
  /** The constraint_set flags byte of the SPS. */
  profileCompat: number;
  levelIdc: number;
  /** Bytes in each NAL length prefix of the samples: 1, 2 or 4. */
  lengthSize: 1 | 2 | 4;
  sps: Buffer[];
  pps: Buffer[];
  /** From the High-profile tail, when present. */
  chromaFormat?: number;
  bitDepthLuma?: number;
  bitDepthChroma?: number;
  spsExt?: Buffer[];
}

function readSets(
  buf: Buffer,
  off: number,
  count: number,
  type: number | undefined,
  what: string,
): ParseResult<{ sets: Buffer[]; off: number }> {
  const sets: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    if (off + 2 > buf.length) return codecError('CODEC_ERR_TRUNCATED', `${what} ${i} length cut`, off);
    const len = buf.readUInt16BE(off);
    off += 2;
    if (off + len > buf.length) return codecError('CODEC_ERR_TRUNCATED', `${what} ${i} of ${len} bytes cut`, off);
    const set = buf.subarray(off, off + len);
    const minLen = type === NalType.SPS ? 4 : 1;
    if (len < minLen || (type !== undefined && (set.readUInt8(0) & 0x1f) !== type)) {
      return codecError('CODEC_ERR_AVCC_BAD_PARAMETER_SET', `${what} ${i} is empty, short or of the wrong type`, off);
    }
    sets.push(set);
    off += len;
  }
  return { ok: true, value: { sets, off } };
}

export function parseAvcDecoderConfig(buf: Buffer): ParseResult<AvcDecoderConfig> {
  if (buf.length < 7) return codecError('CODEC_ERR_TRUNCATED', `avcC of ${buf.length} bytes`, 0);
  const configurationVersion = buf.readUInt8(0);
  if (configurationVersion !== 1) {
    return codecError('CODEC_ERR_AVCC_BAD_VERSION', `avcC version ${configurationVersion}`, 0);
  }
  const lengthSize = (buf.readUInt8(4) & 0x03) + 1;
  if (lengthSize === 3) return codecError('CODEC_ERR_AVCC_BAD_LENGTH_SIZE', 'lengthSizeMinusOne = 2', 4);
  const sps = readSets(buf, 6, buf.readUInt8(5) & 0x1f, NalType.SPS, 'SPS');
  if (!sps.ok) return sps;
  let off = sps.value.off;
  if (off >= buf.length) return codecError('CODEC_ERR_TRUNCATED', 'numOfPictureParameterSets missing', off);
  const pps = readSets(buf, off + 1, buf.readUInt8(off), NalType.PPS, 'PPS');
  if (!pps.ok) return pps;
  off = pps.value.off;
  const value: AvcDecoderConfig = {
    configurationVersion,
    profileIdc: buf.readUInt8(1),
    profileCompat: buf.readUInt8(2),
    levelIdc: buf.readUInt8(3),
    lengthSize: lengthSize as 1 | 2 | 4,
    sps: sps.value.sets,
    pps: pps.value.sets,
  };
  // The High-profile tail (profile_idc other than 66, 77, 88), read when its 4 fixed bytes are there.
  if (![66, 77, 88].includes(value.profileIdc) && off + 4 <= buf.length) {
    const ext = readSets(buf, off + 4, buf.readUInt8(off + 3), undefined, 'SPS extension');
    if (ext.ok) {
      value.chromaFormat = buf.readUInt8(off) & 0x03;
      value.bitDepthLuma = (buf.readUInt8(off + 1) & 0x07) + 8;
      value.bitDepthChroma = (buf.readUInt8(off + 2) & 0x07) + 8;
      value.spsExt = ext.value.sets;
    }
  }
  return { ok: true, value };
}
