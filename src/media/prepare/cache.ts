/**
 * The preparation cache: one prepared file per (source identity, options, recipe version), found
 * again without running ffmpeg or ffprobe. The key hashes the absolute path, size and mtime of the
 * source with the options; a manifest `<key>.json` written last (after the prepared file was
 * renamed into place) says what the prepared file is. A changed source (size or mtime) has a new
 * key and is prepared again; stale entries are simply never found (`streamlab prepare` does not
 * delete them).
 */
import { createHash } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PrepareOptions, Route, StreamPlan } from './plan.ts';
import { DEFAULT_PREPARE_OPTIONS } from './plan.ts';

/** Bump when the ffmpeg recipe changes, so files prepared by an older one are redone (2: transcodes go through a TS). */
export const PREPARE_RECIPE_VERSION = 2;

/** Default cache folder name under the media root (hidden from URLs). */
export const DEFAULT_CACHE_DIR_NAME = '.streamlab-cache';

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
