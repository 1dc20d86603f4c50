/**
 * HEVCDecoderConfigurationRecord (the `hvcC` box payload), ISO/IEC 14496-15 §8.3.3.1:
 *
 *   configurationVersion (8) = 1
 *   | general_profile_space (2) | general_tier_flag (1) | general_profile_idc (5)
 *   | general_profile_compatibility_flags (32) | general_constraint_indicator_flags (48)
 *   | general_level_idc (8) | '1111' min_spatial_segmentation_idc (12) | '111111' parallelismType (2)
 *   | '111111' chromaFormat (2) | '11111' bitDepthLumaMinus8 (3) | '11111' bitDepthChromaMinus8 (3)
 *   | avgFrameRate (16) | constantFrameRate (2) | numTemporalLayers (3) | temporalIdNested (1)
 *   | lengthSizeMinusOne (2) | numOfArrays (8)
 *   | { array_completeness (1) | reserved (1) | NAL_unit_type (6) | numNalus (16)
 *       | { nalUnitLength (16) | nalUnit } ... } ...
 *
 * The fixed part is 23 bytes. NAL units are views. The avcC error codes are reused for the same
 * faults (bad version, 3-byte lengths, a bad parameter set).
 */
import { codecError, type ParseResult } from '../errors.ts';
import { H265NalType, h265NalType } from './nal.ts';

export interface HevcNalArray {
  arrayCompleteness: boolean;
  nalType: number;
  nalus: Buffer[];
}

export interface HevcDecoderConfig {
  configurationVersion: number;
  profileSpace: number;
  tierFlag: number;
  /** general_profile_idc: 1 Main, 2 Main 10, 3 Main Still Picture, 4 RExt, ... */
  profileIdc: number;
  /** general_profile_compatibility_flags (32 bits, unsigned). */
  profileCompatibilityFlags: number;
  /** general_constraint_indicator_flags: 6 bytes (a view). */
  constraintIndicatorFlags: Buffer;
  /** general_level_idc: 30 × level (93 = level 3.1). */
  levelIdc: number;
  minSpatialSegmentationIdc: number;
  parallelismType: number;
  chromaFormat: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  avgFrameRate: number;
  constantFrameRate: number;
  numTemporalLayers: number;
  temporalIdNested: boolean;
  /** Bytes in each NAL length prefix of the samples: 1, 2 or 4. */
  lengthSize: 1 | 2 | 4;
  vps: Buffer[];
  sps: Buffer[];
  pps: Buffer[];
  /** Every array as stored (VPS/SPS/PPS included, SEI and others too). */
  arrays: HevcNalArray[];
}

const FIXED = 23;
const PARAMETER_SET_TYPES: readonly number[] = [H265NalType.VPS, H265NalType.SPS, H265NalType.PPS];

export function parseHevcDecoderConfig(buf: Buffer): ParseResult<HevcDecoderConfig> {
  if (buf.length < FIXED) return codecError('CODEC_ERR_TRUNCATED', `hvcC of ${buf.length} bytes`, 0);
  const configurationVersion = buf.readUInt8(0);
  if (configurationVersion !== 1) {
    return codecError('CODEC_ERR_AVCC_BAD_VERSION', `hvcC version ${configurationVersion}`, 0);
  }
  const lengthSize = (buf.readUInt8(21) & 0x03) + 1;
  if (lengthSize === 3) return codecError('CODEC_ERR_AVCC_BAD_LENGTH_SIZE', 'lengthSizeMinusOne = 2', 21);
  const arrays: HevcNalArray[] = [];
  const numArrays = buf.readUInt8(22);
  let off = FIXED;
  for (let a = 0; a < numArrays; a++) {
    if (off + 3 > buf.length) return codecError('CODEC_ERR_TRUNCATED', `hvcC array ${a} header cut`, off);
    const arrayCompleteness = (buf.readUInt8(off) & 0x80) !== 0;
    const nalType = buf.readUInt8(off) & 0x3f;
    const count = buf.readUInt16BE(off + 1);
    off += 3;
    const nalus: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      if (off + 2 > buf.length) return codecError('CODEC_ERR_TRUNCATED', `hvcC array ${a} NAL ${i} length cut`, off);
      const len = buf.readUInt16BE(off);
      off += 2;
      if (off + len > buf.length) {
        return codecError('CODEC_ERR_TRUNCATED', `hvcC array ${a} NAL ${i} of ${len} bytes cut`, off);
      }
      const nal = buf.subarray(off, off + len);
      if (PARAMETER_SET_TYPES.includes(nalType) && (len < 2 || h265NalType(nal) !== nalType)) {
        return codecError('CODEC_ERR_AVCC_BAD_PARAMETER_SET', `hvcC array ${a} NAL ${i} is short or of the wrong type`, off);
      }
      nalus.push(nal);
      off += len;
    }
    arrays.push({ arrayCompleteness, nalType, nalus });
  }
  const of = (t: number): Buffer[] => arrays.filter((x) => x.nalType === t).flatMap((x) => x.nalus);
  const b21 = buf.readUInt8(21);
  return {
    ok: true,
    value: {
      configurationVersion,
      profileSpace: buf.readUInt8(1) >> 6,
      tierFlag: (buf.readUInt8(1) >> 5) & 1,
      profileIdc: buf.readUInt8(1) & 0x1f,
      profileCompatibilityFlags: buf.readUInt32BE(2),
      constraintIndicatorFlags: buf.subarray(6, 12),
      levelIdc: buf.readUInt8(12),
      minSpatialSegmentationIdc: buf.readUInt16BE(13) & 0x0fff,
      parallelismType: buf.readUInt8(15) & 0x03,
      chromaFormat: buf.readUInt8(16) & 0x03,
      bitDepthLuma: (buf.readUInt8(17) & 0x07) + 8,
      bitDepthChroma: (buf.readUInt8(18) & 0x07) + 8,
      avgFrameRate: buf.readUInt16BE(19),
      constantFrameRate: b21 >> 6,
      numTemporalLayers: (b21 >> 3) & 0x07,
      temporalIdNested: (b21 & 0x04) !== 0,
      lengthSize: lengthSize as 1 | 2 | 4,
      vps: of(H265NalType.VPS),
      sps: of(H265NalType.SPS),
      pps: of(H265NalType.PPS),
      arrays,
    },
  };
}
