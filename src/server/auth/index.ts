/**
 * RTSP authentication policy of the server (issue 13): the users file, stateless nonces, the
 * per-address failure guard and the gate every request passes in handleRequest.
 */

export * from './gate.ts';
export * from './users.ts';
export { NonceIssuer } from './nonce.ts';
export type { NonceCheck, NonceSecret } from './nonce.ts';
export { FailureGuard } from './failure-guard.ts';
export type { FailureGuardOptions } from './failure-guard.ts';
