/**
 * Error codes for RTP parsing. Network bytes never throw: parsers return `RtpParseResult`.
 */

export type RtpErrorCode =
  /** Fewer than 12 bytes, or fewer than 12 + 4·CC bytes for the CSRC list. */
  | 'RTP_ERR_SHORT_HEADER'
  /** Version field is not 2. */
  | 'RTP_ERR_BAD_VERSION'
  /** X=1 but the 4-byte extension header or its declared data run past the end. */
  | 'RTP_ERR_EXTENSION_OVERFLOW'
  /** P=1 with a padding count of 0 or larger than the bytes after the header. */
  | 'RTP_ERR_BAD_PADDING';

export interface RtpParseError {
  ok: false;
  code: RtpErrorCode;
  message: string;
  /** Byte offset in the input where the problem was found. */
  offset: number;
}

export type RtpParseResult<T> = { ok: true; value: T } | RtpParseError;

export function rtpError(code: RtpErrorCode, message: string, offset: number): RtpParseError {
  return { ok: false, code, message, offset };
}
