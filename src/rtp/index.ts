/**
 * rtp/ owns the RTP packet format of RFC 3550 §5: parsing a datagram into a header plus a payload
 * view (fixed header, CSRC list, the §5.3.1 header extension kept opaque, padding), serializing
 * headers and packets, and the allocation-free 12-byte header writer used on the server's send
 * path. Sequence/timestamp arithmetic lives in util/seq.ts; statistics in stats/.
 */

export type { RtpErrorCode, RtpParseError, RtpParseResult } from './errors.ts';
export {
  RTP_VERSION,
  RTP_FIXED_HEADER_BYTES,
  RTP_MAX_CSRCS,
  RTP_MAX_EXTENSION_DATA_BYTES,
  RTP_MAX_PADDING_BYTES,
  parseRtpPacket,
  rtpHeaderByteLength,
  serializeRtpHeaderInto,
  rtpPacketByteLength,
  serializeRtpPacketInto,
  serializeRtpPacket,
  writeRtpFixedHeader,
} from './packet.ts';
export type { RtpHeader, RtpHeaderExtension, RtpPacket } from './packet.ts';
