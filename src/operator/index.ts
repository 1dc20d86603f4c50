/**
 * operator: what the server's operator sees over HTTP (`serve --http`): the dashboard fed over a
 * WebSocket, the JSON API and the Prometheus metrics, built on the server's public interface
 * (sessionList, kick, snapshot, events, startLiveChannel, stopLiveChannel, catalog). Loaded only
 * with --http (ws and prom-client cost nothing otherwise).
 */
export { OperatorHttp, MAX_BODY_BYTES, MAX_HTTP_CONNECTIONS, MEDIA_LIST_LIMITS, pathnameOf } from './http-server.ts';
export type { OperatorHttpOptions, OperatorRefusal } from './http-server.ts';
export { LiveFeed, FEED_INTERVAL_MS, MAX_FEED_BACKLOG_BYTES, MAX_FEED_CLIENTS } from './live-feed.ts';
export type { FeedSession, FeedTick, FeedTrack } from './live-feed.ts';
export type { OperatorServer } from './operator-server.ts';
export { ServerMetrics } from './metrics.ts';
export { MediaLister } from './media-list.ts';
export type { MediaInfo, MediaListing, MediaTrackInfo } from './media-list.ts';
