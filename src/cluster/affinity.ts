import { parseRequestTarget } from '../server/request-target.ts';

/**
 * Which worker serves a connection, from the URL of its first request (pure).
 *
 * - A live channel (`live/NAME`, or a path a config rule makes live: publisher, loop, ffmpeg or
 *   pull source) always goes to the worker its path hashes to: its publisher or source and all
 *   its viewers meet there, as on a single server.
 * - A file goes to the worker its path hashes to (its chunks are read and packetized once on that
 *   worker), unless that worker holds more than SPILL_RATIO times the connections of the least
 *   loaded one plus SPILL_SLACK: then to the least loaded one (which reads the file once too).
 * - Anything without a path (`OPTIONS *`, a request that does not parse, a `$` frame): the least
 *   loaded worker. Such a connection may later name any file, not a live channel of another worker.
 */
export type RouteKey = { kind: 'live' | 'file'; key: string } | { kind: 'any' };

export const SPILL_RATIO = 1.25;
export const SPILL_SLACK = 4;

export function routeKeyOf(uri: string, isLivePath: (decodedPath: string) => boolean): RouteKey {
  const t = parseRequestTarget(uri);
  if (!t || t.mediaPath === '' || t.mediaPath === '*') return { kind: 'any' };
  let path: string;
  try {
    path = decodeURIComponent(t.mediaPath);
  } catch {
    return { kind: 'any' };
  }
  const segments = path.split('/');
  if (segments[0] === 'live' && segments.length >= 2) return { kind: 'live', key: `live/${segments[1]}` };
  if (isLivePath(path)) return { kind: 'live', key: path };
  return { kind: 'file', key: path };
}

/** FNV-1a, 32 bits, of the key's UTF-8 bytes. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(key, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The worker a key belongs to while all of them are up. */
export function ownerOf(key: string, workers: number): number {
  return hashKey(key) % workers;
}

/**
 * The worker for a route, given each worker's open connections (undefined: the worker is down).
 * Undefined when every worker is down.
 */
export function pickWorker(route: RouteKey, loads: readonly (number | undefined)[]): number | undefined {
  let least: number | undefined;
  for (let i = 0; i < loads.length; i++) {
    const l = loads[i];
    if (l !== undefined && (least === undefined || l < (loads[least] as number))) least = i;
  }
  if (least === undefined || route.kind === 'any') return least;
  const owner = ownerOf(route.key, loads.length);
  if (route.kind === 'live') {
    // The owner, or while it restarts the next one up (the channel is not there: 404, as for a channel not started).
    for (let k = 0; k < loads.length; k++) {
      const i = (owner + k) % loads.length;
      if (loads[i] !== undefined) return i;
    }
    return least;
  }
  const l = loads[owner];
  if (l === undefined) return least;
  return l > SPILL_RATIO * (loads[least] as number) + SPILL_SLACK ? least : owner;
}
