/**
 * LazyPreparer (the server's default preparer): the Preparer is made at the first prepare(), a job
 * asked for before that reports 'queued', then answers as the Preparer's own job; release() and
 * close() reach the Preparer once there is one, and close() without any prepare() loads nothing.
 * A temp dir and a manual clock: no ffmpeg (the one prepare() is a cache hit, the other a missing
 * file).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheKey, LazyPreparer, PREPARE_RECIPE_VERSION, sourceIdentity, touchManifest } from '../../src/media/prepare/index.ts';
import { writeManifest } from '../../src/media/prepare/cache.ts';
import { ManualClock } from '../../src/util/clock.ts';

describe('LazyPreparer', () => {
  let root: string;
  let cacheDir: string;
  const clock = new ManualClock(1_000_000);

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'streamlab-lazy-prep-'));
    cacheDir = path.join(root, '.cache');
    await mkdir(cacheDir);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** A source `a.mkv` whose prepared output is already in the cache. */
  async function cachedSource(): Promise<{ source: string; output: string }> {
    const source = path.join(root, 'a.mkv');
    await writeFile(source, 'source a');
    const key = cacheKey(await sourceIdentity(source));
    const output = `a-${key}.mp4`;
    await writeFile(path.join(cacheDir, output), Buffer.alloc(100));
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
    return { source, output };
  }

  it('a job asked for before the Preparer is loaded: queued, then the cached file', async () => {
    const { source, output } = await cachedSource();
    const lazy = new LazyPreparer({ cacheDir, clock });
    const job = lazy.prepare(source);
    expect(job.sourcePath).toBe(source);
    clock.advance(250);
    expect(job.progress()).toEqual({ elapsedMs: 250, stage: 'queued' });
    const got = await job.done;
    expect(got).toMatchObject({ outputPath: path.join(cacheDir, output), reused: true });
    expect(await job.growing).toBeUndefined();
    // Loaded now: later jobs are the Preparer's own, and it holds what it handed out.
    const preparer = await lazy.load();
    expect(preparer.stats.reused).toBe(1);
    expect(lazy.prepare(source)).toBe(lazy.prepare(source));
    lazy.release(got.outputPath);
    await lazy.close();
  });

  it("a missing file fails the job with the Preparer's error", async () => {
    const lazy = new LazyPreparer({ cacheDir, clock });
    await expect(lazy.prepare(path.join(root, 'missing.mkv')).done).rejects.toMatchObject({ code: 'PREP_ERR_IO' });
    await lazy.close();
  });

  it('close() and release() before any prepare() do not make a Preparer', async () => {
    const lazy = new LazyPreparer({ cacheDir, clock });
    lazy.release(path.join(cacheDir, 'x.mp4'));
    await lazy.close();
    expect((lazy as unknown as { preparer?: unknown }).preparer).toBeUndefined();
  });
});
