/**
 * SDP (RFC 4566) for RTSP DESCRIBE: the session model, a parser that accepts CRLF or LF and keeps
 * unknown lines, a CRLF writer that emits lines in grammar order, attribute lookup, and the
 * rtpmap / fmtp attribute formats used by RTP payload formats. Pure; text from the network never
 * throws (results carry SDP_ERR_* codes).
 */

export * from './errors.ts';
export type * from './types.ts';
export * from './parse.ts';
export * from './build.ts';
export * from './rtpmap.ts';
export * from './fmtp.ts';
export * from './attributes.ts';
