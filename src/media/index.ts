/**
 * Media layer: native readers for media files. Owns the MP4/MOV (ISO/IEC 14496-12, QuickTime)
 * reader: opens a file once, parses moov wherever it is (64-bit boxes, co64), keeps per-track
 * sample tables as typed arrays with the edit list applied (pts/dts on the presentation timeline,
 * in track timescale ticks), and reads samples by offset, never the whole file. Fragmented MP4 is
 * reported as MEDIA_ERR_FRAGMENTED. Errors are MediaError with a stable MEDIA_ERR_* code.
 */

export type { CodecName, MediaFile, SampleTable, Track, TrackKind } from './types.ts';
export { MediaError, isMediaError, type MediaErrorCode, type MediaResult } from './errors.ts';
export * from './limits.ts';
export { openMp4 } from './mp4/open.ts';
export { parseMoov, type Movie, type MoovContext } from './mp4/moov.ts';
export { keyframeAtOrBefore, sampleTimeSec } from './time.ts';
