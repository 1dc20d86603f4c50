/**
 * MPEG-2 transport streams over RTP (RFC 2250 §2): the packetizer (whole 188-byte TS packets per
 * payload, 7 by default), the depacketizer that checks alignment and sync bytes, the TS packet
 * check, and the static payload type and rtpmap (33, `MP2T/90000`).
 */
export { mp2tError, type Mp2tErrorCode, type Mp2tError, type Mp2tResult } from './errors.ts';
export { checkMp2tPackets, MP2T_PACKET_SIZE, MP2T_SYNC_BYTE } from './ts-packets.ts';
export { packetizeMp2t, MP2T_DEFAULT_PACKETS_PER_PAYLOAD, type Mp2tPacketizeOptions, type Mp2tPayload } from './packetizer.ts';
export { Mp2tDepacketizer, type Mp2tDepacketizerStats } from './depacketizer.ts';
export { mp2tRtpmap, MP2T_PAYLOAD_TYPE, MP2T_CLOCK_RATE } from './sdp.ts';
