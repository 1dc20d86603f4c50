/**
 * Runs preparations: probe, plan, ffmpeg (through fluent-ffmpeg) into a temporary name in the cache
 * dir, rename into place, manifest last. One preparation per source file at a time in the process
 * (later callers share the running job); a finished one is found again through the manifest by
 * any later caller or process, without running ffprobe or ffmpeg. A failure is remembered for that
 * source identity (a changed file is tried again).
 */
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { FfmpegCommand } from 'fluent-ffmpeg';
import { createLogger } from '../../util/log.ts';
import { locate } from '../ffmpeg/index.ts';
import { cacheKey, evictLeastRecentlyUsed, PREPARE_RECIPE_VERSION, readManifest, sourceIdentity, touchManifest, writeManifest } from './cache.ts';
import type { EvictionResult, Manifest } from './cache.ts';
import { ffmpegOutputArgs, growingRoute, planPreparation, remuxTsArgs, routeExtension } from './plan.ts';
import type { PrepareOptions } from './plan.ts';
import { PrepareError, loadFluentFfmpeg, probeFile, refusedError } from './probe.ts';
import { guardedInputOptions, refusedFormatIn } from './input-guard.ts';
import { realClock } from '../../util/clock.ts';
import type { Clock } from '../../util/clock.ts';

const log = createLogger('prepare');

export interface PreparedMedia {
  /** Absolute path of the prepared file. */
  outputPath: string;
  manifest: Manifest;
  /** True when an earlier preparation was found (no ffmpeg run). */
  reused: boolean;
}

export interface PrepareProgress {
  /** 0..1 of the source duration written so far; undefined until ffmpeg reports. */
  fraction?: number;
  /** Since the job started. */
  elapsedMs: number;
  /** Remaining time estimated from the progress so far. */
  etaSec?: number;
  /** What is being done: 'queued' (waiting for a free slot), 'probe', 'remux', 'transcode', 'mp2t'. */
  stage: string;
}

/**
 * The transport stream a running preparation writes, readable while it grows (see plan.ts,
 * growingRoute): the MP2T route's own output, or a transcode's intermediate TS.
 */
export interface GrowingOutput {
  /** Absolute path of the TS being written (renamed or removed once the job is done). */
  path: string;
  /** Resolves when ffmpeg has finished writing it, rejects when the preparation failed. */
  written: Promise<void>;
}

export interface PreparationJob {
  sourcePath: string;
  done: Promise<PreparedMedia>;
  progress(): PrepareProgress;
  /**
   * Settles once the job knows: the TS it writes and that can be played while it grows, or
   * undefined (the output is not readable before it is done, the file was already prepared, or
   * the job failed before writing).
   */
  growing?: Promise<GrowingOutput | undefined>;
}

/** What the media catalog needs: tests inject their own. */
export interface MediaPreparer {
  prepare(filePath: string): PreparationJob;
  /**
   * The caller no longer reads a prepared file this preparer handed out (every successful
   * prepare() holds its output until then: the cache never evicts it meanwhile).
   */
  release?(outputPath: string): void;
  close?(): Promise<void>;
}

export interface PreparerOptions {
  cacheDir: string;
  options?: PrepareOptions;
  /** Called on every ffmpeg progress report (the CLI's and the server's progress bar). */
  onProgress?: (job: PreparationJob, p: PrepareProgress) => void;
  /** Times preparations (elapsedMs, the ETA); default realClock. */
  clock?: Clock;
  /**
   * Preparations that probe or run ffmpeg at the same time (default PREPARE_MAX_CONCURRENT); more
   * wait their turn in order ('queued'), so a client asking for many files cannot start an ffmpeg
   * per file. Cache hits never wait.
   */
  maxConcurrent?: number;
  /**
   * Size limit of the cache dir's finished entries: after each new preparation the least recently
   * used entries not in use are removed until the rest fit (cache.ts). Default: no limit.
   */
  maxCacheBytes?: number;
}

/** Default number of preparations at once: a transcode already uses every core it gets. */
export const PREPARE_MAX_CONCURRENT = 2;

