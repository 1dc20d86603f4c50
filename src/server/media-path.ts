import path from 'node:path';
import { realpath, stat } from 'node:fs/promises';

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

export async function resolveMediaPath(rootDir: string, urlPath: string): Promise<ResolvedMedia> {
  const rel = safeRelativePath(urlPath);
  if (!rel) return { ok: false, reason: 'path not allowed' };
  const root = await realpath(rootDir);
  const candidate = path.join(root, rel);
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    return { ok: false, reason: 'no such file' };
  }
  if (real !== root && !real.startsWith(root + path.sep)) return { ok: false, reason: 'outside the media directory' };
  try {
    const st = await stat(real);
    if (!st.isFile()) return { ok: false, reason: 'not a file' };
  } catch {
    return { ok: false, reason: 'no such file' };
  }
  return { ok: true, relPath: rel, filePath: real };
}
