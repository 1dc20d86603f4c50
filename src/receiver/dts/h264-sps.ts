/**
 * The part of an H.264 sequence parameter set (ITU-T H.264 §7.3.2.1.1, VUI Annex E.1.1) that
 * decode timing needs: profile and level, picture size, and from the VUI the timing info
 * (num_units_in_tick, time_scale) and the bitstream restriction (max_num_reorder_frames,
 * max_dec_frame_buffering). Everything before them is read to get there (scaling lists, POC
 * cycle, HRD parameters). Input is the NAL unit without a start code.
 * (Could move to codecs/h264 beside the avcC parser; it lives here while only DTS uses it.)
 */
import { dtsError, type DtsResult } from './errors.ts';
import { RbspReader, unescapeRbsp } from './exp-golomb.ts';

export interface H264SpsTiming {
  numUnitsInTick: number;
  timeScale: number;
  fixedFrameRate: boolean;
}

export interface H264Sps {
  profileIdc: number;
  /** constraint_set0..5 flags and reserved bits: the byte after profile_idc. */
  constraintFlags: number;
  levelIdc: number;
  spsId: number;
  chromaFormatIdc: number;
  picOrderCntType: number;
  maxNumRefFrames: number;
  frameMbsOnly: boolean;
  /** Luma size after cropping. */
  width: number;
  height: number;
  timing?: H264SpsTiming;
  /** From the VUI bitstream_restriction, when present. */
  maxNumReorderFrames?: number;
  maxDecFrameBuffering?: number;
}

