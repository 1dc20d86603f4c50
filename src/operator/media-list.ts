import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { openMp4 } from '../media/index.ts';
import { probeFile } from '../media/prepare/index.ts';

export interface MediaTrackInfo {
  /** MP4 track id, or ffprobe's stream index. */
  id: number;
  kind: string;
  codec: string;
  /** Known for MP4/MOV tracks. */
  durationSec?: number;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
}

export interface MediaInfo {
  /** Path inside the media directory, as in `rtsp://HOST:PORT/<path>`. */
  path: string;
  bytes: number;
  durationSec: number | undefined;
  /** `native`: MP4/MOV read by our own reader; `prepared`: remuxed or transcoded through ffmpeg on first DESCRIBE; none: unreadable. */
  served: 'native' | 'prepared' | 'none';
  tracks: MediaTrackInfo[];
  note?: string;
}

export interface MediaListing {
  files: MediaInfo[];
  /** True when the listing stopped at the file or depth limit, or left files unprobed (ask again). */
  truncated: boolean;
}

export interface MediaListLimits {
  /** Files listed at most. */
  maxMediaFiles: number;
  /** Folder depth looked into (1: the media directory only). */
  maxMediaDepth: number;
  /** ffprobe runs for one listing at most (the rest are listed unprobed, and probed on a later listing). */
  maxProbesPerListing: number;
}

/**
 * GET /api/media: the files of the media directory with their tracks and durations, bounded in
 * count, depth and probes (dot files and folders, where the preparation cache lives, are left
 * out, as the server does not serve them). MP4/MOV are read by the server's own reader; other
 * files by the same fenced ffprobe the preparation uses. Each file is described once per version
 * (size and mtime) and remembered.
 */
export class MediaLister {
  private readonly known = new Map<string, { key: string; info: MediaInfo }>();

  constructor(
    private readonly rootDir: string,
    private readonly limits: MediaListLimits,
  ) {}

  private running: Promise<MediaListing> | undefined;

  /** The listing; requests while one is being made share it (ffprobe runs stay bounded whatever the callers). */
  list(): Promise<MediaListing> {
    this.running ??= this.walk().finally(() => (this.running = undefined));
    return this.running;
  }

  private async walk(): Promise<MediaListing> {
    const root = await realpath(this.rootDir);
    const files: MediaInfo[] = [];
    let truncated = false;
    let probes = 0;
    const walk = async (dir: string, depth: number): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      entries.sort((a, b) => a.name.localeCompare(b.name));
      for (const e of entries) {
        if (e.name.startsWith('.')) continue;
        if (files.length >= this.limits.maxMediaFiles) {
          truncated = true;
          return;
        }
        const full = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (depth >= this.limits.maxMediaDepth) truncated = true;
          else await walk(full, depth + 1);
        } else if (e.isFile()) {
          const rel = path.relative(root, full).split(path.sep).join('/');
          const st = await stat(full).catch(() => undefined);
          if (!st) continue;
          const key = `${st.size}:${st.mtimeMs}`;
          const cached = this.known.get(rel);
          if (cached?.key === key) {
            files.push(cached.info);
            continue;
          }
          const { info, probed } = await this.describe(full, rel, st.size, probes < this.limits.maxProbesPerListing);
          if (info.note === UNPROBED) truncated = true;
          else this.known.set(rel, { key, info });
          if (probed) probes++;
          files.push(info);
        }
      }
    };
    await walk(root, 1);
    const listed = new Set(files.map((f) => f.path));
    for (const k of [...this.known.keys()]) if (!listed.has(k)) this.known.delete(k);
    return { files, truncated };
  }

  private async describe(full: string, rel: string, bytes: number, mayProbe: boolean): Promise<{ info: MediaInfo; probed: boolean }> {
    const done = (info: MediaInfo, probed: boolean) => ({ info, probed });
    try {
      const file = await openMp4(full);
      try {
        return done(
          {
            path: rel,
            bytes,
            durationSec: file.durationSec,
            served: 'native',
            tracks: file.tracks.map((t) => ({
              id: t.id,
              kind: t.kind,
              codec: t.codec,
              durationSec: t.durationSec,
              ...(t.width !== undefined ? { width: t.width, height: t.height } : {}),
              ...(t.sampleRate !== undefined ? { sampleRate: t.sampleRate, channels: t.channels } : {}),
            })),
          },
          false,
        );
      } finally {
        await file.close();
      }
    } catch {
      // Not MP4/MOV (or not one our reader takes): what ffprobe says, as the preparation would see it.
    }
    if (!mayProbe) return done({ path: rel, bytes, durationSec: undefined, served: 'none', tracks: [], note: UNPROBED }, false);
    try {
      const p = await probeFile(full);
      const tracks = p.streams
        .filter((s) => s.type !== 'other')
        .map((s) => ({
          id: s.index,
          kind: s.type,
          codec: s.codec,
          ...(s.sampleRate !== undefined ? { sampleRate: s.sampleRate } : {}),
          ...(s.channels !== undefined ? { channels: s.channels } : {}),
        }));
      return done(
        {
          path: rel,
          bytes,
          durationSec: p.durationSec,
          served: tracks.length > 0 ? 'prepared' : 'none',
          tracks,
          note: tracks.length > 0 ? `${p.format}: prepared through ffmpeg on first DESCRIBE` : `${p.format}: no audio or video`,
        },
        true,
      );
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return done({ path: rel, bytes, durationSec: undefined, served: 'none', tracks: [], note: `not media: ${why.slice(0, 200)}` }, true);
    }
  }
}

const UNPROBED = 'not probed yet (probes per listing used up): ask again';
