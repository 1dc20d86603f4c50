/**
 * media/ts-file: MPEG-TS files served whole as RTP MP2T (RFC 2250 §2). Builds the file's index
 * once (payload units of up to 7 packets, each timed by the PCR clock, units starting at random
 * access points so seeks land on one; ts-index.ts, pure) and exposes the file as a MediaFile with
 * one 'mp2t' track whose samples are those units (open.ts). Not the muxer: that is media/mpegts.
 */
export { TsIndexBuilder, indexTs, TS_PACKET_SIZE, TS_PACKETS_PER_UNIT, type TsIndex } from './ts-index.ts';
export { openTsFile, trackOf, MP2T_TIMESCALE, type TsFile } from './open.ts';
export type { TsIndexErrorCode, TsIndexProblem } from './errors.ts';
export { GrowingTsFile, type GrowingState } from './growing.ts';