/** Temporary names: `.<key>.tmp-<pid>-<ms>.<ext>` (prepared files), `<key>.json.tmp-<pid>-<ms>` (manifests). */
const TEMP_NAME = /^\.?[0-9a-f]{20}(?:\.json)?\.tmp-(\d+)-\d+/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temporary files left in the cache dir by processes that died while preparing (a live
 * process's temporary files are its own business). Returns the names removed.
 */
export async function removeStaleTemporaries(cacheDir: string): Promise<string[]> {
  const names = await readdir(cacheDir).catch(() => [] as string[]);
  const stale = names.filter((n) => {
    const m = TEMP_NAME.exec(n);
    return m !== null && Number(m[1]) !== process.pid && !alive(Number(m[1]));
  });
  await Promise.all(stale.map((n) => rm(path.join(cacheDir, n), { force: true })));
  return stale;
}

/** `HH:MM:SS.xx` from ffmpeg's status line (`time=00:00:02.04`) in seconds. */
export function parseTimemark(line: string): number | undefined {
  const m = /time=\s*(-?\d+):(\d+):(\d+(?:\.\d+)?)/.exec(line);
  if (!m) return undefined;
  const sec = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  return Number.isFinite(sec) && sec >= 0 ? sec : undefined;
}

export class Preparer implements MediaPreparer {
  private readonly running = new Map<string, PreparationJob>();
  private readonly failed = new Map<string, PrepareError>();
  private readonly commands = new Set<FfmpegCommand>();
  private swept = false;
  private active = 0;
  private readonly queue: (() => void)[] = [];
  /** Prepared files handed out and not released (output name → holders): never evicted. */
  private readonly held = new Map<string, number>();
  private evicting: Promise<unknown> = Promise.resolve();
  readonly stats = { ffmpegRuns: 0, reused: 0, failed: 0, peakConcurrent: 0, evicted: 0 };

  constructor(readonly opts: PreparerOptions) {}

  private get clock(): Clock {
    return this.opts.clock ?? realClock;
  }

  prepare(filePath: string): PreparationJob {
    const abs = path.resolve(filePath);
    const existing = this.running.get(abs);
    if (existing) return existing;
    const clock = this.clock;
    const started = clock.now();
    const state: PrepareProgress = { elapsedMs: 0, stage: 'queued' };
    let announce: (g: GrowingOutput | undefined) => void = () => undefined;
    const job: PreparationJob = {
      sourcePath: abs,
      done: undefined as unknown as Promise<PreparedMedia>,
      progress: () => ({ ...state, elapsedMs: clock.now() - started }),
      growing: new Promise((resolve) => (announce = resolve)),
    };
    job.done = this.run(abs, job, state, started, announce).finally(() => {
      announce(undefined);
      this.running.delete(abs);
    });
    this.running.set(abs, job);
    return job;
  }

  release(outputPath: string): void {
    const name = path.basename(outputPath);
    const n = (this.held.get(name) ?? 0) - 1;
    if (n > 0) this.held.set(name, n);
    else this.held.delete(name);
  }

  private hold(name: string): void {
    this.held.set(name, (this.held.get(name) ?? 0) + 1);
  }

  /**
   * Brings the cache under maxCacheBytes by removing the least recently used entries that are not
   * held (one eviction at a time); undefined without a limit.
   */
  evict(): Promise<EvictionResult | undefined> {
    const max = this.opts.maxCacheBytes;
    if (max === undefined) return Promise.resolve(undefined);
    const run = this.evicting.then(async () => {
      const r = await evictLeastRecentlyUsed(this.opts.cacheDir, max, new Set(this.held.keys()));
      this.stats.evicted += r.evicted.length;
      for (const e of r.evicted) log.info('prepared file evicted (least recently used)', { output: e.output, bytes: e.bytes, lastUsedMs: e.lastUsedMs });
      if (r.bytes > max) log.warn('preparation cache over its limit: the rest is in use', { bytes: r.bytes, maxBytes: max, inUseBytes: r.inUseBytes });
      return r;
    });
    this.evicting = run.catch(() => undefined);
    return run;
  }

  /** Stops running ffmpeg processes (their jobs fail). */
  async close(): Promise<void> {
    for (const c of this.commands) c.kill('SIGKILL');
    this.commands.clear();
    await Promise.allSettled([...this.running.values()].map((j) => j.done));
  }

  private async run(
    abs: string,
    job: PreparationJob,
    state: PrepareProgress,
    started: number,
    announce: (g: GrowingOutput | undefined) => void,
  ): Promise<PreparedMedia> {
    const { cacheDir } = this.opts;
    const id = await sourceIdentity(abs).catch((e: unknown) => {
      throw new PrepareError('PREP_ERR_IO', `${abs}: ${(e as Error).message}`);
    });
    const key = cacheKey(id, this.opts.options);
    const known = this.failed.get(key);
    if (known) throw known;
    const cached = await readManifest(cacheDir, key);
    if (cached) {
      this.stats.reused++;
      this.hold(cached.output);
      await touchManifest(cacheDir, key, this.clock.now());
      log.debug('prepared file reused', { source: abs, output: cached.output });
      return { outputPath: path.join(cacheDir, cached.output), manifest: cached, reused: true };
    }
    const release = await this.slot();
    try {
      state.stage = 'probe';
      const info = await probeFile(abs);
      const plan = planPreparation(info);
      if (!plan.ok) throw new PrepareError('PREP_ERR_UNSUPPORTED', `${abs}: ${plan.reason}`);
      state.stage = plan.summary;
      await mkdir(cacheDir, { recursive: true });
      if (!this.swept) {
        this.swept = true;
        const removed = await removeStaleTemporaries(cacheDir);
        if (removed.length > 0) log.info('removed temporary files of interrupted preparations', { files: removed.join(' ') });
      }
      const ext = routeExtension(plan.route);
      const base = path.basename(abs).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80);
      const output = `${base}-${key}.${ext}`;
      const tmp = path.join(cacheDir, `.${key}.tmp-${process.pid}-${Math.floor(started)}.${ext}`);
      // A route whose output can be played while it grows writes a TS first: the MP2T route's
      // output itself, or a transcode's intermediate, remuxed into MP4 (`-c copy`) at the end.
      const growing = growingRoute(plan);
      const tsTmp = growing === 'mp2t' ? tmp : growing === 'via-ts' ? path.join(cacheDir, `.${key}.tmp-${process.pid}-${Math.floor(started)}.ts`) : undefined;
      log.info('preparing', { source: abs, route: plan.route, action: plan.summary, streams: plan.streams.map((s) => `${s.codec}:${s.action}`).join(' '), growing: tsTmp !== undefined });
      this.stats.ffmpegRuns++;
      try {
        if (tsTmp !== undefined) {
          const written = this.ffmpeg(abs, tsTmp, ffmpegOutputArgs({ ...plan, route: 'mp2t' }, this.opts.options), info.durationSec, job, state, started);
          written.catch(() => undefined);
          announce({ path: tsTmp, written });
          await written;
          if (tsTmp !== tmp) {
            state.stage = 'remux';
            await this.ffmpeg(tsTmp, tmp, remuxTsArgs(plan.route), undefined, job, state, started);
            await rm(tsTmp, { force: true });
          }
        } else {
          announce(undefined);
          await this.ffmpeg(abs, tmp, ffmpegOutputArgs(plan, this.opts.options), info.durationSec, job, state, started);
        }
        await rename(tmp, path.join(cacheDir, output));
        state.fraction = 1;
        state.etaSec = 0;
        this.opts.onProgress?.(job, job.progress());
      } catch (e) {
        await rm(tmp, { force: true });
        if (tsTmp !== undefined) await rm(tsTmp, { force: true });
        throw e;
      }
      const manifest: Manifest = {
        recipe: PREPARE_RECIPE_VERSION,
        source: id,
        output,
        route: plan.route,
        summary: plan.summary,
        streams: plan.streams,
        ...(info.durationSec !== undefined ? { durationSec: info.durationSec } : {}),
        elapsedMs: this.clock.now() - started,
        preparedAt: new Date().toISOString(),
      };
      await writeManifest(cacheDir, key, manifest);
      await touchManifest(cacheDir, key, this.clock.now());
      this.hold(output);
      log.info('prepared', { source: abs, output, route: plan.route, action: plan.summary, ms: manifest.elapsedMs });
      await this.evict().catch((e: unknown) => log.warn('preparation cache eviction failed', { error: String(e) }));
      return { outputPath: path.join(cacheDir, output), manifest, reused: false };
    } catch (e) {
      const err = e instanceof PrepareError ? e : new PrepareError('PREP_ERR_IO', `${abs}: ${(e as Error).message}`);
      this.failed.set(key, err);
      this.stats.failed++;
      log.warn('preparation failed', { source: abs, code: err.code, error: err.message });
      throw err;
    } finally {
      release();
    }
  }

  /** Waits for one of the maxConcurrent slots; the returned function hands it on (in order). */
  private async slot(): Promise<() => void> {
    if (this.active >= (this.opts.maxConcurrent ?? PREPARE_MAX_CONCURRENT)) {
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else {
      this.active++;
    }
    this.stats.peakConcurrent = Math.max(this.stats.peakConcurrent, this.active);
    return () => {
      const next = this.queue.shift();
      if (next) next();
      else this.active--;
    };
  }

  private async ffmpeg(
    input: string,
    output: string,
    args: string[],
    durationSec: number | undefined,
    job: PreparationJob,
    state: PrepareProgress,
    started: number,
  ): Promise<void> {
    const bin = locate('ffmpeg');
    const guard = await guardedInputOptions(bin);
    const ffmpeg = await loadFluentFfmpeg();
    return new Promise((resolve, reject) => {
      const tail: string[] = [];
      const cmd = ffmpeg(input, { stdoutLines: 0 })
        .setFfmpegPath(bin)
        .inputOptions(['-nostdin', ...guard])
        .outputOptions(args)
        .output(output)
        .on('stderr', (line: string) => {
          const t = parseTimemark(line);
          if (t !== undefined && durationSec) {
            state.fraction = Math.min(1, t / durationSec);
            const elapsed = (this.clock.now() - started) / 1000;
            state.etaSec = state.fraction > 0 ? (elapsed * (1 - state.fraction)) / state.fraction : undefined;
            this.opts.onProgress?.(job, job.progress());
          } else if (t === undefined && line.trim()) {
            tail.push(line.trim());
            if (tail.length > 5) tail.shift();
          }
        })
        .on('end', () => {
          this.commands.delete(cmd);
          resolve();
        })
        .on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
          this.commands.delete(cmd);
          const refused = refusedFormatIn(`${tail.join('\n')}\n${stderr ?? ''}`);
          if (refused !== undefined) return reject(refusedError(input, refused));
          reject(new PrepareError('PREP_ERR_FFMPEG', `ffmpeg: ${tail.join(' | ') || err.message.split('\n')[0]}`));
        });
      this.commands.add(cmd);
      cmd.run();
    });
  }
}
