/**
 * Opus over RTP (RFC 7587): one Opus packet per payload (the packetizer checks the size limit, Opus
 * has no fragmentation), the depacketizer, the SDP (rtpmap always `opus/48000/2`, stereo in the
 * fmtp) and the TOC byte reader that gives a packet's duration at 48 kHz (RFC 6716 §3.1).
 */
export { opusError, type OpusErrorCode, type OpusError, type OpusResult } from './errors.ts';
export { parseOpusToc, opusFrameCount, opusPacketDurationSamples, OPUS_MAX_PACKET_SAMPLES, type OpusToc } from './toc.ts';
export { packetizeOpus, type OpusPacketizeOptions } from './packetizer.ts';
export { OpusDepacketizer, type OpusDepacketizerStats } from './depacketizer.ts';
export {
  opusRtpmap,
  opusFmtp,
  parseOpusFmtp,
  OPUS_ENCODING_NAME,
  OPUS_CLOCK_RATE,
  type OpusFmtpInput,
  type OpusFmtpParams,
} from './fmtp.ts';
