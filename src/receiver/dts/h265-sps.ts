/**
 * The part of an H.265 sequence parameter set (ITU-T H.265 §7.3.2.2.1) that decode timing needs:
 * sps_max_num_reorder_pics (and sps_max_dec_pic_buffering) of the highest sub-layer, with the
 * picture size read on the way. The VUI timing comes after the short-term reference picture sets,
 * far down the SPS; the deriver measures the frame duration instead. Input is the NAL unit
 * (2-byte header included) without a start code.
 */
import type { ReorderInfo } from './h264-sps.ts';
import { dtsError, type DtsResult } from './errors.ts';
import { RbspReader, unescapeRbsp } from './exp-golomb.ts';

export interface H265Sps {
  profileIdc: number;
  levelIdc: number;
  maxSubLayers: number;
  spsId: number;
  chromaFormatIdc: number;
  /** Luma size before the conformance window. */
  width: number;
  height: number;
  /** Of the highest sub-layer (HighestTid = maxSubLayers - 1). */
  maxNumReorderPics: number;
  maxDecPicBuffering: number;
}

const SPS_NUT = 33;

/** profile_tier_level(1, maxSubLayersMinus1), §7.3.3: returns general_profile_idc and level_idc. */
function readProfileTierLevel(r: RbspReader, maxSubLayersMinus1: number): { profileIdc: number; levelIdc: number } {
  r.u(2 + 1); // general_profile_space, general_tier_flag
  const profileIdc = r.u(5);
  r.u(32); // general_profile_compatibility_flag[32]
  r.u(4); // progressive_source, interlaced_source, non_packed_constraint, frame_only_constraint
  r.u(32);
  r.u(12); // 43 constraint/reserved bits + general_inbld_flag (or reserved): 44 bits
  const levelIdc = r.u(8);
  const profilePresent: boolean[] = [];
  const levelPresent: boolean[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    profilePresent.push(r.flag());
    levelPresent.push(r.flag());
  }
  if (maxSubLayersMinus1 > 0) for (let i = maxSubLayersMinus1; i < 8; i++) r.u(2); // reserved_zero_2bits
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (profilePresent[i]) {
      r.u(32);
      r.u(32);
      r.u(24); // sub_layer profile space .. inbld: 88 bits
    }
    if (levelPresent[i]) r.u(8);
  }
  return { profileIdc, levelIdc };
}

export function parseH265Sps(nal: Uint8Array): DtsResult<H265Sps> {
  if (nal.length < 2 || ((nal[0]! >> 1) & 0x3f) !== SPS_NUT) return dtsError('DTS_ERR_SPS_NOT_SPS', 'not an H.265 SPS NAL unit');
  const r = new RbspReader(unescapeRbsp(nal.subarray(2)));
  r.u(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.u(3);
  if (maxSubLayersMinus1 > 6) return dtsError('DTS_ERR_SPS_BAD_VALUE', `sps_max_sub_layers_minus1 ${maxSubLayersMinus1}`);
  r.u(1); // sps_temporal_id_nesting_flag
  const { profileIdc, levelIdc } = readProfileTierLevel(r, maxSubLayersMinus1);
  const spsId = r.ue();
  const chromaFormatIdc = r.ue();
  if (chromaFormatIdc > 3) return dtsError('DTS_ERR_SPS_BAD_VALUE', `chroma_format_idc ${chromaFormatIdc}`);
  if (chromaFormatIdc === 3) r.u(1); // separate_colour_plane_flag
  const width = r.ue();
  const height = r.ue();
  if (r.flag()) for (let i = 0; i < 4; i++) r.ue(); // conformance window offsets
  r.ue(); // bit_depth_luma_minus8
  r.ue(); // bit_depth_chroma_minus8
  r.ue(); // log2_max_pic_order_cnt_lsb_minus4
  const orderingInfoForAll = r.flag();
  let maxDecPicBuffering = 0;
  let maxNumReorderPics = 0;
  // Without sub_layer_ordering_info the one set given applies to every sub-layer; either way the
  // last set read is the highest sub-layer's, which bounds the whole stream.
  for (let i = orderingInfoForAll ? 0 : maxSubLayersMinus1; i <= maxSubLayersMinus1; i++) {
    maxDecPicBuffering = r.ue() + 1;
    maxNumReorderPics = r.ue();
    r.ue(); // sps_max_latency_increase_plus1
  }
  if (r.invalid) return dtsError('DTS_ERR_SPS_BAD_VALUE', 'Exp-Golomb code over 32 bits');
  if (r.overrun) return dtsError('DTS_ERR_SPS_TRUNCATED', 'SPS ends inside a field');
  if (maxNumReorderPics >= maxDecPicBuffering) {
    // §7.4.3.2.1: sps_max_num_reorder_pics shall be in 0..sps_max_dec_pic_buffering_minus1.
    return dtsError('DTS_ERR_SPS_BAD_VALUE', `sps_max_num_reorder_pics ${maxNumReorderPics} >= dpb size ${maxDecPicBuffering}`);
  }
  return {
    ok: true,
    value: {
      profileIdc,
      levelIdc,
      maxSubLayers: maxSubLayersMinus1 + 1,
      spsId,
      chromaFormatIdc,
      width,
      height,
      maxNumReorderPics,
      maxDecPicBuffering,
    },
  };
}

/** The reorder depth DtsDeriver needs (no frame duration: the VUI is not read). */
export function h265ReorderInfo(sps: H265Sps): ReorderInfo {
  return { reorderDepth: Math.min(sps.maxNumReorderPics, 16) };
}
