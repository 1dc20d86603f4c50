/**
 * AAC over RTP (RFC 3640 mpeg4-generic, mode AAC-hbr): the AudioSpecificConfig parser, the
 * packetizer (AU headers, several AUs per packet, fragmentation), the depacketizer and the SDP
 * fmtp parameters.
 */
export { parseAudioSpecificConfig, AAC_SAMPLE_RATES, type AudioSpecificConfig } from './audio-specific-config.ts';
export { packetizeAac, AAC_HBR_MAX_AU_SIZE, type AacPacketizeOptions } from './packetizer.ts';
export { AacDepacketizer, AAC_DEFAULT_MAX_AU_SIZE, type AacDepacketizerOptions, type AacDepacketizerStats } from './depacketizer.ts';
export { aacFmtp, parseAacFmtp, aacRtpmap, AAC_ENCODING_NAME, type AacFmtpInput, type AacFmtpParams } from './fmtp.ts';
