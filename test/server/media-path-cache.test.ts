/**
 * What the catalog remembers between requests so that a join does not look up the media root and
 * the cache dir every time (media-path.ts MediaRoots, MediaCatalog's cache dir): none of it may
 * let a request out of the media directory, into the preparation cache, or to a file gone.
 * Real files in a temporary directory; the root is a plain directory or a symlink that the tests
 * re-point, rename and replace between requests.
 */
import { copyFile, mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MediaRoots, resolveMediaPath } from '../../src/server/media-path.ts';
import { MediaCatalog } from '../../src/server/media-catalog.ts';
import { RtspError } from '../../src/server/errors.ts';
import { SAMPLE } from '../helpers/server.ts';
import { waitUntil } from '../helpers/wait.ts';

let tmp: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'streamlab-roots-'));
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A directory `name` in tmp holding the given files (each a few bytes). */
async function dirWith(name: string, files: string[]): Promise<string> {
  const dir = path.join(tmp, name);
  await mkdir(dir, { recursive: true });
  for (const f of files) await writeFile(path.join(dir, f), `${name}/${f}`);
  return dir;
}

async function refusal(p: Promise<unknown>): Promise<{ status: number; message: string } | 'served'> {
  try {
    await p;
    return 'served';
  } catch (e) {
    if (!(e instanceof RtspError)) throw e;
    return { status: e.status, message: e.message };
  }
}

