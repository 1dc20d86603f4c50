/**
 * The preparation cache's defaults, in a module of their own: `serve` and the media catalog name
 * them at start without loading the preparer (see lazy-preparer.ts).
 */

/** Default cache folder name under the media root (hidden from URLs). */
export const DEFAULT_CACHE_DIR_NAME = '.streamlab-cache';

/** Default size limit of the cache (`serve --cache-max-mb`). */
export const DEFAULT_CACHE_MAX_MB = 2048;
