/**
 * The preparation cache's size limit (serve --cache-max-mb): least recently used entries go first,
 * a reuse counts as a use, an entry handed out and not released stays, a file being written (a
 * temporary) is never touched. A temp dir and a manual clock: no ffmpeg (every prepare() here is a
 * cache hit).
 */
import { readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evictLeastRecentlyUsed, listCacheEntries, Preparer } from '../../src/media/prepare/index.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { cacheFoldersForEachTest, preparedEntry } from '../helpers/prepare-cache.ts';

const OUTPUT_BYTES = 10_000;

describe('preparation cache eviction', () => {
  const dirs = cacheFoldersForEachTest('streamlab-evict-');
  const clock = new ManualClock(1_000_000);

  /** A prepared entry for source `name`, last used at the clock's time. */
  const addEntry = (name: string) => preparedEntry(dirs, name, OUTPUT_BYTES, clock.now());

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

  const outputs = async () => (await listCacheEntries(dirs.cacheDir)).map((e) => e.output.slice(0, 5)).sort();
  /** Room for `n` entries (output + manifest). */
  const roomFor = async (n: number) => {
    const [e] = await listCacheEntries(dirs.cacheDir);
    return n * e!.bytes;
  };

  it('removes the least recently used entries until the rest fit, manifest and file', async () => {
    const { a } = await threeEntries();
    expect((await listCacheEntries(dirs.cacheDir)).map((e) => e.output.slice(0, 5))).toEqual(['a.mkv', 'b.mkv', 'c.mkv']);
    const r = await evictLeastRecentlyUsed(dirs.cacheDir, await roomFor(2), new Set());
    expect(r.evicted.map((e) => e.output.slice(0, 5))).toEqual(['a.mkv']);
    expect(await outputs()).toEqual(['b.mkv', 'c.mkv']);
    const names = await readdir(dirs.cacheDir);
    expect(names).not.toContain(a.output);
    expect(names).not.toContain(`${a.key}.json`);
    // Under the limit: nothing more goes.
    expect((await evictLeastRecentlyUsed(dirs.cacheDir, await roomFor(2), new Set())).evicted).toEqual([]);
  });

  it('a reuse through the preparer is a use: the entry used last stays', async () => {
    const { a } = await threeEntries();
    const preparer = new Preparer({ cacheDir: dirs.cacheDir, clock, maxCacheBytes: await roomFor(2) });
    const job = preparer.prepare(a.source);
    const got = await job.done;
    expect(got.reused).toBe(true);
    expect((await stat(path.join(dirs.cacheDir, `${a.key}.json`))).mtimeMs).toBe(clock.now());
    preparer.release(got.outputPath);
    const r = await preparer.evict();
    expect(r?.evicted.map((e) => e.output.slice(0, 5))).toEqual(['b.mkv']);
    expect(await outputs()).toEqual(['a.mkv', 'c.mkv']);
    expect(preparer.stats.evicted).toBe(1);
  });

  it('never evicts an entry handed out and not released; after release it may go', async () => {
    const { a } = await threeEntries();
    const preparer = new Preparer({ cacheDir: dirs.cacheDir, clock, maxCacheBytes: 1 });
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
    await writeFile(path.join(dirs.cacheDir, tmp), Buffer.alloc(OUTPUT_BYTES * 10));
    const r = await evictLeastRecentlyUsed(dirs.cacheDir, 0, new Set());
    expect(r.evicted).toHaveLength(3);
    expect(await readdir(dirs.cacheDir)).toEqual([tmp]);
  });

  it('a preparer without a limit evicts nothing', async () => {
    await threeEntries();
    expect(await new Preparer({ cacheDir: dirs.cacheDir, clock }).evict()).toBeUndefined();
    expect(await outputs()).toEqual(['a.mkv', 'b.mkv', 'c.mkv']);
  });
});
