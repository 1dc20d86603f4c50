/**
 * A preparation cache on disk for the tests of src/media/prepare/ that need no ffmpeg: a temporary
 * folder per test with a cache folder in it, and entries written as a preparation leaves them
 * (the output file, its manifest, its last use).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { cacheKey, PREPARE_RECIPE_VERSION, sourceIdentity, touchManifest } from '../../src/media/prepare/index.ts';
import { writeManifest } from '../../src/media/prepare/cache.ts';

/** The folders of the test running now: `root` (sources) and `root/.cache`; made before each test, removed after. */
export function cacheFoldersForEachTest(prefix: string): { root: string; cacheDir: string } {
  const dirs = { root: '', cacheDir: '' };
  beforeEach(async () => {
    dirs.root = await mkdtemp(path.join(os.tmpdir(), prefix));
    dirs.cacheDir = path.join(dirs.root, '.cache');
    await mkdir(dirs.cacheDir);
  });
  afterEach(async () => {
    await rm(dirs.root, { recursive: true, force: true });
  });
  return dirs;
}

/**
 * A source `name` in `root` whose prepared output (`outputBytes` long) is in `cacheDir`, last used
 * at `usedAtMs`. Returns the source path, the output's name and the cache key.
 */
export async function preparedEntry(
  dirs: { root: string; cacheDir: string },
  name: string,
  outputBytes: number,
  usedAtMs: number,
): Promise<{ source: string; output: string; key: string }> {
  const source = path.join(dirs.root, name);
  await writeFile(source, `source ${name}`);
  const key = cacheKey(await sourceIdentity(source));
  const output = `${name}-${key}.mp4`;
  await writeFile(path.join(dirs.cacheDir, output), Buffer.alloc(outputBytes));
  await writeManifest(dirs.cacheDir, key, {
    recipe: PREPARE_RECIPE_VERSION,
    source: await sourceIdentity(source),
    output,
    route: 'mp4',
    summary: 'remux',
    streams: [],
    elapsedMs: 1,
    preparedAt: '',
  });
  await touchManifest(dirs.cacheDir, key, usedAtMs);
  return { source, output, key };
}
