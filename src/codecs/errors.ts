/**
 * Error codes of the codecs module. Bytes from files and the network never throw: parsers return a
 * `ParseResult`; tests check codes, not messages.
 */

export type CodecErrorCode =
  /** Input ended before a field it declares (a length, a bit field, a parameter set). */
  | 'CODEC_ERR_TRUNCATED'
  /** avcC configurationVersion is not 1. */
  | 'CODEC_ERR_AVCC_BAD_VERSION'
  /** avcC lengthSizeMinusOne is 2 (3-byte lengths are not allowed by ISO/IEC 14496-15). */
  | 'CODEC_ERR_AVCC_BAD_LENGTH_SIZE'
  /** An avcC SPS/PPS entry is empty, too short, or of the wrong NAL unit type. */
  | 'CODEC_ERR_AVCC_BAD_PARAMETER_SET'
  /** A length-prefixed NAL unit's length runs past the end of the sample. */
  | 'CODEC_ERR_NAL_LENGTH_OVERRUN'
  /** Annex B data that does not begin with a start code. */
  | 'CODEC_ERR_ANNEXB_NO_START_CODE'
  /** AudioSpecificConfig with a reserved sampling frequency index or channel configuration. */
  | 'CODEC_ERR_ASC_RESERVED_VALUE'
  /** AudioSpecificConfig of an object type other than the AAC family. */
  | 'CODEC_ERR_ASC_UNSUPPORTED_OBJECT_TYPE'
  /** A required fmtp parameter is missing. */
  | 'CODEC_ERR_FMTP_MISSING_PARAM'
  /** An fmtp parameter value does not parse (bad number, hex or base64). */
  | 'CODEC_ERR_FMTP_BAD_PARAM'
  /** An fmtp parameter asks for a feature this implementation does not support. */
  | 'CODEC_ERR_FMTP_UNSUPPORTED';

export interface CodecParseError {
  ok: false;
  code: CodecErrorCode;
  message: string;
  /** Byte offset in the input where the problem was found, when it applies. */
  offset?: number;
}

export type ParseResult<T> = { ok: true; value: T } | CodecParseError;

export function codecError(code: CodecErrorCode, message: string, offset?: number): CodecParseError {
  return offset === undefined ? { ok: false, code, message } : { ok: false, code, message, offset };
}
