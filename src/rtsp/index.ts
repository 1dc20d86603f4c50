/**
 * RTSP 1.0 (RFC 2326) wire layer: the message model (ordered case-insensitive headers, requests,
 * responses, status reasons), the incremental stream parser used by both server and client
 * (requests, responses and `$` interleaved frames mixed on one TCP stream), serialization,
 * typed header values (Transport, Range, Session, RTP-Info, Scale) and rtsp:// URLs with
 * control-URL resolution. Pure: no sockets, no timers; network input never throws.
 */

export * from './errors.ts';
export * from './message.ts';
export * from './parser.ts';
export * from './serialize.ts';
export * from './url.ts';
export * from './headers/transport.ts';
export * from './headers/range.ts';
export * from './headers/session.ts';
export * from './headers/rtp-info.ts';
export * from './headers/scale.ts';
export * from './auth/index.ts';
