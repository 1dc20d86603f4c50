/**
 * Error codes of `streamlab push`. Checking what the user asked for (destination URL, ports, TTL,
 * interface) returns PushResult values; the sender throws PushError with one of these codes when it
 * cannot start (unreadable file, no streamable track, sockets).
 */

export type PushErrorCode =
  /** The destination is not `rtp://ADDR:PORT`. */
  | 'PUSH_ERR_URL'
  /** The address is not a dotted IPv4 address (host names and IPv6 are not supported). */
  | 'PUSH_ERR_NOT_IPV4'
  /** A port is odd (RTP wants even, RFC 3550 §11), out of 1024-65534, or too few/many are given. */
  | 'PUSH_ERR_PORT'
  /** --ttl outside 0-255. */
  | 'PUSH_ERR_TTL'
  /** --interface is not a dotted IPv4 address. */
  | 'PUSH_ERR_INTERFACE'
  /** The file cannot be opened or read as MP4/MOV. */
  | 'PUSH_ERR_MEDIA'
  /** The file has no track we can packetize. */
  | 'PUSH_ERR_NO_TRACKS'
  /** --start/--duration outside the file. */
  | 'PUSH_ERR_RANGE';

export type PushResult<T> = { ok: true; value: T } | { ok: false; code: PushErrorCode; message: string };

export const pushFail = (code: PushErrorCode, message: string): { ok: false; code: PushErrorCode; message: string } => ({
  ok: false,
  code,
  message,
});

export class PushError extends Error {
  constructor(
    readonly code: PushErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PushError';
  }
}
