/**
 * media/mpegts owns the MPEG-TS muxer (ISO/IEC 13818-1): PAT/PMT with CRC-32/MPEG-2, PES packets
 * with 33-bit PTS/DTS, 188-byte packets with continuity counters, PCR and adaptation-field
 * stuffing, and the elementary stream framing for H.264/H.265 (Annex B with AUD and parameter
 * sets), AAC (ADTS) and Opus (control header). Pure: TsMuxer returns packets; the receiver pipes
 * them to ffmpeg (`-f mpegts -i pipe:0 -c copy out.mkv`), and MPEG-TS over RTP (RFC 2250) can
 * packetize the same packets, seven to an RTP payload.
 */

export { TsMuxer, type TsAccessUnit, type TsMuxerOptions, type TsStreamInfo, type TsStreamKind, type TsStreamSpec } from './muxer.ts';
export { tsError, type TsError, type TsErrorCode, type TsResult } from './errors.ts';
export * from './constants.ts';
export { crc32Mpeg2 } from './crc32-mpeg2.ts';
export { buildPatSection, buildPmtSection, psiPacket, type PmtInfo, type PmtStream } from './psi.ts';
export { serializePesHeader, pesHeaderByteLength, type PesHeaderInput } from './pes.ts';
export { packetizePes, tsPacketCount, type PesPacketizeOptions } from './packetize.ts';
export { wrap33, writePesTimestamp, writePcr } from './timestamps.ts';
export {
  adtsConfig,
  serializeAdtsHeader,
  ADTS_HEADER_SIZE,
  ADTS_MAX_RAW_FRAME_SIZE,
  type AdtsConfig,
  type AdtsConfigInput,
} from './adts.ts';
export { annexBChunks, videoNalType, parameterSetTypes, type VideoCodec } from './video-au.ts';
export { opusControlHeader, opusDescriptors, OPUS_MAX_CHANNELS } from './opus.ts';
