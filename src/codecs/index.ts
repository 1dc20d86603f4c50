/**
 * Payload formats, one folder each, as packetizer + depacketizer + SDP fmtp pairs: H.264 (RFC 6184,
 * packetization-mode 1) and AAC (RFC 3640, AAC-hbr). Packetizers are pure and stateless and return
 * whole payloads (no RTP header) that the server shares among sessions; depacketizers take packets
 * in sequence order and hand on whole units, flagging what may be missing. Network and file bytes
 * never throw: parsers return `ParseResult` with `CODEC_ERR_*` codes.
 */
export type { RtpPayload, RtpPayloadInput, DepacketizedUnit, Depacketizer } from './types.ts';
export { codecError, type CodecErrorCode, type CodecParseError, type ParseResult } from './errors.ts';
export { parseFmtpParameters, type FmtpInput } from './fmtp-params.ts';
export * from './h264/index.ts';
export * from './aac/index.ts';
export * from './h265/index.ts';
export * from './opus/index.ts';
export * from './g711/index.ts';
export * from './mp2t/index.ts';
export * from './mpa/index.ts';
