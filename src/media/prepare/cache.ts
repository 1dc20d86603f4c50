/**
 * The preparation cache: one prepared file per (source identity, options, recipe version), found
 * again without running ffmpeg or ffprobe. The key hashes the absolute path, size and mtime of the
 * source with the options; a manifest `<key>.json` written last (after the prepared file was
 * renamed into place) says what the prepared file is. A changed source (size or mtime) has a new
 * key and is prepared again; stale entries are never found again.
 *
 * Size: the server keeps the cache under a limit (`serve --cache-max-mb`) by evicting the least
 * recently used entries: the manifest's mtime is its last use (set when it is written and on every
 * reuse, from the injected clock), and an entry in use (open for a session, just prepared) or
 * still being written (a temporary, not an entry yet) is never evicted.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PrepareOptions, Route, StreamPlan } from './plan.ts';
import { DEFAULT_PREPARE_OPTIONS } from './plan.ts';

/** Bump when the ffmpeg recipe changes, so files prepared by an older one are redone (2: transcodes go through a TS). */
export const PREPARE_RECIPE_VERSION = 2;

export { DEFAULT_CACHE_DIR_NAME, DEFAULT_CACHE_MAX_MB } from './defaults.ts';

export interface SourceIdentity {
  path: string;
  size: number;
  mtimeMs: number;
}

export interface Manifest {
  recipe: number;
  source: SourceIdentity;
  /** File name of the prepared file inside the cache dir. */
  output: string;
  route: Route;
  summary: 'remux' | 'transcode' | 'mp2t';
  streams: StreamPlan[];
  durationSec?: number;
  /** Wall time the preparation took. */
  elapsedMs: number;
  preparedAt: string;
}

export async function sourceIdentity(filePath: string): Promise<SourceIdentity> {
  const abs = path.resolve(filePath);
  const st = await stat(abs);
  return { path: abs, size: st.size, mtimeMs: st.mtimeMs };
}

export function cacheKey(id: SourceIdentity, options: PrepareOptions = {}): string {
  const o = { ...DEFAULT_PREPARE_OPTIONS, ...options };
  const text = JSON.stringify({ v: PREPARE_RECIPE_VERSION, path: id.path, size: id.size, mtimeMs: id.mtimeMs, o: [o.x264Preset, o.crf, o.audioKbps] });
  return createHash('sha256').update(text).digest('hex').slice(0, 20);
}

export function manifestPath(cacheDir: string, key: string): string {
  return path.join(cacheDir, `${key}.json`);
}

/** The manifest when the prepared file it names is there, else undefined. */
export async function readManifest(cacheDir: string, key: string): Promise<Manifest | undefined> {
  let m: Manifest;
  try {
    m = JSON.parse(await readFile(manifestPath(cacheDir, key), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
  if (m.recipe !== PREPARE_RECIPE_VERSION || typeof m.output !== 'string' || m.output.includes('/')) return undefined;
  const st = await stat(path.join(cacheDir, m.output)).catch(() => undefined);
  return st?.isFile() ? m : undefined;
}

/** Numbers temporary manifest names in this process (pid + counter: unique without reading a clock). */
let tmpCounter = 0;

/** Writes the manifest through a temporary name and a rename, so readers never see half of it. */
export async function writeManifest(cacheDir: string, key: string, m: Manifest): Promise<void> {
  const final = manifestPath(cacheDir, key);
  const tmp = `${final}.tmp-${process.pid}-${++tmpCounter}`;
  await writeFile(tmp, JSON.stringify(m, null, 2) + '\n');
  await rename(tmp, final);
}

/** Marks an entry used at `nowMs` (the manifest's mtime is its last use). */
export async function touchManifest(cacheDir: string, key: string, nowMs: number): Promise<void> {
  const t = nowMs / 1000;
  await utimes(manifestPath(cacheDir, key), t, t).catch(() => undefined);
}

export interface CacheEntryUse {
  key: string;
  /** The prepared file's name in the cache dir. */
  output: string;
  /** Prepared file + manifest. */
  bytes: number;
  /** Last use (manifest mtime), ms. */
  lastUsedMs: number;
}

/** Finished entries of the cache dir (manifest + prepared file), oldest use first. */
export async function listCacheEntries(cacheDir: string): Promise<CacheEntryUse[]> {
  const names = await readdir(cacheDir).catch(() => [] as string[]);
  const out: CacheEntryUse[] = [];
  for (const n of names) {
    const m = /^([0-9a-f]{20})\.json$/.exec(n);
    if (!m) continue;
    const key = m[1]!;
    const manifest = await readManifest(cacheDir, key);
    const mst = await stat(manifestPath(cacheDir, key)).catch(() => undefined);
    if (!manifest || !mst) continue;
    const ost = await stat(path.join(cacheDir, manifest.output)).catch(() => undefined);
    if (!ost) continue;
    out.push({ key, output: manifest.output, bytes: ost.size + mst.size, lastUsedMs: mst.mtimeMs });
  }
  return out.sort((a, b) => a.lastUsedMs - b.lastUsedMs || a.key.localeCompare(b.key));
}

export interface EvictionResult {
  /** Entries removed, oldest use first. */
  evicted: CacheEntryUse[];
  /** Bytes of the entries left. */
  bytes: number;
  /** Bytes of the entries left that eviction could not touch (in use). */
  inUseBytes: number;
}

/**
 * Removes least recently used entries until the finished entries total at most `maxBytes`; entries
 * whose prepared file is named in `inUse` stay (the cache may then stay over the limit). The
 * manifest goes first, so no reader finds an entry whose file is half gone.
 */
export async function evictLeastRecentlyUsed(cacheDir: string, maxBytes: number, inUse: ReadonlySet<string>): Promise<EvictionResult> {
  const entries = await listCacheEntries(cacheDir);
  let bytes = entries.reduce((a, e) => a + e.bytes, 0);
  const inUseBytes = entries.filter((e) => inUse.has(e.output)).reduce((a, e) => a + e.bytes, 0);
  const evicted: CacheEntryUse[] = [];
  for (const e of entries) {
    if (bytes <= maxBytes) break;
    if (inUse.has(e.output)) continue;
    await rm(manifestPath(cacheDir, e.key), { force: true });
    await rm(path.join(cacheDir, e.output), { force: true });
    bytes -= e.bytes;
    evicted.push(e);
  }
  return { evicted, bytes, inUseBytes };
}
