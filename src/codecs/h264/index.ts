/**
 * H.264 over RTP (RFC 6184, packetization-mode 1): avcC parsing, NAL unit splitting and joining,
 * the packetizer (single NAL / STAP-A / FU-A), the depacketizer and the SDP fmtp parameters.
 */
export { parseAvcDecoderConfig, type AvcDecoderConfig } from './avcc.ts';
export { NalType, nalType, isKeyframeNal, splitLengthPrefixed, splitAnnexB, toAnnexB, toLengthPrefixed } from './nal.ts';
export { packetizeH264, h264NalusToSend, type H264PacketizeOptions } from './packetizer.ts';
export {
  H264Depacketizer,
  H264_DEFAULT_MAX_NAL_SIZE,
  H264_DEFAULT_MAX_NALUS_PER_ACCESS_UNIT,
  H264_DEFAULT_MAX_ACCESS_UNIT_SIZE,
  type H264DepacketizerOptions,
  type H264DepacketizerStats,
} from './depacketizer.ts';
export {
  h264Fmtp,
  parseH264Fmtp,
  H264_ENCODING_NAME,
  H264_CLOCK_RATE,
  H264_RTPMAP,
  type H264FmtpInput,
  type H264FmtpParams,
} from './fmtp.ts';
