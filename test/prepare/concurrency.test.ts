/**
 * The Preparer runs at most `maxConcurrent` preparations at once and queues the rest in order
 * (stage 'queued', first come first served), so a client asking for many unprepared files cannot start an ffmpeg for each.
 * Real ffmpeg on tiny µ-law WAV files (remuxed into MOV).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Preparer, PREPARE_MAX_CONCURRENT } from '../../src/media/prepare/index.ts';
import { ffmpegMake } from '../helpers/ffmpeg.ts';
import { describeWithPeers } from '../helpers/peers.ts';

describeWithPeers('preparations at once', ['ffmpeg', 'ffprobe'], () => {
  let dir: string;
  let files: string[];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-prep-conc-'));
    files = [0, 1, 2, 3].map((i) => path.join(dir, `tone${i}.wav`));
    for (const [i, f] of files.entries()) {
      await ffmpegMake(f, [
        '-f',
        'lavfi',
        '-i',
        `sine=frequency=${300 + 100 * i}:sample_rate=8000`,
        '-t',
        '0.5',
        '-ac',
        '1',
        '-c:a',
        'pcm_mulaw',
      ]);
    }
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('one at a time with maxConcurrent 1: the others wait their turn (first come, first served), all succeed', async () => {
    const p = new Preparer({ cacheDir: path.join(dir, 'cache1'), maxConcurrent: 1 });
    const jobs = files.map((f) => p.prepare(f));
    const order: number[] = [];
    const finished = Promise.all(jobs.map((j, i) => j.done.then(() => order.push(i))));
    // Sampled at every turn of the event loop until all are done: at most one job has left
    // 'queued' without finishing, jobs finish in the order they left the queue (the order they
    // reach it follows their file reads, not necessarily the call order), and at some moment
    // one was running while the other three waited.
    const startOrder: number[] = [];
    let sawOneAlone = false;
    while (order.length < jobs.length) {
      const started = jobs.map((j) => j.progress().stage !== 'queued');
      for (const [i, s] of started.entries()) if (s && !startOrder.includes(i)) startOrder.push(i);
      const running = started.filter((s, i) => s && !order.includes(i)).length;
      expect(running, String(started)).toBeLessThanOrEqual(1);
      if (started.filter(Boolean).length === 1 && order.length === 0) sawOneAlone = true;
      await new Promise((r) => setImmediate(r));
    }
    await finished;
    expect(sawOneAlone).toBe(true);
    expect([...order].sort()).toEqual([0, 1, 2, 3]);
    expect(order).toEqual(startOrder);
    expect(p.stats).toMatchObject({ ffmpegRuns: 4, failed: 0, peakConcurrent: 1 });
  });

  it(`at most ${PREPARE_MAX_CONCURRENT} by default, and cache hits never wait`, async () => {
    const cacheDir = path.join(dir, 'cache2');
    const p = new Preparer({ cacheDir });
    await Promise.all(files.map((f) => p.prepare(f).done));
    expect(p.stats).toMatchObject({ ffmpegRuns: 4, failed: 0, peakConcurrent: PREPARE_MAX_CONCURRENT });
    const again = new Preparer({ cacheDir, maxConcurrent: 1 });
    const done = await Promise.all(files.map((f) => again.prepare(f).done));
    expect(done.every((d) => d.reused)).toBe(true);
    expect(again.stats).toMatchObject({ ffmpegRuns: 0, reused: 4, peakConcurrent: 0 });
  });
});
