import path from 'node:path';
import { realpathSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { realpath } from 'node:fs/promises';

/**
 * Maps the path of an RTSP URL onto a file inside the media directory. Anything that could leave
 * the directory — `..` segments (also percent-encoded), absolute or drive paths, backslashes, NUL,
 * symlinks pointing outside — resolves to nothing, before any file is opened.
 */
export type ResolvedMedia = { ok: true; relPath: string; filePath: string } | { ok: false; reason: string };

export function safeRelativePath(urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.split('/').filter((s) => s.length > 0);
  if (segments.length === 0) return undefined;
  for (const s of segments) {
    if (s === '.' || s === '..' || /^[a-zA-Z]:$/.test(s)) return undefined;
  }
  return segments.join('/');
}

/** Roots MediaRoots remembers at most (the media directory and the folders of config rules). */
export const MAX_PLAIN_ROOTS = 256;

/**
 * Media roots last seen to be their own real path (an absolute path with no symlink on the way),
 * so that resolving a file in one needs no realpath of the root: when the file's real path lies
 * inside the root's absolute path, that path is made of real directories at that moment, so the
 * root's realpath would have been itself and the answer is the one a fresh realpath gives. Any
 * other outcome (the root became a symlink, the file is missing, outside, not a file) is looked
 * up again the full way, root first, and decided by that. A root that is a symlink is never
 * remembered: its target may change, and a file of the new target could then be checked against
 * the old one.
 */
export class MediaRoots {
  private readonly plain = new Set<string>();

  has(absRoot: string): boolean {
    return this.plain.has(absRoot);
  }

  /** After a realpath of the root: remembered when it is its own real path, forgotten otherwise. */
  saw(absRoot: string, realRoot: string): void {
    if (realRoot !== absRoot) {
      this.plain.delete(absRoot);
      return;
    }
    if (this.plain.size >= MAX_PLAIN_ROOTS) this.plain.clear();
    this.plain.add(absRoot);
  }
}

/**
 * `rel` (safe) inside `root` (a real path): its real path when it is a file inside. A file outside
 * the root is refused before anything else is asked of it (not even a stat).
 *
 * Synchronous on purpose, as a web server looks files up: one `realpath` and one `stat`, metadata
 * a local filesystem answers from its caches in microseconds. Through Node's thread pool each was
 * a round trip between two threads that cost ~100 µs of CPU on a 2-core VM (a join resolves its
 * file twice: DESCRIBE and SETUP), more than everything else a join does in the file system. The
 * price: a media directory on a filesystem that stalls (a hung network mount) stalls the event
 * loop; through the thread pool it stalled every file read anyway, four at a time.
 */
function resolveIn(root: string, rel: string): ResolvedMedia {
  const candidate = path.join(root, rel);
  let real: string;
  try {
    real = realpathSync.native(candidate);
  } catch {
    return { ok: false, reason: 'no such file' };
  }
  if (real !== root && !real.startsWith(root + path.sep)) return { ok: false, reason: 'outside the media directory' };
  let st: Stats | undefined;
  try {
    st = statSync(real, { throwIfNoEntry: false });
  } catch {
    // EACCES and the like: answered as a missing file
  }
  if (!st) return { ok: false, reason: 'no such file' };
  if (!st.isFile()) return { ok: false, reason: 'not a file' };
  return { ok: true, relPath: rel, filePath: real };
}

/**
 * `urlPath` inside `rootDir`: one realpath and one stat of the file; with `roots`, the realpath of
 * the root only when the root is not known to be its own real path, or when the quick answer is
 * not a file inside it (see MediaRoots).
 */
export async function resolveMediaPath(rootDir: string, urlPath: string, roots?: MediaRoots): Promise<ResolvedMedia> {
  const rel = safeRelativePath(urlPath);
  if (!rel) return { ok: false, reason: 'path not allowed' };
  const abs = roots ? path.resolve(rootDir) : undefined;
  if (abs !== undefined && roots?.has(abs)) {
    const quick = resolveIn(abs, rel);
    if (quick.ok) return quick;
  }
  const root = await realpath(rootDir);
  if (abs !== undefined) roots?.saw(abs, root);
  return resolveIn(root, rel);
}
