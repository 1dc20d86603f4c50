/**
 * MPEG audio over RTP (RFC 2250 §3, MPEG-1/2/2.5 Layer I/II/III incl. MP3): the frame header
 * parser (frame length from the bitrate/sampling-rate tables and padding), the packetizer
 * (4-byte MBZ + Frag_offset header, whole frames aggregated, large frames fragmented), the
 * depacketizer that reassembles and splits frames, and the static payload type and rtpmap
 * (14, `MPA/90000`).
 */
export { mpaError, type MpaErrorCode, type MpaError, type MpaResult } from './errors.ts';
export { parseMpegAudioHeader, mpegAudioFrameLength, MPA_MAX_FRAME_LENGTH, type MpegAudioHeader } from './frame-header.ts';
export { packetizeMpa, type MpaPacketizeOptions, type MpaPayload } from './packetizer.ts';
export { MpaDepacketizer, MPA_CLOCK_RATE, type MpaDepacketizerStats } from './depacketizer.ts';
export { mpaRtpmap, MPA_PAYLOAD_TYPE } from './sdp.ts';
