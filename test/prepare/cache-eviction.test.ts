/**
 * The preparation cache's size limit (serve --cache-max-mb): least recently used entries go first,
 * a reuse counts as a use, an entry handed out and not released stays, a file being written (a
 * temporary) is never touched. A temp dir and a manual clock: no ffmpeg (every prepare() here is a
 * cache hit).
 */
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cacheKey,
  evictLeastRecentlyUsed,
  listCacheEntries,
  PREPARE_RECIPE_VERSION,
  Preparer,
  sourceIdentity,
  touchManifest,
} from '../../src/media/prepare/index.ts';
import { writeManifest } from '../../src/media/prepare/cache.ts';
import { ManualClock } from '../../src/util/clock.ts';

const OUTPUT_BYTES = 10_000;

describe('preparation cache eviction', () => {
  let root: string;
  let cacheDir: string;
  const clock = new ManualClock(1_000_000);

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'streamlab-evict-'));
    cacheDir = path.join(root, '.cache');
    await mkdir(cacheDir);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** A prepared entry for source `name`, last used at the clock's time. Returns the source path and the output name. */
  async function addEntry(name: string): Promise<{ source: string; output: string; key: string }> {
    const source = path.join(root, name);
    await writeFile(source, `source ${name}`);
    const key = cacheKey(await sourceIdentity(source));
    const output = `${name}-${key}.mp4`;
    await writeFile(path.join(cacheDir, output), Buffer.alloc(OUTPUT_BYTES));
    await writeManifest(cacheDir, key, {
      recipe: PREPARE_RECIPE_VERSION,
      source: await sourceIdentity(source),
      output,
      route: 'mp4',
      summary: 'remux',
      streams: [],
      elapsedMs: 1,
      preparedAt: '',
    });
    await touchManifest(cacheDir, key, clock.now());
    return { source, output, key };
  }

  /** Entries a, b, c used in that order, one second apart. */
  async function threeEntries() {
    const a = await addEntry('a.mkv');
    clock.advance(1000);
    const b = await addEntry('b.mkv');
    clock.advance(1000);
    const c = await addEntry('c.mkv');
    clock.advance(1000);
    return { a, b, c };
  }

  const outputs = async () => (await listCacheEntries(cacheDir)).map((e) => e.output.slice(0, 5)).sort();
  /** Room for `n` entries (output + manifest). */
  const roomFor = async (n: number) => {
    const [e] = await listCacheEntries(cacheDir);
    return n * e!.bytes;
  };

  it('removes the least recently used entries until the rest fit, manifest and file', async () => {
    const { a } = await threeEntries();
    expect((await listCacheEntries(cacheDir)).map((e) => e.output.slice(0, 5))).toEqual(['a.mkv', 'b.mkv', 'c.mkv']);
    const r = await evictLeastRecentlyUsed(cacheDir, await roomFor(2), new Set());
    expect(r.evicted.map((e) => e.output.slice(0, 5))).toEqual(['a.mkv']);
    expect(await outputs()).toEqual(['b.mkv', 'c.mkv']);
    const names = await readdir(cacheDir);
    expect(names).not.toContain(a.output);
    expect(names).not.toContain(`${a.key}.json`);
    // Under the limit: nothing more goes.
    expect((await evictLeastRecentlyUsed(cacheDir, await roomFor(2), new Set())).evicted).toEqual([]);
  });

  it('a reuse through the preparer is a use: the entry used last stays', async () => {
    const { a } = await threeEntries();
    const preparer = new Preparer({ cacheDir, clock, maxCacheBytes: await roomFor(2) });
    const job = preparer.prepare(a.source);
    const got = await job.done;
    expect(got.reused).toBe(true);
    expect((await stat(path.join(cacheDir, `${a.key}.json`))).mtimeMs).toBe(clock.now());
    preparer.release(got.outputPath);
    const r = await preparer.evict();
    expect(r?.evicted.map((e) => e.output.slice(0, 5))).toEqual(['b.mkv']);
    expect(await outputs()).toEqual(['a.mkv', 'c.mkv']);
    expect(preparer.stats.evicted).toBe(1);
  });

  it('never evicts an entry handed out and not released; after release it may go', async () => {
    const { a } = await threeEntries();
    const preparer = new Preparer({ cacheDir, clock, maxCacheBytes: 1 });
    const got = await preparer.prepare(a.source).done; // a: in use by a session
    clock.advance(1000);
    const r = await preparer.evict();
    expect(r?.evicted.map((e) => e.output.slice(0, 5))).toEqual(['b.mkv', 'c.mkv']);
    expect(r?.bytes).toBe(r?.inUseBytes); // over the limit, with what is in use only
    expect(await outputs()).toEqual(['a.mkv']);
    preparer.release(got.outputPath);
    expect((await preparer.evict())?.evicted.map((e) => e.output.slice(0, 5))).toEqual(['a.mkv']);
    expect(await outputs()).toEqual([]);
  });

  it('leaves files being written (temporaries) and other files alone', async () => {
    await threeEntries();
    const tmp = `.${'d'.repeat(20)}.tmp-${process.pid}-1.ts`;
    await writeFile(path.join(cacheDir, tmp), Buffer.alloc(OUTPUT_BYTES * 10));
    const r = await evictLeastRecentlyUsed(cacheDir, 0, new Set());
    expect(r.evicted).toHaveLength(3);
    expect(await readdir(cacheDir)).toEqual([tmp]);
  });

  it('a preparer without a limit evicts nothing', async () => {
    await threeEntries();
    expect(await new Preparer({ cacheDir, clock }).evict()).toBeUndefined();
    expect(await outputs()).toEqual(['a.mkv', 'b.mkv', 'c.mkv']);
  });
});
