import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

/**
 * The one place that decides which ffmpeg/ffprobe to run: the system's (on PATH, or the path in
 * STREAMLAB_FFMPEG / STREAMLAB_FFPROBE) first, then the static binaries shipped by the npm packages
 * @ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe, else an error that says how to fix it.
 */
export type Tool = 'ffmpeg' | 'ffprobe';

export class ToolNotFoundError extends Error {
  readonly code = 'MEDIA_ERR_NO_FFMPEG';
  constructor(tool: Tool) {
    super(
      `${tool} not found: install it (Debian/Ubuntu: sudo apt-get install ffmpeg; macOS: brew install ffmpeg), ` +
        `or npm install @ffmpeg-installer/ffmpeg @ffprobe-installer/ffprobe, or set STREAMLAB_${tool.toUpperCase()}=/path/to/${tool}`,
    );
    this.name = 'ToolNotFoundError';
  }
}

const cache = new Map<Tool, string>();
const PACKAGES: Record<Tool, string> = { ffmpeg: '@ffmpeg-installer/ffmpeg', ffprobe: '@ffprobe-installer/ffprobe' };

function works(path: string): boolean {
  const r = spawnSync(path, ['-hide_banner', '-version'], { stdio: 'ignore', timeout: 10_000 });
  return !r.error && r.status === 0;
}

function fromPackage(tool: Tool): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const mod = require(PACKAGES[tool]) as { path?: string };
    return mod.path;
  } catch {
    return undefined;
  }
}

/** Path of a working `tool`; throws ToolNotFoundError with the fix when there is none. */
export function locate(tool: Tool): string {
  const known = cache.get(tool);
  if (known) return known;
  const candidates = [process.env[`STREAMLAB_${tool.toUpperCase()}`], tool, fromPackage(tool)];
  for (const c of candidates) {
    if (c && works(c)) {
      cache.set(tool, c);
      return c;
    }
  }
  throw new ToolNotFoundError(tool);
}

/** Like locate() but undefined instead of throwing (for optional features). */
export function tryLocate(tool: Tool): string | undefined {
  try {
    return locate(tool);
  } catch {
    return undefined;
  }
}
