/**
 * Error codes for RTCP parsing. Network bytes never throw: parsers return `RtcpParseResult`.
 */

export type RtcpErrorCode =
  /** The datagram is empty. */
  | 'RTCP_ERR_EMPTY'
  /** Fewer than 4 bytes left where a common header should start. */
  | 'RTCP_ERR_SHORT_HEADER'
  /** Version field is not 2. */
  | 'RTCP_ERR_BAD_VERSION'
  /** The length field points past the end of the datagram. */
  | 'RTCP_ERR_LENGTH_OVERFLOW'
  /** P=1 with a padding count of 0 or larger than the packet body. */
  | 'RTCP_ERR_BAD_PADDING'
  /** A packet other than the last has P=1 (strict compound mode, RFC 3550 A.2). */
  | 'RTCP_ERR_PADDING_NOT_LAST'
  /** Strict compound mode: the first packet is neither SR nor RR (RFC 3550 §6.1, A.2). */
  | 'RTCP_ERR_FIRST_NOT_REPORT'
  /** The count field or the type's fixed part needs more bytes than the length gives. */
  | 'RTCP_ERR_SHORT_BODY'
  /** An SDES item runs past the end of the packet. */
  | 'RTCP_ERR_SDES_ITEM_OVERFLOW'
  /** An SDES chunk has no terminating null octet before the end of the packet. */
  | 'RTCP_ERR_SDES_NO_TERMINATOR'
  /** The BYE reason length runs past the end of the packet. */
  | 'RTCP_ERR_BYE_REASON_OVERFLOW'
  /** An XR report block (RFC 3611 §3) runs past the end of the packet. */
  | 'RTCP_ERR_XR_BLOCK_OVERFLOW'
  /** An RRTR or DLRR block whose length does not fit its layout (RFC 3611 §4.4, §4.5). */
  | 'RTCP_ERR_XR_BAD_BLOCK';

export interface RtcpParseError {
  ok: false;
  code: RtcpErrorCode;
  message: string;
  /** Byte offset in the datagram of the packet (or field) where the problem was found. */
  offset: number;
  /** RTCP packet type of the offending packet, when known. */
  packetType?: number;
}

export type RtcpParseResult<T> = { ok: true; value: T } | RtcpParseError;

export function rtcpError(code: RtcpErrorCode, message: string, offset: number, packetType?: number): RtcpParseError {
  const e: RtcpParseError = { ok: false, code, message, offset };
  if (packetType !== undefined) e.packetType = packetType;
  return e;
}
