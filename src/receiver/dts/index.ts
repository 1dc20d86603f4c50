/**
 * receiver/dts owns decode-time derivation for received video: RTP carries only presentation
 * times, but a recording (MPEG-TS PES, MP4, MKV) of a stream with B-frames needs decode times.
 * DtsDeriver assigns dts[n] = the (D+1)-th largest PTS seen (PTS delayed by the reorder depth D,
 * ffmpeg's rule), extrapolating the first D frames; the H.264 and H.265 SPS parsers supply D
 * (max_num_reorder_frames) and the frame duration (VUI timing) when the stream signals them.
 * Pure: no clocks or I/O; the caller unwraps RTP timestamps before pushing.
 */

export {
  DtsDeriver,
  DTS_MAX_REORDER_DEPTH,
  DTS_DEFAULT_REORDER_DEPTH,
  DTS_DEFAULT_FRAME_DURATION,
  DTS_DEFAULT_MAX_BACKWARD_JUMP,
  type DtsDeriverOptions,
  type DtsDeriverStats,
  type DtsInput,
  type DtsOutput,
} from './dts-deriver.ts';
export { parseH264Sps, h264ReorderInfo, type H264Sps, type H264SpsTiming, type ReorderInfo } from './h264-sps.ts';
export { parseH265Sps, h265ReorderInfo, type H265Sps } from './h265-sps.ts';
export { reorderInfoFromFmtp } from './reorder-info.ts';
export { RbspReader, unescapeRbsp } from './exp-golomb.ts';
export { dtsError, type DtsError, type DtsErrorCode, type DtsResult } from './errors.ts';
