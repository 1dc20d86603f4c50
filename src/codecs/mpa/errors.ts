/**
 * Error codes of the MPEG audio payload format. Same shape as the codecs module's
 * `CodecParseError`; tests check codes, not messages.
 */

export type MpaErrorCode =
  /** Fewer than 4 header bytes. */
  | 'CODEC_ERR_TRUNCATED'
  /** No 11-bit frame sync (0x7ff) at the start of a frame. */
  | 'CODEC_ERR_MPA_NO_SYNC'
  /** Reserved version, layer, bitrate index 15 or sampling rate index 3. */
  | 'CODEC_ERR_MPA_RESERVED_VALUE'
  /** Free-format bitrate (index 0): the frame length is not in the header. */
  | 'CODEC_ERR_MPA_FREE_FORMAT'
  /** A frame handed to the packetizer whose length differs from what its header says. */
  | 'CODEC_ERR_MPA_BAD_FRAME_LENGTH';

export interface MpaError {
  ok: false;
  code: MpaErrorCode;
  message: string;
  /** Byte offset (header parser) or frame index (packetizer). */
  offset?: number;
}

export type MpaResult<T> = { ok: true; value: T } | MpaError;

export function mpaError(code: MpaErrorCode, message: string, offset?: number): MpaError {
  return offset === undefined ? { ok: false, code, message } : { ok: false, code, message, offset };
}
