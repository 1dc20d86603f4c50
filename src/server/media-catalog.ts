import { stat } from 'node:fs/promises';
import { openMp4 } from '../media/index.ts';
import type { MediaFile } from '../media/index.ts';
import { createLogger } from '../util/log.ts';
import { RtspError, notFound } from './errors.ts';
import { resolveMediaPath } from './media-path.ts';
import { ChunkCache, PacketizedTrack } from './packetized-track.ts';
import { payloadFormatFor } from './payload-formats.ts';

const log = createLogger('catalog');

/** A served track: its control name in URLs (`trackID=N`) and its packet source. */
export interface ServedTrack {
  control: string;
  source: PacketizedTrack;
}

/** An open media file shared by every session that plays it. */
export interface MediaEntry {
  relPath: string;
  filePath: string;
  file: MediaFile;
  durationSec: number;
  tracks: ServedTrack[];
  /** Tracks in the file that are not streamed, with the reason (shown by `probe`). */
  skipped: { id: number; codec: string; reason: string }[];
  refs: number;
}

export interface CatalogOptions {
  maxPayloadSize: number;
  cache?: ChunkCache;
  /** Close a file this long after its last session released it. */
  idleCloseMs?: number;
}

/** Dynamic payload types (RFC 3551 §3) are given in track order: 96, 97, ... */
const FIRST_DYNAMIC_PT = 96;

/** Opens a file directly (also used by `streamlab probe`), without the catalog's sharing. */
export async function openMediaEntry(
  filePath: string,
  relPath: string,
  maxPayloadSize: number,
  cache: ChunkCache,
): Promise<MediaEntry> {
  const file = await openMp4(filePath);
  const st = await stat(filePath);
  const key = `${filePath}@${st.mtimeMs}:${st.size}`;
  const tracks: ServedTrack[] = [];
  const skipped: MediaEntry['skipped'] = [];
  for (const t of file.tracks) {
    if (t.kind !== 'video' && t.kind !== 'audio') {
      skipped.push({ id: t.id, codec: t.codec, reason: `${t.kind} track` });
      continue;
    }
    const pt = FIRST_DYNAMIC_PT + tracks.length;
    const f = payloadFormatFor(t, pt, maxPayloadSize);
    if (!f.ok) {
      skipped.push({ id: t.id, codec: t.codec, reason: f.reason });
      continue;
    }
    tracks.push({
      control: `trackID=${tracks.length + 1}`,
      source: new PacketizedTrack(file, t, f.format, cache, `${key}/${t.id}/${maxPayloadSize}`),
    });
  }
  return { relPath, filePath, file, durationSec: file.durationSec, tracks, skipped, refs: 0 };
}

/**
 * The media directory as the server sees it: URL paths resolved safely, each file opened once and
 * shared (payloads packetized once per file, track and MTU), closed when no session uses it.
 */
export class MediaCatalog {
  private readonly open = new Map<string, Promise<MediaEntry>>();
  private readonly closeTimers = new Map<string, NodeJS.Timeout>();
  readonly cache: ChunkCache;

  constructor(
    readonly rootDir: string,
    private readonly opts: CatalogOptions,
  ) {
    this.cache = opts.cache ?? new ChunkCache();
  }

  /** Resolves an URL path (already split from the track part) and opens the file, shared. */
  async acquire(urlPath: string): Promise<MediaEntry> {
    const r = await resolveMediaPath(this.rootDir, urlPath);
    if (!r.ok) {
      log.debug('not found', { path: urlPath, reason: r.reason });
      throw notFound(`${urlPath}: ${r.reason}`);
    }
    let p = this.open.get(r.filePath);
    if (!p) {
      p = openMediaEntry(r.filePath, r.relPath, this.opts.maxPayloadSize, this.cache).catch((err: unknown) => {
        this.open.delete(r.filePath);
        const code = (err as { code?: string }).code ?? 'MEDIA_ERR';
        log.info('cannot open media', { path: r.relPath, code, error: String(err) });
        throw new RtspError(415, 'SRV_ERR_UNSUPPORTED_MEDIA', `${r.relPath}: ${code}`);
      });
      this.open.set(r.filePath, p);
    }
    const entry = await p;
    if (entry.tracks.length === 0) throw new RtspError(415, 'SRV_ERR_NO_TRACKS', `${r.relPath}: no streamable track`);
    entry.refs++;
    const t = this.closeTimers.get(r.filePath);
    if (t) {
      clearTimeout(t);
      this.closeTimers.delete(r.filePath);
    }
    return entry;
  }

  /** Absolute paths of the files open now (opening or opened). */
  openFiles(): string[] {
    return [...this.open.keys()];
  }

  release(entry: MediaEntry): void {
    entry.refs--;
    if (entry.refs > 0) return;
    const t = setTimeout(() => {
      this.closeTimers.delete(entry.filePath);
      if (entry.refs > 0) return;
      this.open.delete(entry.filePath);
      void entry.file.close();
    }, this.opts.idleCloseMs ?? 30_000);
    t.unref();
    this.closeTimers.set(entry.filePath, t);
  }

  async close(): Promise<void> {
    for (const t of this.closeTimers.values()) clearTimeout(t);
    this.closeTimers.clear();
    const entries = await Promise.allSettled(this.open.values());
    this.open.clear();
    for (const e of entries) if (e.status === 'fulfilled') await e.value.file.close();
  }
}