/** profile_idc values whose SPS carries chroma_format_idc and the rest (§7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function skipScalingList(r: RbspReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

function skipHrd(r: RbspReader): void {
  const cpbCnt = r.ue() + 1;
  r.u(4); // bit_rate_scale
  r.u(4); // cpb_size_scale
  for (let i = 0; i < cpbCnt && i < 32; i++) {
    r.ue(); // bit_rate_value_minus1
    r.ue(); // cpb_size_value_minus1
    r.u(1); // cbr_flag
  }
  r.u(5 + 5 + 5 + 5); // initial_cpb_removal_delay_length, cpb_removal_delay_length, dpb_output_delay_length, time_offset_length
}

export function parseH264Sps(nal: Uint8Array): DtsResult<H264Sps> {
  if (nal.length === 0 || (nal[0]! & 0x1f) !== 7) return dtsError('DTS_ERR_SPS_NOT_SPS', 'not an SPS NAL unit');
  const r = new RbspReader(unescapeRbsp(nal.subarray(1)));
  const profileIdc = r.u(8);
  const constraintFlags = r.u(8);
  const levelIdc = r.u(8);
  const spsId = r.ue();
  let chromaFormatIdc = 1;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc > 3) return dtsError('DTS_ERR_SPS_BAD_VALUE', `chroma_format_idc ${chromaFormatIdc}`);
    if (chromaFormatIdc === 3) r.u(1); // separate_colour_plane_flag
    r.ue(); // bit_depth_luma_minus8
    r.ue(); // bit_depth_chroma_minus8
    r.u(1); // qpprime_y_zero_transform_bypass_flag
    if (r.flag()) {
      // seq_scaling_matrix_present_flag
      const lists = chromaFormatIdc !== 3 ? 8 : 12;
      for (let i = 0; i < lists; i++) if (r.flag()) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  r.ue(); // log2_max_frame_num_minus4
  const picOrderCntType = r.ue();
  if (picOrderCntType === 0) {
    r.ue(); // log2_max_pic_order_cnt_lsb_minus4
  } else if (picOrderCntType === 1) {
    r.u(1); // delta_pic_order_always_zero_flag
    r.se(); // offset_for_non_ref_pic
    r.se(); // offset_for_top_to_bottom_field
    const cycle = r.ue();
    if (cycle > 255) return dtsError('DTS_ERR_SPS_BAD_VALUE', `num_ref_frames_in_pic_order_cnt_cycle ${cycle}`);
    for (let i = 0; i < cycle; i++) r.se();
  } else if (picOrderCntType > 2) {
    return dtsError('DTS_ERR_SPS_BAD_VALUE', `pic_order_cnt_type ${picOrderCntType}`);
  }
  const maxNumRefFrames = r.ue();
  r.u(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.flag();
  if (!frameMbsOnly) r.u(1); // mb_adaptive_frame_field_flag
  r.u(1); // direct_8x8_inference_flag
  let crop = [0, 0, 0, 0];
  if (r.flag()) crop = [r.ue(), r.ue(), r.ue(), r.ue()];
  const subW = chromaFormatIdc === 1 || chromaFormatIdc === 2 ? 2 : 1;
  const subH = chromaFormatIdc === 1 ? 2 : 1;
  const cropUnitX = chromaFormatIdc === 0 ? 1 : subW;
  const cropUnitY = (chromaFormatIdc === 0 ? 1 : subH) * (frameMbsOnly ? 1 : 2);
  const sps: H264Sps = {
    profileIdc,
    constraintFlags,
    levelIdc,
    spsId,
    chromaFormatIdc,
    picOrderCntType,
    maxNumRefFrames,
    frameMbsOnly,
    width: widthMbs * 16 - cropUnitX * (crop[0]! + crop[1]!),
    height: heightMapUnits * 16 * (frameMbsOnly ? 1 : 2) - cropUnitY * (crop[2]! + crop[3]!),
  };
  if (r.flag()) readVui(r, sps);
  if (r.invalid) return dtsError('DTS_ERR_SPS_BAD_VALUE', 'Exp-Golomb code over 32 bits');
  if (r.overrun) return dtsError('DTS_ERR_SPS_TRUNCATED', 'SPS ends inside a field');
  return { ok: true, value: sps };
}

function readVui(r: RbspReader, sps: H264Sps): void {
  if (r.flag() && r.u(8) === 255) r.u(32); // aspect_ratio_info: idc, Extended_SAR: sar_width, sar_height
  if (r.flag()) r.u(1); // overscan_info_present -> overscan_appropriate_flag
  if (r.flag()) {
    // video_signal_type_present_flag
    r.u(3 + 1); // video_format, video_full_range_flag
    if (r.flag()) r.u(24); // colour_primaries, transfer_characteristics, matrix_coefficients
  }
  if (r.flag()) {
    r.ue(); // chroma_sample_loc_type_top_field
    r.ue(); // chroma_sample_loc_type_bottom_field
  }
  if (r.flag()) {
    const numUnitsInTick = r.u(32);
    const timeScale = r.u(32);
    const fixedFrameRate = r.flag();
    if (numUnitsInTick > 0 && timeScale > 0) sps.timing = { numUnitsInTick, timeScale, fixedFrameRate };
  }
  const nalHrd = r.flag();
  if (nalHrd) skipHrd(r);
  const vclHrd = r.flag();
  if (vclHrd) skipHrd(r);
  if (nalHrd || vclHrd) r.u(1); // low_delay_hrd_flag
  r.u(1); // pic_struct_present_flag
  if (r.flag()) {
    // bitstream_restriction_flag
    r.u(1); // motion_vectors_over_pic_boundaries_flag
    r.ue(); // max_bytes_per_pic_denom
    r.ue(); // max_bits_per_mb_denom
    r.ue(); // log2_max_mv_length_horizontal
    r.ue(); // log2_max_mv_length_vertical
    const reorder = r.ue();
    const dpb = r.ue();
    if (!r.overrun && !r.invalid) {
      sps.maxNumReorderFrames = reorder;
      sps.maxDecFrameBuffering = dpb;
    }
  }
}

/** What DtsDeriver needs from an SPS. */
export interface ReorderInfo {
  /** Frames that can precede a frame in decode order and follow it in output; undefined = unknown. */
  reorderDepth?: number;
  /** 90 kHz ticks per frame from the VUI timing (2 ticks per frame), when signalled. */
  frameDuration90k?: number;
}

/**
 * Reorder depth: max_num_reorder_frames when the VUI has it; 0 for profiles without B slices
 * (Baseline 66, CAVLC 4:4:4 Intra 44, and High 10/4:2:2/4:4:4 Intra: profile 110/122/244 with
 * constraint_set3_flag);
 * else unknown (the deriver then uses its default and grows on evidence).
 */
export function h264ReorderInfo(sps: H264Sps): ReorderInfo {
  const out: ReorderInfo = {};
  if (sps.maxNumReorderFrames !== undefined) {
    out.reorderDepth = Math.min(sps.maxNumReorderFrames, sps.maxDecFrameBuffering ?? 16, 16);
  } else if (
    sps.profileIdc === 66 ||
    sps.profileIdc === 44 ||
    ([110, 122, 244].includes(sps.profileIdc) && (sps.constraintFlags & 0x10) !== 0)
  ) {
    out.reorderDepth = 0;
  }
  if (sps.timing) out.frameDuration90k = Math.round((90000 * 2 * sps.timing.numUnitsInTick) / sps.timing.timeScale);
  return out;
}
