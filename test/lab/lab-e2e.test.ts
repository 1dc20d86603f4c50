import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packetFates } from '../../src/impair/index.ts';
import { expandRuns, parseExperimentText, runExperiment, runFast, runRealtime, trackResult } from '../../src/lab/index.ts';
import type { RunResult } from '../../src/lab/index.ts';
import { tryLocate } from '../../src/media/ffmpeg/index.ts';

const MEDIA = path.resolve('media/sample.mp4');
const out = mkdtempSync(path.join(os.tmpdir(), 'streamlab-lab-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function experiment(mode: 'fast' | 'realtime', quality: boolean) {
  return parseExperimentText(
    JSON.stringify({
      name: `e2e-${mode}`,
      media: MEDIA,
      durationSec: 3,
      seeds: [3],
      quality,
      matrix: { netem: ['loss random 2%', 'loss gemodel 4% 40%'], jitter: ['adaptive'], transport: ['udp'] },
    }),
    'e2e.json',
    { mode },
  );
}

function checkAgainstTruth(results: RunResult[]): void {
  expect(results).toHaveLength(2);
  for (const r of results) {
    expect(r.status, r.reason).toBe('ok');
    const video = r.tracks.find((t) => t.media === 'video')!;
    expect(video.truth.reordered).toBe(0);
    expect(video.truth.sent).toBeGreaterThan(100);
    expect(video.truth.window).toBeDefined();
    // No reordering, no duplicates: RTCP's cumulative lost is exactly the packets dropped in its window.
    expect(video.rtcp.cumulativeLost).toBe(video.truth.window!.lost);
    expect(video.rtcp.cumulativeLostError).toBe(0);
    expect(video.receiver.lost).toBe(video.truth.window!.lost);
    // The receiver saw every packet of its window that the emulator delivered.
    expect(video.receiver.received).toBe(video.truth.window!.packets - video.truth.window!.lost);
    expect(r.audio!.mos).toBeGreaterThanOrEqual(1);
    expect(r.audio!.mos).toBeLessThanOrEqual(4.5);
  }
  // Different loss levels, different ground truth.
  expect(results[0]!.tracks[0]!.truth.lost).not.toBe(results[1]!.tracks[0]!.truth.lost);
}

function checkFiles(dir: string): RunResult[] {
  for (const f of [
    'results.json',
    'results.csv',
    'index.html',
    'loss.svg',
    'loss.png',
    'burst-mean.svg',
    'burst-mean.png',
    'playout-delay.svg',
  ]) {
    expect(existsSync(path.join(dir, f)), f).toBe(true);
  }
  const json = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as {
    complete: boolean;
    runs: RunResult[];
    provenance: { gitCommit?: string; streamlabVersion?: string };
  };
  expect(json.complete).toBe(true);
  expect(json.provenance.streamlabVersion).toMatch(/^\d+\.\d+\.\d+/);
  expect(json.provenance.gitCommit).toMatch(/^[0-9a-f]{40}$/);
  for (const r of json.runs.filter((x) => x.status === 'ok')) {
    // Packet-level output: both captures and the fate log of every track.
    for (const f of ['track-0-sent.pcap', 'track-0-arrived.pcap', 'track-0-fates.jsonl']) expect(r.captures).toContain(f);
    expect(existsSync(path.join(dir, 'runs', r.id, 'track-0-sent.pcap'))).toBe(true);
  }
  const csv = readFileSync(path.join(dir, 'results.csv'), 'utf8').trim().split('\n');
  expect(csv).toHaveLength(1 + json.runs.length);
  expect(readFileSync(path.join(dir, 'loss.svg'), 'utf8')).toMatch(/^<svg/);
  expect(readFileSync(path.join(dir, 'index.html'), 'utf8')).toContain('<img src="loss.png"');
  // PNG signature.
  expect(readFileSync(path.join(dir, 'loss.png')).subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  return json.runs;
}

describe('streamlab lab end to end', () => {
  it('fast: two loss levels in simulated time, PSNR/SSIM of the recordings', async () => {
    const dir = path.join(out, 'fast');
    const t0 = performance.now();
    const o = await runExperiment(experiment('fast', tryLocate('ffmpeg') !== undefined), { outDir: dir, progress: undefined });
    expect(o.stopped).toBe(false);
    const runs = checkFiles(dir);
    checkAgainstTruth(runs);
    if (tryLocate('ffmpeg')) {
      const v = runs[0]!.video!;
      expect(v.error).toBeUndefined();
      expect(v.sourceFrames).toBe(75);
      expect(v.psnrMean).toBeGreaterThan(10);
      expect(v.comparedFrames).toBe(75);
      // The PSNR of the mean MSE is never above the mean of the per-frame PSNRs (Jensen).
      expect(v.psnrDb!).toBeLessThanOrEqual(v.psnrMean! + 1e-9);
      expect(v.ssimMean).toBeGreaterThan(0.3);
      expect(existsSync(path.join(dir, 'runs', runs[0]!.id, 'quality.csv'))).toBe(true);
    }
    // Three seconds of media each, without real time: well under the 6 s they would take.
    expect(performance.now() - t0).toBeLessThan(30_000);
  }, 60_000);

  it('real time: two loss levels over loopback UDP', async () => {
    const dir = path.join(out, 'realtime');
    await runExperiment(experiment('realtime', false), { outDir: dir });
    const runs = checkFiles(dir);
    checkAgainstTruth(runs);
    for (const r of runs) {
      expect(r.eventLoop!.maxMs).toBeGreaterThan(0);
      // Read from /proc/net/udp for the receiver's sockets (a count, usually 0 here).
      expect(r.kernelDrops).toBeGreaterThanOrEqual(0);
    }
  }, 60_000);

  it('simulated and real-time runs agree on the ground-truth-driven figures (same seed → same fates)', async () => {
    const spec = expandRuns(experiment('fast', false))[1]!;
    const fast = await runFast(spec, undefined);
    const real = await runRealtime({ ...spec, mode: 'realtime' }, undefined);
    for (const track of [0, 1]) {
      const a = packetFates(fast.fates[track]!).map((p) => p.lost);
      const b = packetFates(real.fates[track]!).map((p) => p.lost);
      const n = Math.min(a.length, b.length);
      expect(n).toBeGreaterThan(50);
      // The packets are the same and so are the emulator's decisions for them.
      expect(b.slice(0, n)).toEqual(a.slice(0, n));
      const fr = trackResult(fast.receivers[track]!, fast.fates[track]!, fast.seq0[track], fast.reports[track]!);
      const rr = trackResult(
        real.receivers.find((r) => r.track.index === track)!,
        real.fates[track]!,
        real.seq0[track],
        real.reports[track]!,
      );
      expect(fr.rtcp.cumulativeLostError).toBe(0);
      expect(rr.rtcp.cumulativeLostError).toBe(0);
      // RFC 3550 jitter: the sender's pacing dominates it in both; loopback and the event loop add a little.
      expect(Math.abs(fr.receiver.jitterMs - rr.receiver.jitterMs)).toBeLessThan(Math.max(5, 0.5 * fr.receiver.jitterMs));
    }
  }, 60_000);

  it('real time under delay jitter: a defined end of run, both sides count the same packets', async () => {
    // Jitter holds and reorders packets: at the end some are still in flight. The run ends with
    // PAUSE, waits until the emulators hold nothing, and has the final RRs reach the server before
    // TEARDOWN: every packet the emulator delivered was received, and the server's last RR is the
    // receiver's final count (before, in-flight packets were delivered after TEARDOWN and the
    // final RR could miss the server).
    const text = JSON.stringify({
      name: 'e2e-jitter',
      media: MEDIA,
      durationSec: 3,
      seeds: [5],
      quality: false,
      matrix: { netem: ['loss random 3% delay 60ms 40ms'], jitter: ['adaptive'], transport: ['udp'] },
    });
    const spec = expandRuns(parseExperimentText(text, 'e2e-jitter.json', { mode: 'realtime' }))[0]!;
    const real = await runRealtime(spec, undefined);
    expect(real.receivers).toHaveLength(2);
    for (const rx of real.receivers) {
      const i = rx.track.index;
      const fates = real.fates[i]!;
      const t = trackResult(rx, fates, real.seq0[i], real.reports[i]!);
      expect(t.truth.reordered, `track ${i}`).toBeGreaterThan(0);
      expect(rx.counters.packets, `track ${i}: received vs delivered by the emulator`).toBe(fates.filter((f) => !f.dropped).length);
      expect(t.rtcp.cumulativeLost, `track ${i}: the server's last RR vs the receiver's final count`).toBe(t.receiver.lost);
    }
  }, 60_000);
});

describe('stopping', () => {
  it('a stop request ends the matrix after the run in progress, with everything so far written', async () => {
    const dir = path.join(out, 'stopped');
    const e = parseExperimentText(
      JSON.stringify({ media: MEDIA, durationSec: 1, seeds: [1, 2, 3], quality: false, matrix: { netem: ['loss 1%'] } }),
      'stop.json',
      { mode: 'fast' },
    );
    const abort = new AbortController();
    const o = await runExperiment(e, { outDir: dir, signal: abort.signal, onRun: () => abort.abort() });
    expect(o.stopped).toBe(true);
    expect(o.results).toHaveLength(1);
    const json = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as {
      complete: boolean;
      planned: number;
      finished: number;
    };
    expect(json).toMatchObject({ complete: false, planned: 3, finished: 1 });
  }, 30_000);

  it('a failed run is recorded with its reason and the matrix goes on', async () => {
    const dir = path.join(out, 'failing');
    const e = parseExperimentText(
      JSON.stringify({ durationSec: 1, seeds: [1], quality: false, matrix: { media: [MEDIA, '/nonexistent/missing.mp4'] } }),
      'fail.json',
      { mode: 'fast' },
    );
    const o = await runExperiment(e, { outDir: dir });
    expect(o.results.map((r) => r.status).sort()).toEqual(['failed', 'ok']);
    const failed = o.results.find((r) => r.status === 'failed')!;
    expect(failed.reason).toMatch(/ENOENT|no such file|missing/i);
    expect(readFileSync(path.join(dir, 'results.csv'), 'utf8')).toContain('failed');
  }, 30_000);
});
