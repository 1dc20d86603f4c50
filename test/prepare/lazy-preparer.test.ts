/**
 * LazyPreparer (the server's default preparer): the Preparer is made at the first prepare(), a job
 * asked for before that reports 'queued', then answers as the Preparer's own job; release() and
 * close() reach the Preparer once there is one, and close() without any prepare() loads nothing.
 * A temp dir and a manual clock: no ffmpeg (the one prepare() is a cache hit, the other a missing
 * file).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LazyPreparer } from '../../src/media/prepare/index.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { cacheFoldersForEachTest, preparedEntry } from '../helpers/prepare-cache.ts';

describe('LazyPreparer', () => {
  const dirs = cacheFoldersForEachTest('streamlab-lazy-prep-');
  const clock = new ManualClock(1_000_000);

  /** A source `a.mkv` whose prepared output is already in the cache. */
  const cachedSource = () => preparedEntry(dirs, 'a.mkv', 100, clock.now());

  it('a job asked for before the Preparer is loaded: queued, then the cached file', async () => {
    const { source, output } = await cachedSource();
    const lazy = new LazyPreparer({ cacheDir: dirs.cacheDir, clock });
    const job = lazy.prepare(source);
    expect(job.sourcePath).toBe(source);
    clock.advance(250);
    expect(job.progress()).toEqual({ elapsedMs: 250, stage: 'queued' });
    const got = await job.done;
    expect(got).toMatchObject({ outputPath: path.join(dirs.cacheDir, output), reused: true });
    expect(await job.growing).toBeUndefined();
    // Loaded now: later jobs are the Preparer's own, and it holds what it handed out.
    const preparer = await lazy.load();
    expect(preparer.stats.reused).toBe(1);
    expect(lazy.prepare(source)).toBe(lazy.prepare(source));
    lazy.release(got.outputPath);
    await lazy.close();
  });

  it("a missing file fails the job with the Preparer's error", async () => {
    const lazy = new LazyPreparer({ cacheDir: dirs.cacheDir, clock });
    await expect(lazy.prepare(path.join(dirs.root, 'missing.mkv')).done).rejects.toMatchObject({ code: 'PREP_ERR_IO' });
    await lazy.close();
  });

  it('close() and release() before any prepare() do not make a Preparer', async () => {
    const lazy = new LazyPreparer({ cacheDir: dirs.cacheDir, clock });
    lazy.release(path.join(dirs.cacheDir, 'x.mp4'));
    await lazy.close();
    expect((lazy as unknown as { preparer?: unknown }).preparer).toBeUndefined();
  });
});
