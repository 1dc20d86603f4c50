import { openFailureError } from './open-failure.ts';
import { statSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { openMp4 } from '../media/index.ts';
import { DEFAULT_CACHE_DIR_NAME } from '../media/prepare/defaults.ts';
import { LazyPreparer } from '../media/prepare/lazy-preparer.ts';
import type { MediaPreparer, PreparationJob, PreparedMedia } from '../media/prepare/index.ts';
import { createLogger } from '../util/log.ts';
import { RtspError, notFound } from './errors.ts';
import { MediaRoots, resolveMediaPath, safeRelativePath } from './media-path.ts';
import { GrowingEntries } from './growing-entry.ts';
import { ChunkCache, PacketizedTrack } from '../sender/packetized-track.ts';
import { payloadFormatFor } from '../sender/payload-formats.ts';
import { sendGridMs, sendLattice } from '../sender/send-grid.ts';
import { groupG711Tracks } from './sample-groups.ts';
import type { MediaEntry, ServedTrack } from './media-entry.ts';

export type { MediaEntry, ServedTrack } from './media-entry.ts';

const log = createLogger('catalog');

export interface CatalogOptions {
  maxPayloadSize: number;
  cache?: ChunkCache;
  /** Close a file this long after its last session released it. */
  idleCloseMs?: number;
  /** Where prepared files go (default `<media root>/.streamlab-cache`, never served itself). */
  cacheDir?: string;
  /** How long DESCRIBE/SETUP wait for a running preparation before 503 + Retry-After (default 3000). */
  prepareWaitMs?: number;
  /** Prepares files that are not MP4/MOV (default: a Preparer on cacheDir). */
  preparer?: MediaPreparer;
  /** How often the output of a running preparation is looked at while it is played (default 200). */
  growingPollMs?: number;
  /**
   * Paths served from elsewhere than the media directory (config `file:`/`folder:` rules): the
   * folder to resolve `urlPath` in, with the same checks (nothing may leave that folder).
   */
  mount?: (urlPath: string) => { rootDir: string; urlPath: string } | undefined;
}

export const DEFAULT_PREPARE_WAIT_MS = 3000;

/** Errors of the native reader that mean "ask ffmpeg": not MP4/MOV at all, or fragmented MP4. */
function needsPreparation(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return code === 'MEDIA_ERR_NOT_MP4' || code === 'MEDIA_ERR_FRAGMENTED';
}

/** Seconds a client should wait before asking again, from the job's progress (1..600). */
export function retryAfterSec(job: PreparationJob): number {
  const eta = job.progress().etaSec;
  if (eta === undefined || !Number.isFinite(eta)) return 2;
  return Math.min(600, Math.max(1, Math.ceil(eta)));
}

/** Dynamic payload types (RFC 3551 §3) are given in track order: 96, 97, ... */
const FIRST_DYNAMIC_PT = 96;

/** Opens a file directly (also used by `streamlab probe`), without the catalog's sharing. */
export async function openMediaEntry(
  filePath: string,
  relPath: string,
  maxPayloadSize: number,
  cache: ChunkCache,
  prepared?: PreparedMedia,
): Promise<MediaEntry> {
  const read = prepared?.outputPath ?? filePath;
  // The MPEG-TS reader is loaded by the first prepared file that takes the MP2T route.
  const file = groupG711Tracks(
    prepared?.manifest.route === 'mp2t' ? await (await import('../media/ts-file/index.ts')).openTsFile(read) : await openMp4(read),
  );
  const st = await stat(read);
  const key = `${read}@${st.mtimeMs}:${st.size}`;
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
  const served = tracks.map((t) => t.source.track);
  const sendGrid = sendGridMs(served);
  const lattice = sendLattice(served);
  return {
    relPath,
    filePath,
    file,
    durationSec: file.durationSec,
    tracks,
    skipped,
    refs: 0,
    ...(prepared ? { prepared } : {}),
    ...(sendGrid !== undefined ? { sendGridMs: sendGrid } : {}),
    ...(lattice !== undefined ? { sendLattice: lattice } : {}),
  };
}

/**
 * The media directory as the server sees it: URL paths resolved safely, each file opened once and
 * shared (payloads packetized once per file, track and MTU), closed when no session uses it.
 */
export class MediaCatalog {
  private readonly open = new Map<string, Promise<MediaEntry>>();
  private readonly closeTimers = new Map<string, NodeJS.Timeout>();
  /** Preparations running for files being opened (source path → job). */
  private readonly jobs = new Map<string, PreparationJob>();
  /** Waiters past their deadline for whom the preparation had not started yet (source path → callbacks). */
  private readonly jobListeners = new Map<string, Set<() => void>>();
  readonly cache: ChunkCache;
  readonly cacheDir: string;
  readonly preparer: MediaPreparer;
  /** The cache dir's real path, once it exists (it is created by the first preparation). */
  private cacheDirReal: string | undefined;
  /** The media roots known to be their own real path (media-path.ts). */
  private readonly roots = new MediaRoots();
  /** Entries whose opening has succeeded, by the promise in `open` they fulfilled. */
  private readonly opened = new WeakMap<Promise<MediaEntry>, MediaEntry>();
  /** Outputs of running preparations played while they are written. */
  private readonly growing: GrowingEntries;

  constructor(
    readonly rootDir: string,
    private readonly opts: CatalogOptions,
  ) {
    this.cache = opts.cache ?? new ChunkCache();
    this.cacheDir = path.resolve(opts.cacheDir ?? path.join(rootDir, DEFAULT_CACHE_DIR_NAME));
    this.preparer = opts.preparer ?? new LazyPreparer({ cacheDir: this.cacheDir });
    this.growing = new GrowingEntries({
      maxPayloadSize: opts.maxPayloadSize,
      cache: this.cache,
      ...(opts.growingPollMs !== undefined ? { pollMs: opts.growingPollMs } : {}),
      ...(opts.idleCloseMs !== undefined ? { idleCloseMs: opts.idleCloseMs } : {}),
    });
  }

  /**
   * Whether the cache dir exists now. Synchronous on purpose: one stat of a local directory, no
   * Error built when it is missing (a promise would reject with one on every request until the
   * first preparation creates it), and no trip through the thread pool.
   */
  private cacheDirExists(): boolean {
    try {
      return statSync(this.cacheDir, { throwIfNoEntry: false }) !== undefined;
    } catch {
      return false;
    }
  }

  /** True when `filePath` (a real path) lies in the cache dir: prepared files are not URLs. */
  private async inCacheDir(filePath: string): Promise<boolean> {
    // Not created yet: looked for again next time (a file can only be in it once it exists).
    if (this.cacheDirReal === undefined && this.cacheDirExists()) this.cacheDirReal = await realpath(this.cacheDir).catch(() => undefined);
    const dir = this.cacheDirReal ?? this.cacheDir;
    return filePath === dir || filePath.startsWith(dir + path.sep) || filePath.startsWith(this.cacheDir + path.sep);
  }

  /**
   * Opens natively when our reader serves every audio/video track of the file; otherwise (not
   * MP4/MOV, fragmented, or a track we do not packetize such as VP9 or AC-3 in MP4) prepares it
   * through ffmpeg first. When that fails, an MP4 that has some served tracks is served with those.
   */
  private async openAny(filePath: string, relPath: string): Promise<MediaEntry> {
    let native: MediaEntry | undefined;
    try {
      const opened = await openMediaEntry(filePath, relPath, this.opts.maxPayloadSize, this.cache);
      native = opened;
      const unserved = opened.skipped.filter((s) => opened.file.tracks.find((t) => t.id === s.id)?.kind !== 'other');
      if (unserved.length === 0) return native;
      log.debug('tracks not served natively: preparing', { path: relPath, skipped: unserved.map((s) => s.codec).join(' ') });
      if (native.tracks.length === 0) {
        await native.file.close();
        native = undefined;
      }
    } catch (err) {
      if (!needsPreparation(err)) throw err;
    }
    const job = this.preparer.prepare(filePath);
    this.jobs.set(filePath, job);
    this.preparationStats.started++;
    this.growing.start(filePath, relPath, job);
    for (const f of this.jobListeners.get(filePath) ?? []) f();
    this.jobListeners.delete(filePath);
    try {
      const prepared = await job.done;
      const entry = await openMediaEntry(filePath, relPath, this.opts.maxPayloadSize, this.cache, prepared).catch((err: unknown) => {
        this.preparer.release?.(prepared.outputPath);
        throw err;
      });
      if (native) await native.file.close();
      this.preparationStats.succeeded++;
      return entry;
    } catch (err) {
      this.preparationStats.failed++;
      if (!native) throw err;
      log.info('preparation failed: serving the tracks read natively', { path: relPath, error: String(err) });
      return native;
    } finally {
      this.jobs.delete(filePath);
      this.growing.supersede(filePath);
    }
  }

  /**
   * Waits for an entry being opened; when a preparation is still running after prepareWaitMs,
   * answers 503 with a Retry-After from its progress (the preparation goes on).
   */
  private async waitBounded(filePath: string, relPath: string, p: Promise<MediaEntry>): Promise<MediaEntry> {
    let settled = false;
    const mark = () => {
      settled = true;
    };
    p.then(mark, mark);
    let timer: NodeJS.Timeout | undefined;
    // A preparation whose output can be played while it is written ends the wait as soon as
    // that output is ready (growing-entry.ts).
    let cancelGrowing: () => void = () => undefined;
    let growingEntry: MediaEntry | undefined;
    const growingReady = new Promise<void>((resolve) => {
      const watch = () => {
        cancelGrowing = this.growing.whenReady(filePath, (e) => {
          growingEntry = e;
          resolve();
        });
      };
      if (this.jobs.has(filePath)) watch();
      else {
        const set = this.jobListeners.get(filePath) ?? new Set();
        const onJob = () => watch();
        set.add(onJob);
        this.jobListeners.set(filePath, set);
        const prev = cancelGrowing;
        cancelGrowing = () => {
          prev();
          set.delete(onJob);
          if (set.size === 0 && this.jobListeners.get(filePath) === set) this.jobListeners.delete(filePath);
        };
      }
    });
    await Promise.race([
      p.catch(() => undefined),
      growingReady,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, this.opts.prepareWaitMs ?? DEFAULT_PREPARE_WAIT_MS))),
    ]);
    clearTimeout(timer);
    cancelGrowing();
    if (!settled && growingEntry && this.growing.current(filePath) === growingEntry) return growingEntry;
    if (!settled && !this.jobs.has(filePath)) {
      // Past the deadline and still opening natively: wait for that to end, or for it to hand the
      // file to the preparer (then 503 at once).
      let listener: () => void = () => undefined;
      const started = new Promise<void>((resolve) => (listener = resolve));
      const set = this.jobListeners.get(filePath) ?? new Set();
      set.add(listener);
      this.jobListeners.set(filePath, set);
      await Promise.race([p.catch(() => undefined), started]);
      const cur = this.jobListeners.get(filePath);
      cur?.delete(listener);
      if (cur?.size === 0) this.jobListeners.delete(filePath);
    }
    const job = settled ? undefined : this.jobs.get(filePath);
    const growing = job ? this.growing.current(filePath) : undefined;
    if (growing) return growing;
    if (job) {
      const p2 = job.progress();
      log.debug('preparation still running', { path: relPath, stage: p2.stage, fraction: p2.fraction });
      throw new RtspError(503, 'SRV_ERR_PREPARING', `${relPath}: being prepared (${p2.stage})`, {
        'Retry-After': String(retryAfterSec(job)),
      });
    }
    return p;
  }

  /**
   * Resolves an URL path (already split from the track part) and opens the file, shared. `control`
   * (SETUP's track) lets a client that described the output of a running preparation set up that
   * track even when the preparation finished in between.
   */
  async acquire(urlPath: string, control?: string): Promise<MediaEntry> {
    const mounted = this.opts.mount?.(urlPath);
    const found = await resolveMediaPath(mounted?.rootDir ?? this.rootDir, mounted?.urlPath ?? urlPath, this.roots);
    // A mounted file keeps the name it is asked by (and the cache key of its real path).
    const r = found.ok && mounted ? { ...found, relPath: safeRelativePath(urlPath) ?? found.relPath } : found;
    if (!r.ok) {
      log.debug('not found', { path: urlPath, reason: r.reason });
      throw notFound(`${urlPath}: ${r.reason}`);
    }
    if (await this.inCacheDir(r.filePath)) throw notFound(`${urlPath}: the preparation cache is not served`);
    const described = this.growing.find(r.filePath, control);
    if (described) {
      described.refs++;
      this.growing.acquired(described);
      return described;
    }
    let p = this.open.get(r.filePath);
    if (!p) {
      p = this.openAny(r.filePath, r.relPath).catch((err: unknown) => {
        this.open.delete(r.filePath);
        throw openFailureError(err, r.relPath);
      });
      // Nobody may be waiting when it settles (every DESCRIBE got 503): never an unhandled
      // rejection, and an entry nobody took is closed after the idle time like a released one.
      const opening = p;
      opening.then(
        (e) => {
          this.opened.set(opening, e);
          if (e.refs === 0 && !this.closeTimers.has(e.filePath)) this.closeLater(e);
        },
        () => undefined,
      );
      this.open.set(r.filePath, p);
    }
    // Opened already (the common case: every join after the first): nothing to wait for.
    const entry = this.opened.get(p) ?? (await this.waitBounded(r.filePath, r.relPath, p));
    if (entry.tracks.length === 0) throw new RtspError(415, 'SRV_ERR_NO_TRACKS', `${r.relPath}: no streamable track`);
    entry.refs++;
    if (entry.growth) {
      this.growing.acquired(entry);
      return entry;
    }
    const t = this.closeTimers.get(r.filePath);
    if (t) {
      clearTimeout(t);
      this.closeTimers.delete(r.filePath);
    }
    return entry;
  }

  /** Preparations this catalog started (cache hits included: the preparer answers them) and how they ended. */
  readonly preparationStats = { started: 0, succeeded: 0, failed: 0 };

  /** Preparations running now. */
  get preparationsRunning(): number {
    return this.jobs.size;
  }

  /** Absolute paths of the files open now (opening or opened). */
  openFiles(): string[] {
    return [...this.open.keys()];
  }

  release(entry: MediaEntry): void {
    entry.refs--;
    if (entry.growth) return this.growing.released(entry);
    if (entry.refs > 0) return;
    this.closeLater(entry);
  }

  private closeLater(entry: MediaEntry): void {
    const t = setTimeout(() => {
      this.closeTimers.delete(entry.filePath);
      if (entry.refs > 0) return;
      this.open.delete(entry.filePath);
      void entry.file.close();
      // The prepared file may be evicted from the cache now (least recently used first).
      if (entry.prepared) this.preparer.release?.(entry.prepared.outputPath);
    }, this.opts.idleCloseMs ?? 30_000);
    t.unref();
    this.closeTimers.set(entry.filePath, t);
  }

  async close(): Promise<void> {
    await this.growing.close();
    await this.preparer.close?.();
    for (const t of this.closeTimers.values()) clearTimeout(t);
    this.closeTimers.clear();
    const entries = await Promise.allSettled(this.open.values());
    this.open.clear();
    for (const e of entries) if (e.status === 'fulfilled') await e.value.file.close();
  }
}