describe('resolveMediaPath with the roots remembered', () => {
  it('a plain root is remembered; a symlink out of it resolves to nothing, the first time and every time after', async () => {
    const root = await dirWith('media', ['a.mp4']);
    const secret = await dirWith('secret', ['key.mp4']);
    await symlink(path.join(secret, 'key.mp4'), path.join(root, 'out.mp4'));
    const roots = new MediaRoots();
    expect(await resolveMediaPath(root, 'a.mp4', roots)).toEqual({ ok: true, relPath: 'a.mp4', filePath: path.join(root, 'a.mp4') });
    expect(roots.has(root)).toBe(true);
    for (let i = 0; i < 3; i++) {
      expect(await resolveMediaPath(root, 'out.mp4', roots)).toEqual({ ok: false, reason: 'outside the media directory' });
    }
    expect(await resolveMediaPath(root, 'a.mp4', roots)).toMatchObject({ ok: true });
  });

  it('a root that is a symlink is not remembered; re-pointed, the old target is outside', async () => {
    const v1 = await dirWith('v1', ['both.mp4', 'old.mp4']);
    const v2 = await dirWith('v2', ['both.mp4', 'new.mp4']);
    const root = path.join(tmp, 'media');
    await symlink(v1, root);
    // The new target links into the old one: outside once the root points at v2.
    await symlink(path.join(v1, 'old.mp4'), path.join(v2, 'old.mp4'));
    const roots = new MediaRoots();
    expect(await resolveMediaPath(root, 'both.mp4', roots)).toMatchObject({ ok: true, filePath: path.join(v1, 'both.mp4') });
    expect(await resolveMediaPath(root, 'old.mp4', roots)).toMatchObject({ ok: true, filePath: path.join(v1, 'old.mp4') });
    expect(roots.has(root)).toBe(false);
    await unlink(root);
    await symlink(v2, root);
    expect(await resolveMediaPath(root, 'both.mp4', roots)).toMatchObject({ ok: true, filePath: path.join(v2, 'both.mp4') });
    expect(await resolveMediaPath(root, 'new.mp4', roots)).toMatchObject({ ok: true, filePath: path.join(v2, 'new.mp4') });
    expect(await resolveMediaPath(root, 'old.mp4', roots)).toEqual({ ok: false, reason: 'outside the media directory' });
  });

  it('a plain root replaced by a symlink to another directory: that directory is the root, the old one is outside', async () => {
    const root = await dirWith('media', ['a.mp4', 'old.mp4']);
    const other = await dirWith('other', ['a.mp4']);
    const roots = new MediaRoots();
    expect(await resolveMediaPath(root, 'a.mp4', roots)).toMatchObject({ ok: true, filePath: path.join(root, 'a.mp4') });
    expect(roots.has(root)).toBe(true);
    const moved = path.join(tmp, 'media.old');
    await rename(root, moved);
    await symlink(other, root);
    await symlink(path.join(moved, 'old.mp4'), path.join(other, 'old.mp4'));
    expect(await resolveMediaPath(root, 'a.mp4', roots)).toMatchObject({ ok: true, filePath: path.join(other, 'a.mp4') });
    expect(roots.has(root)).toBe(false);
    expect(await resolveMediaPath(root, 'old.mp4', roots)).toEqual({ ok: false, reason: 'outside the media directory' });
  });

  it('a plain root replaced by another plain directory serves the new one', async () => {
    const root = await dirWith('media', ['a.mp4']);
    const roots = new MediaRoots();
    expect(await resolveMediaPath(root, 'a.mp4', roots)).toMatchObject({ ok: true });
    await rename(root, path.join(tmp, 'media.old'));
    await dirWith('media', ['b.mp4']);
    expect(await resolveMediaPath(root, 'a.mp4', roots)).toEqual({ ok: false, reason: 'no such file' });
    expect(await resolveMediaPath(root, 'b.mp4', roots)).toMatchObject({ ok: true, filePath: path.join(root, 'b.mp4') });
  });

  it('a removed root fails as it did without the roots remembered', async () => {
    const root = await dirWith('media', ['a.mp4']);
    const roots = new MediaRoots();
    expect(await resolveMediaPath(root, 'a.mp4', roots)).toMatchObject({ ok: true });
    await rm(root, { recursive: true });
    await expect(resolveMediaPath(root, 'a.mp4', roots)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(resolveMediaPath(root, 'a.mp4')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a directory inside the root is not a file', async () => {
    const root = await dirWith('media', ['a.mp4']);
    await mkdir(path.join(root, 'sub.mp4'));
    const roots = new MediaRoots();
    expect(await resolveMediaPath(root, 'a.mp4', roots)).toMatchObject({ ok: true });
    expect(await resolveMediaPath(root, 'sub.mp4', roots)).toEqual({ ok: false, reason: 'not a file' });
  });
});

describe('MediaCatalog across requests', () => {
  let catalog: MediaCatalog | undefined;

  afterEach(async () => {
    await catalog?.close();
    catalog = undefined;
  });

  for (const kind of ['a plain directory', 'a symlink'] as const) {
    it(`the cache dir created after the first request is still not served (root: ${kind})`, async () => {
      const real = await dirWith('media', []);
      await copyFile(SAMPLE, path.join(real, 'sample.mp4'));
      const root = kind === 'a symlink' ? path.join(tmp, 'link') : real;
      if (kind === 'a symlink') await symlink(real, root);
      catalog = new MediaCatalog(root, { maxPayloadSize: 1400 });
      const entry = await catalog.acquire('sample.mp4');
      catalog.release(entry);
      expect(await refusal(catalog.acquire('.streamlab-cache/x.mp4'))).toMatchObject({ status: 404 });
      await mkdir(path.join(real, '.streamlab-cache'));
      await copyFile(SAMPLE, path.join(real, '.streamlab-cache', 'x.mp4'));
      for (let i = 0; i < 2; i++) {
        expect(await refusal(catalog.acquire('.streamlab-cache/x.mp4'))).toEqual({
          status: 404,
          message: '.streamlab-cache/x.mp4: the preparation cache is not served',
        });
      }
      // A link elsewhere in the media dir into the cache is refused too.
      await symlink(path.join(real, '.streamlab-cache', 'x.mp4'), path.join(real, 'via.mp4'));
      expect(await refusal(catalog.acquire('via.mp4'))).toMatchObject({
        status: 404,
        message: 'via.mp4: the preparation cache is not served',
      });
      expect(catalog.openFiles()).toEqual([path.join(real, 'sample.mp4')]);
    });
  }

  it('a file removed while its entry is open is 404; the open entry is shared until then', async () => {
    const root = await dirWith('media', []);
    await copyFile(SAMPLE, path.join(root, 'clip.mp4'));
    catalog = new MediaCatalog(root, { maxPayloadSize: 1400 });
    const a = await catalog.acquire('clip.mp4');
    const b = await catalog.acquire('clip.mp4');
    expect(b).toBe(a);
    expect(a.refs).toBe(2);
    await unlink(path.join(root, 'clip.mp4'));
    expect(await refusal(catalog.acquire('clip.mp4'))).toEqual({ status: 404, message: 'clip.mp4: no such file' });
    expect(a.refs).toBe(2);
    catalog.release(a);
    catalog.release(b);
    expect(a.refs).toBe(0);
  });

  it('an entry closed after its idle time is opened anew by the next request, not handed out closed', async () => {
    const root = await dirWith('media', []);
    await copyFile(SAMPLE, path.join(root, 'clip.mp4'));
    catalog = new MediaCatalog(root, { maxPayloadSize: 1400, idleCloseMs: 10 });
    const a = await catalog.acquire('clip.mp4');
    catalog.release(a);
    const again = await catalog.acquire('clip.mp4');
    expect(again).toBe(a);
    catalog.release(again);
    await waitUntil(() => catalog!.openFiles().length === 0, 5000, 'the idle entry to close');
    const b = await catalog.acquire('clip.mp4');
    expect(b).not.toBe(a);
    expect(b.refs).toBe(1);
    expect(catalog.openFiles()).toEqual([path.join(root, 'clip.mp4')]);
    catalog.release(b);
  });
});
