/**
 * RTSP authentication on the wire (RFC 7235 framework, RFC 7616 Digest, RFC 7617 Basic): the
 * Authorization and WWW-Authenticate header grammars, the Digest computation (MD5, SHA-256,
 * qop=auth and RFC 2069 answers) and the client's answer to a challenge. No policy here: who must
 * authenticate, nonces and brute-force limits are the server's (src/server/auth/).
 */

export * from './errors.ts';
export * from './params.ts';
export * from './digest.ts';
export * from './authorization.ts';
export * from './challenge.ts';
