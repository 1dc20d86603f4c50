/**
 * Error codes for RTSP parsing (messages, header values, URLs). Bytes and strings from the
 * network never throw: parsers return `RtspResult` or emit `{ type: 'error' }` parser events.
 * Each code that the parser can emit has a suggested RTSP status (RFC 2326 §7.1.1) in
 * `RTSP_ERROR_STATUS`; the server maps errors to responses through that one table.
 */

export type RtspErrorCode =
  // --- message framing (parser.ts) ---
  /** Request line is not `Method SP Request-URI SP RTSP-Version` (or status line malformed). */
  | 'RTSP_ERR_BAD_START_LINE'
  /** Method is not an RFC 2326 token. */
  | 'RTSP_ERR_BAD_METHOD'
  /** Request-URI is empty or contains control characters. */
  | 'RTSP_ERR_BAD_URI'
  /** Version is well-formed but not RTSP/1.0 (status 505). */
  | 'RTSP_ERR_BAD_VERSION'
  /** Status line of a response is malformed (client side). */
  | 'RTSP_ERR_BAD_STATUS_LINE'
  /** A header line has no colon, a bad name, a bare CR, or is a fold with nothing to continue. */
  | 'RTSP_ERR_BAD_HEADER'
  /** No CSeq header: the message is still delivered inside the error event. */
  | 'RTSP_ERR_MISSING_CSEQ'
  /** CSeq is not a decimal integer. */
  | 'RTSP_ERR_BAD_CSEQ'
  /** Content-Length is not a decimal integer, or repeated with different values. Fatal. */
  | 'RTSP_ERR_BAD_CONTENT_LENGTH'
  /** Start line + headers exceed maxHeaderBytes. Fatal. */
  | 'RTSP_ERR_HEADER_TOO_LARGE'
  /** Content-Length exceeds maxBodyBytes. Fatal. */
  | 'RTSP_ERR_BODY_TOO_LARGE'
  /** Interleaved `$` frame longer than maxInterleavedBytes. Fatal. */
  | 'RTSP_ERR_INTERLEAVED_TOO_LARGE'
  // --- header values (headers/*.ts) ---
  /** Transport: no acceptable alternative, or a malformed protocol / port / channel parameter. */
  | 'RTSP_ERR_BAD_TRANSPORT'
  /** Transport protocol other than RTP (e.g. RAW/RAW/UDP). */
  | 'RTSP_ERR_UNSUPPORTED_TRANSPORT'
  /** Range: malformed npt value or end before start. */
  | 'RTSP_ERR_BAD_RANGE'
  /** Range: clock= or smpte= (or another unit) which we do not implement. */
  | 'RTSP_ERR_UNSUPPORTED_RANGE_UNIT'
  /** Session: empty id or malformed timeout. */
  | 'RTSP_ERR_BAD_SESSION'
  /** RTP-Info: an entry without url= or with a malformed seq/rtptime. */
  | 'RTSP_ERR_BAD_RTP_INFO'
  /** Scale/Speed: not a finite decimal number. */
  | 'RTSP_ERR_BAD_SCALE'
  // --- url.ts ---
  /** Not an rtsp://, rtsps:// or rtspu:// URL, bad host/port, or bad percent-encoding. */
  | 'RTSP_ERR_BAD_URL';

export interface RtspParseError {
  ok: false;
  code: RtspErrorCode;
  message: string;
}

export type RtspResult<T> = { ok: true; value: T } | RtspParseError;

export function rtspError(code: RtspErrorCode, message: string): RtspParseError {
  return { ok: false, code, message };
}

export function rtspOk<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

/**
 * Suggested response status per parser error code. RFC 2326 has no "header fields too large"
 * status (HTTP's 431 came later), so an oversized header section answers 400; an oversized body
 * answers 413 (Request Entity Too Large); a wrong version answers 505.
 */
export const RTSP_ERROR_STATUS: Readonly<Record<RtspErrorCode, number>> = {
  RTSP_ERR_BAD_START_LINE: 400,
  RTSP_ERR_BAD_METHOD: 400,
  RTSP_ERR_BAD_URI: 400,
  RTSP_ERR_BAD_VERSION: 505,
  RTSP_ERR_BAD_STATUS_LINE: 400,
  RTSP_ERR_BAD_HEADER: 400,
  RTSP_ERR_MISSING_CSEQ: 400,
  RTSP_ERR_BAD_CSEQ: 400,
  RTSP_ERR_BAD_CONTENT_LENGTH: 400,
  RTSP_ERR_HEADER_TOO_LARGE: 400,
  RTSP_ERR_BODY_TOO_LARGE: 413,
  RTSP_ERR_INTERLEAVED_TOO_LARGE: 400,
  RTSP_ERR_BAD_TRANSPORT: 461,
  RTSP_ERR_UNSUPPORTED_TRANSPORT: 461,
  RTSP_ERR_BAD_RANGE: 457,
  RTSP_ERR_UNSUPPORTED_RANGE_UNIT: 456,
  RTSP_ERR_BAD_SESSION: 454,
  RTSP_ERR_BAD_RTP_INFO: 400,
  RTSP_ERR_BAD_SCALE: 400,
  RTSP_ERR_BAD_URL: 400,
};
