/**
 * The catalog's side of preparation, with an injected preparer whose jobs the test finishes by
 * hand: a file the MP4 reader cannot read is handed to the preparer once; while it runs, acquire
 * waits prepareWaitMs and then fails with 503 + Retry-After from the job's progress; when it is
 * done the prepared file is served (and released to the preparer when closed); a failed
 * preparation is 415; the cache dir is never a URL.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PrepareError } from '../../src/media/prepare/index.ts';
import type { MediaPreparer, PreparationJob, PreparedMedia, PrepareProgress } from '../../src/media/prepare/index.ts';
import { MediaCatalog, retryAfterSec } from '../../src/server/media-catalog.ts';
import { RtspError } from '../../src/server/errors.ts';
import { SAMPLE } from '../helpers/server.ts';
import { waitUntil } from '../helpers/wait.ts';

class HandPreparer implements MediaPreparer {
  readonly calls: string[] = [];
  readonly pending = new Map<string, { resolve: (m: PreparedMedia) => void; reject: (e: Error) => void }>();
  progress: PrepareProgress = { stage: 'transcode', elapsedMs: 0 };
  /** Prepared files the catalog let go of (the cache may evict them then). */
  readonly released: string[] = [];

  release(outputPath: string): void {
    this.released.push(outputPath);
  }

  prepare(filePath: string): PreparationJob {
    this.calls.push(filePath);
    const done = new Promise<PreparedMedia>((resolve, reject) => this.pending.set(filePath, { resolve, reject }));
    return { sourcePath: filePath, done, progress: () => this.progress };
  }
}

const preparedSample = (): PreparedMedia => ({
  outputPath: SAMPLE,
  reused: false,
  manifest: {
    recipe: 1,
    source: { path: 'x', size: 1, mtimeMs: 1 },
    output: 'sample.mp4',
    route: 'mp4',
    summary: 'remux',
    streams: [],
    elapsedMs: 1,
    preparedAt: '',
  },
});

async function status(p: Promise<unknown>): Promise<{ status: number; headers: Record<string, string> } | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (!(e instanceof RtspError)) throw e;
    return { status: e.status, headers: e.headers };
  }
}

