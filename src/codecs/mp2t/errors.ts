/**
 * Error codes of the MP2T payload format. Same shape as the codecs module's `CodecParseError`;
 * tests check codes, not messages.
 */

export type Mp2tErrorCode =
  /** The bytes are not a whole number of 188-byte TS packets. */
  | 'CODEC_ERR_MP2T_MISALIGNED'
  /** A TS packet does not begin with the sync byte 0x47 (`offset` = its byte offset). */
  | 'CODEC_ERR_MP2T_NO_SYNC';

export interface Mp2tError {
  ok: false;
  code: Mp2tErrorCode;
  message: string;
  offset?: number;
}

export type Mp2tResult<T> = { ok: true; value: T } | Mp2tError;

export function mp2tError(code: Mp2tErrorCode, message: string, offset?: number): Mp2tError {
  return offset === undefined ? { ok: false, code, message } : { ok: false, code, message, offset };
}
