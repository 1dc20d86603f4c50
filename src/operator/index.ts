/**
 * operator: what the server's operator sees over HTTP (`serve --http`): the JSON API and the
 * Prometheus metrics, built on the server's public interface (sessionList, kick, snapshot, events).
 */
export { OperatorHttp, MAX_BODY_BYTES, MAX_HTTP_CONNECTIONS } from './http-server.ts';
export type { OperatorHttpOptions } from './http-server.ts';
export { ServerMetrics } from './metrics.ts';
