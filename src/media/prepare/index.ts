/**
 * media/prepare: makes any file ffmpeg can read servable. ffprobe decides per stream (plan.ts):
 * remux into MP4/MOV when we packetize the codec natively, remux into MPEG-TS for the RTP MP2T
 * route (codecs TS carries that we do not packetize), transcode to H.264/AAC otherwise, only the
 * streams that need it. fluent-ffmpeg runs it (the binary from media/ffmpeg's locator); the result
 * is cached by source identity and options (cache.ts; least recently used entries evicted past a
 * size limit), written atomically, one job per file at a time, with progress for a terminal bar
 * (progress-bar.ts). ffprobe/ffmpeg read the named file only (input-guard.ts: playlists refused).
 */
export {
  planPreparation,
  ffmpegOutputArgs,
  routeExtension,
  growingRoute,
  remuxTsArgs,
  MP2T_ROUTE_CODECS,
  DEFAULT_PREPARE_OPTIONS,
  type Plan,
  type PrepareOptions,
  type ProbeInfo,
  type ProbedStream,
  type Route,
  type StreamPlan,
} from './plan.ts';
export { probeFile, probeInfoFrom, PrepareError } from './probe.ts';
export {
  cacheKey,
  readManifest,
  sourceIdentity,
  evictLeastRecentlyUsed,
  listCacheEntries,
  touchManifest,
  PREPARE_RECIPE_VERSION,
  DEFAULT_CACHE_DIR_NAME,
  DEFAULT_CACHE_MAX_MB,
  type CacheEntryUse,
  type EvictionResult,
  type Manifest,
  type SourceIdentity,
} from './cache.ts';
export { REFUSED_DEMUXERS } from './input-guard.ts';
export { Preparer, PREPARE_MAX_CONCURRENT, parseTimemark, removeStaleTemporaries, type GrowingOutput, type MediaPreparer, type PreparationJob, type PreparedMedia, type PrepareProgress, type PreparerOptions } from './preparer.ts';
export { TtyProgressBar, renderProgressLine, formatSeconds } from './progress-bar.ts';
export { LazyPreparer } from './lazy-preparer.ts';
