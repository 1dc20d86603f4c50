/**
 * Opus in MPEG-TS (the Opus-in-TS draft published at opus-codec.org, "ETSI TS opus v0.1.3", as
 * ffmpeg's mpegts muxer and demuxer implement it): stream_type 0x06 (PES private data) on stream_id 0xBD, a
 * registration_descriptor 'Opus' and a DVB extension descriptor with the channel_config_code in
 * the PMT, and in front of every Opus packet an opus_control_header:
 *
 *   control_header_prefix 0x3FF (11) | start_trim_flag 0 | end_trim_flag 0
 *   | control_extension_flag 0 | reserved '00' | au_size: 0xFF bytes while > 254, then the rest
 */

export const OPUS_MAX_CHANNELS = 8;

/** ES_info descriptors: registration 'Opus' + extension descriptor (tag 0x7F, ext tag 0x80). */
export function opusDescriptors(channels: number): Buffer {
  // channel_config_code: 1..2 for mapping family 0, 3..8 for family 1 in Vorbis order.
  return Buffer.from([0x05, 4, 0x4f, 0x70, 0x75, 0x73, 0x7f, 2, 0x80, channels]);
}

export function opusControlHeader(auSize: number): Buffer {
  const sizeBytes = Math.floor(auSize / 255) + 1;
  const h = Buffer.alloc(2 + sizeBytes, 0xff);
  h[0] = 0x7f;
  h[1] = 0xe0;
  h[h.length - 1] = auSize % 255;
  return h;
}
