/**
 * cluster: `streamlab serve --workers N`, every core. The primary owns the RTSP listener and the
 * connection limits, reads each connection's first request and hands the socket with the bytes
 * read to a worker chosen by path (affinity.ts): a live channel's publisher and viewers meet on
 * one worker, a file is read and packetized once per worker at most. Workers are the server of
 * the same command line without a listener (worker.ts); the primary restarts those that die and
 * answers the operator's HTTP side for all of them (view.ts).
 */
export { ClusterPrimary } from './primary.ts';
export type { ClusterOptions } from './primary.ts';
export { ClusterView, VIEW_REFRESH_MS } from './view.ts';
export type { ClusterSessionInfo } from './view.ts';
export { runWorker, workerFromEnv } from './worker.ts';
export { SPILL_RATIO, SPILL_SLACK, hashKey, ownerOf, pickWorker, routeKeyOf } from './affinity.ts';
export type { RouteKey } from './affinity.ts';
export { peekFirstRequest, readFirstRequest, stopReading } from './first-request.ts';
export { WorkerTls, relaySocketPath } from './tls-relay.ts';
export { makeRelayDir, removeRelayDir, sweepStaleRelayDirs } from './relay-dir.ts';
export { EVICT_TIMEOUT_MS, MAX_EVICTIONS_PENDING, RoomKeeper, chooseVictim } from './eviction.ts';
export type { RoomHost, Victim } from './eviction.ts';
export type { FirstRead, FirstReadLimits } from './first-request.ts';
export { sessionIdPrefix, sessionShare } from './protocol.ts';
export { startCluster } from './start.ts';
export type { StartedCluster } from './start.ts';
