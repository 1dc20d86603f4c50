/**
 * The preparation cache on disk: keys from the source identity and options, manifests that only
 * count when their prepared file exists, and the sweep of temporary files of dead processes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheKey, PREPARE_RECIPE_VERSION, readManifest, removeStaleTemporaries } from '../../src/media/prepare/index.ts';
import type { Manifest } from '../../src/media/prepare/index.ts';

describe('preparation cache', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-cache-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keys change with path, size, mtime and options, and only with them', () => {
    const id = { path: '/m/a.mkv', size: 100, mtimeMs: 1700000000000 };
    const k = cacheKey(id);
    expect(k).toMatch(/^[0-9a-f]{20}$/);
    expect(cacheKey({ ...id })).toBe(k);
    expect(cacheKey(id, { crf: 20, x264Preset: 'veryfast', audioKbps: 160 })).toBe(k); // the defaults
    for (const other of [
      cacheKey({ ...id, path: '/m/b.mkv' }),
      cacheKey({ ...id, size: 101 }),
      cacheKey({ ...id, mtimeMs: id.mtimeMs + 1 }),
      cacheKey(id, { crf: 23 }),
    ]) {
      expect(other).not.toBe(k);
    }
  });

  it('a manifest counts only with its prepared file, of this recipe, named inside the cache dir', async () => {
    const m: Manifest = {
      recipe: PREPARE_RECIPE_VERSION,
      source: { path: '/x', size: 1, mtimeMs: 1 },
      output: 'a.mp4',
      route: 'mp4',
      summary: 'remux',
      streams: [],
      elapsedMs: 1,
      preparedAt: '',
    };
    const key = 'a'.repeat(20);
    await writeFile(path.join(dir, `${key}.json`), JSON.stringify(m));
    expect(await readManifest(dir, key)).toBeUndefined();
    await writeFile(path.join(dir, 'a.mp4'), 'x');
    expect(await readManifest(dir, key)).toEqual(m);
    await writeFile(path.join(dir, `${key}.json`), JSON.stringify({ ...m, recipe: PREPARE_RECIPE_VERSION + 1 }));
    expect(await readManifest(dir, key)).toBeUndefined();
    await writeFile(path.join(dir, `${key}.json`), JSON.stringify({ ...m, output: '../a.mp4' }));
    expect(await readManifest(dir, key)).toBeUndefined();
    await writeFile(path.join(dir, `${key}.json`), '{ half a manif');
    expect(await readManifest(dir, key)).toBeUndefined();
  });

  it('removes the temporaries of dead processes, keeps those of live ones and everything else', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid; // exited: its pid names no live process (or a reused one)
    const key = 'b'.repeat(20);
    const names = [
      `.${key}.tmp-${dead}-1.mp4`,
      `${key}.json.tmp-${dead}-2`,
      `.${key}.tmp-${process.pid}-3.ts`,
      `.${key}.tmp-1-4.mp4`,
      `${key}.json`,
      'clip.mkv-x.mp4',
    ];
    for (const n of names) await writeFile(path.join(dir, n), 'x');
    const removed = await removeStaleTemporaries(dir);
    const deadAlive = (() => {
      try {
        process.kill(dead, 0);
        return true;
      } catch {
        return false;
      }
    })();
    if (!deadAlive) expect(removed.sort()).toEqual([`.${key}.tmp-${dead}-1.mp4`, `${key}.json.tmp-${dead}-2`].sort());
    // Our own temporaries, pid 1's (alive: init) and non-temporary files stay.
    expect((await readdir(dir)).sort()).toEqual(
      expect.arrayContaining([`.${key}.tmp-${process.pid}-3.ts`, `.${key}.tmp-1-4.mp4`, `${key}.json`, 'clip.mkv-x.mp4']),
    );
  });
});
