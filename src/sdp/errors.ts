/**
 * Error codes for SDP parsing. Text from the network never throws: `parseSdp`, `parseRtpmap` and
 * `parseFmtp` return `SdpResult` values.
 */

export type SdpErrorCode =
  /** The first line is not v=<digits>. */
  | 'SDP_ERR_BAD_VERSION'
  /** A non-empty line that is not `<letter>=<text>`. */
  | 'SDP_ERR_BAD_LINE'
  /** No o= line, or one without its six fields. */
  | 'SDP_ERR_BAD_ORIGIN'
  /** c= without network type, address type and address. */
  | 'SDP_ERR_BAD_CONNECTION'
  /** b= not `<bwtype>:<integer>`. */
  | 'SDP_ERR_BAD_BANDWIDTH'
  /** t= not two integers. */
  | 'SDP_ERR_BAD_TIMING'
  /** m= not `<media> <port>[/<count>] <proto> <fmt>...`. */
  | 'SDP_ERR_BAD_MEDIA'
  /** More than MAX_SDP_LINES lines. */
  | 'SDP_ERR_TOO_LARGE'
  /** a=rtpmap value not `<pt> <name>/<rate>[/<channels>]`. */
  | 'SDP_ERR_BAD_RTPMAP'
  /** a=fmtp value not `<pt> <params>`. */
  | 'SDP_ERR_BAD_FMTP';

export interface SdpParseError {
  ok: false;
  code: SdpErrorCode;
  message: string;
  /** 1-based line number where the problem was found (0 when not tied to a line). */
  line: number;
}

export type SdpResult<T> = { ok: true; value: T } | SdpParseError;
/** Alias used in the SDP API docs. */
export type ParseResult<T> = SdpResult<T>;

export function sdpError(code: SdpErrorCode, message: string, line = 0): SdpParseError {
  return { ok: false, code, message, line };
}
