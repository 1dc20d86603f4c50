/**
 * H.265 over RTP (RFC 7798, no DONL): hvcC parsing, the 2-byte NAL header and type constants, the
 * packetizer (single NAL / Aggregation Packet / Fragmentation Unit), the depacketizer and the SDP
 * fmtp parameters. Splitting samples into NAL units is shared with H.264 (`splitLengthPrefixed`,
 * `splitAnnexB` in h264/nal.ts): the framing is the same.
 */
export { parseHevcDecoderConfig, type HevcDecoderConfig, type HevcNalArray } from './hvcc.ts';
export { H265NalType, h265NalType, isH265Keyframe, parseH265NalHeader, writeH265NalHeader, type H265NalHeader } from './nal.ts';
export { packetizeH265, h265NalusToSend, type H265PacketizeOptions } from './packetizer.ts';
export {
  H265Depacketizer,
  H265_DEFAULT_MAX_NAL_SIZE,
  H265_DEFAULT_MAX_NALUS_PER_ACCESS_UNIT,
  H265_DEFAULT_MAX_ACCESS_UNIT_SIZE,
  type H265DepacketizerOptions,
  type H265DepacketizerStats,
} from './depacketizer.ts';
export {
  h265Fmtp,
  parseH265Fmtp,
  H265_ENCODING_NAME,
  H265_CLOCK_RATE,
  H265_RTPMAP,
  type H265FmtpInput,
  type H265FmtpParams,
} from './fmtp.ts';
