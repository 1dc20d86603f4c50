/**
 * Error codes of the Opus payload format. Same shape as the codecs module's `CodecParseError`
 * (`{ ok: false, code, message, offset? }`); tests check codes, not messages.
 */

export type OpusErrorCode =
  /** An Opus packet is empty, or a code 3 packet ends before its frame count byte. */
  | 'CODEC_ERR_TRUNCATED'
  /** A code 3 packet with a frame count of 0, or more than 120 ms of audio (RFC 6716 §3.2.5). */
  | 'CODEC_ERR_OPUS_BAD_FRAME_COUNT'
  /** An Opus packet larger than maxPayloadSize: RFC 7587 has no fragmentation. */
  | 'CODEC_ERR_OPUS_PACKET_TOO_LARGE';

export interface OpusError {
  ok: false;
  code: OpusErrorCode;
  message: string;
  /** Index of the offending packet (packetizer) or byte offset (TOC parser). */
  offset?: number;
}

export type OpusResult<T> = { ok: true; value: T } | OpusError;

export function opusError(code: OpusErrorCode, message: string, offset?: number): OpusError {
  return offset === undefined ? { ok: false, code, message } : { ok: false, code, message, offset };
}