describe('MediaCatalog with a preparation running', () => {
  let dir: string;
  let prep: HandPreparer;
  let catalog: MediaCatalog;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-catalog-'));
    await writeFile(path.join(dir, 'clip.mkv'), Buffer.from('\x1aE\xdf\xa3 not an MP4 box'));
    await writeFile(path.join(dir, 'broken.avi'), Buffer.from('RIFF....AVI '));
    prep = new HandPreparer();
    catalog = new MediaCatalog(dir, { maxPayloadSize: 1400, prepareWaitMs: 30, preparer: prep });
  });

  afterEach(async () => {
    for (const p of prep.pending.values()) p.reject(new Error('test over'));
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After from the progress while preparing, once per file, then serves the prepared file', async () => {
    prep.progress = { stage: 'transcode', elapsedMs: 2000, fraction: 0.2, etaSec: 7.2 };
    expect(await status(catalog.acquire('clip.mkv'))).toEqual({ status: 503, headers: { 'Retry-After': '8' } });
    prep.progress = { stage: 'transcode', elapsedMs: 3000, fraction: 0.4 };
    expect(await status(catalog.acquire('clip.mkv'))).toEqual({ status: 503, headers: { 'Retry-After': '2' } });
    expect(prep.calls).toEqual([path.join(dir, 'clip.mkv')]);
    prep.pending.get(path.join(dir, 'clip.mkv'))!.resolve(preparedSample());
    const entry = await catalog.acquire('clip.mkv');
    expect(entry.prepared?.outputPath).toBe(SAMPLE);
    expect(entry.relPath).toBe('clip.mkv');
    expect(entry.tracks.map((t) => t.source.format.rtpmap)).toEqual(['H264/90000', 'mpeg4-generic/48000/2']);
    catalog.release(entry);
    expect(prep.calls).toHaveLength(1);
  });

  it('a deadline that passes before the native reader gave up still ends in 503 once the preparation starts', async () => {
    // A zero wait always expires while openMp4 is still reading the file's first bytes.
    const hasty = new MediaCatalog(dir, { maxPayloadSize: 1400, prepareWaitMs: 0, preparer: prep });
    expect(await status(hasty.acquire('clip.mkv'))).toEqual({ status: 503, headers: { 'Retry-After': '2' } });
    expect(prep.calls).toHaveLength(1);
    prep.pending.get(path.join(dir, 'clip.mkv'))!.reject(new Error('test over'));
    await hasty.close();
  });

  it('a preparation that finishes within the wait is answered at once (no 503)', async () => {
    const patient = new MediaCatalog(dir, { maxPayloadSize: 1400, prepareWaitMs: 10_000, preparer: prep });
    const p = patient.acquire('clip.mkv');
    await waitUntil(() => prep.pending.has(path.join(dir, 'clip.mkv')), 5000, 'the preparation to start');
    setTimeout(() => prep.pending.get(path.join(dir, 'clip.mkv'))!.resolve(preparedSample()), 20);
    expect(await status(p)).toBe('ok');
    await patient.close();
  });

  it('an entry prepared after every waiter got 503 and never asked for again is closed after the idle time', async () => {
    const idle = new MediaCatalog(dir, { maxPayloadSize: 1400, prepareWaitMs: 10, preparer: prep, idleCloseMs: 50 });
    expect(await status(idle.acquire('clip.mkv'))).toMatchObject({ status: 503 });
    expect(idle.openFiles()).toEqual([path.join(dir, 'clip.mkv')]);
    prep.pending.get(path.join(dir, 'clip.mkv'))!.resolve(preparedSample());
    await waitUntil(() => idle.openFiles().length === 0, 5000, 'the unused entry to close');
    // Closed: the prepared file is the preparer's again (evictable), once.
    expect(prep.released).toEqual([SAMPLE]);
    await idle.close();
  });

  it('a failed preparation is 415 (and nothing is left unhandled)', async () => {
    // Waits long enough that the failure, not the wait's end, answers (a loaded machine polls late).
    const patient = new MediaCatalog(dir, { maxPayloadSize: 1400, prepareWaitMs: 10_000, preparer: prep });
    const p = patient.acquire('broken.avi');
    p.catch(() => undefined);
    await waitUntil(() => prep.pending.has(path.join(dir, 'broken.avi')), 5000, 'the preparation to start');
    prep.pending.get(path.join(dir, 'broken.avi'))!.reject(new PrepareError('PREP_ERR_PROBE', 'not media'));
    expect(await status(p)).toMatchObject({ status: 415 });
    await patient.close();
  });

  it('a preparation failing after every waiter got 503 does not crash anything; the next request is 415 or prepares again', async () => {
    expect(await status(catalog.acquire('broken.avi'))).toMatchObject({ status: 503 });
    prep.pending.get(path.join(dir, 'broken.avi'))!.reject(new PrepareError('PREP_ERR_FFMPEG', 'boom'));
    await new Promise((r) => setTimeout(r, 10));
    expect(await status(catalog.acquire('broken.avi'))).toMatchObject({ status: 503 });
    expect(prep.calls).toHaveLength(2);
  });

  it('never serves the cache dir', async () => {
    await mkdir(path.join(dir, '.streamlab-cache'));
    await writeFile(path.join(dir, '.streamlab-cache', 'x.mp4'), Buffer.alloc(16));
    expect(await status(catalog.acquire('.streamlab-cache/x.mp4'))).toMatchObject({ status: 404 });
    expect(prep.calls).toEqual([]);
  });

  it('Retry-After: 2 s without an estimate, else the estimate rounded up, within 1..600', () => {
    const job = (p: Partial<PrepareProgress>): PreparationJob => ({
      sourcePath: '',
      done: new Promise(() => undefined),
      progress: () => ({ stage: 'x', elapsedMs: 0, ...p }),
    });
    expect(retryAfterSec(job({}))).toBe(2);
    expect(retryAfterSec(job({ etaSec: 0.1 }))).toBe(1);
    expect(retryAfterSec(job({ etaSec: 12.01 }))).toBe(13);
    expect(retryAfterSec(job({ etaSec: 1e6 }))).toBe(600);
  });
});
