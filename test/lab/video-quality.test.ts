import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PSNR_CAP_DB, measureVideoQuality, mseFromPsnr, psnrFromMse, summarizeQuality } from '../../src/lab/video-quality.ts';
import { locate, tryLocate } from '../../src/media/ffmpeg/index.ts';

describe('quality summary (pure)', () => {
  it('PSNR of the mean MSE, not the mean of capped PSNRs', () => {
    // 9 identical frames (inf) and one frame at 20 dB: MSE 650.25 → mean MSE 65.025 → 30 dB.
    const psnr = new Map<number, number>();
    for (let n = 1; n <= 9; n++) psnr.set(n, Infinity);
    psnr.set(10, 20);
    const ssim = new Map([...psnr.keys()].map((n) => [n, n === 10 ? 0.5 : 1]));
    const s = summarizeQuality(psnr, ssim, 10);
    expect(mseFromPsnr(20)).toBeCloseTo(650.25, 9);
    expect(s.meanMse).toBeCloseTo(65.025, 9);
    expect(s.psnrDb).toBeCloseTo(30, 9);
    // The capped mean would say (9·100 + 20) / 10 = 92 dB.
    expect(s.psnrMean).toBeCloseTo(92, 9);
    expect(s.framesAtCap).toBe(9);
    expect(s.frames).toBe(10);
    expect(s.ssimMean).toBeCloseTo(0.95, 9);
    // 5th percentile of [20, 100 × 9] at index 0.45: 20 + 0.45 · 80 = 56.
    expect(s.psnrP05).toBeCloseTo(56, 9);
    expect(s.psnrMedian).toBe(100);
  });

  it('frames beyond the span are not counted', () => {
    const psnr = new Map([[1, Infinity], [2, Infinity], [3, 25]]);
    const ssim = new Map([[1, 1], [2, 1], [3, 0.7]]);
    const s = summarizeQuality(psnr, ssim, 2);
    expect(s.frames).toBe(2);
    expect(s.psnrDb).toBe(PSNR_CAP_DB);
    expect(s.ssimMean).toBe(1);
  });

  it('the cap holds for MSE 0 and tiny MSEs', () => {
    expect(psnrFromMse(0)).toBe(PSNR_CAP_DB);
    expect(psnrFromMse(1e-12)).toBe(PSNR_CAP_DB);
    expect(psnrFromMse(255 * 255)).toBe(0);
  });
});

const haveFfmpeg = tryLocate('ffmpeg') !== undefined && tryLocate('ffprobe') !== undefined;
const dir = mkdtempSync(path.join(os.tmpdir(), 'streamlab-vq-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!haveFfmpeg && process.env['STREAMLAB_REQUIRE_PEERS'] !== '1')('a lossless recording against ffmpeg', () => {
  it('scores exactly the span, at the cap', async () => {
    const source = path.resolve('media/sample.mp4');
    const recording = path.join(dir, 'rec.mkv');
    // A lossless "recording": the source's first 5 s of video, copied, plus 2 s more (the recording
    // going on past the measured span, as a real receiver's does).
    execFileSync(locate('ffmpeg'), ['-hide_banner', '-loglevel', 'error', '-y', '-i', source, '-t', '7', '-an', '-c', 'copy', recording]);
    const pts = execFileSync(locate('ffprobe'), ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', recording], { encoding: 'utf8' })
      .split('\n').map(Number.parseFloat).filter(Number.isFinite);
    const q = await measureVideoQuality({ source, recording, startNpt: 0, endNpt: 5, writtenVideoPts: pts, runDir: dir });
    expect(q.error).toBeUndefined();
    expect(q.sourceFrames).toBe(125);
    expect(q.comparedFrames).toBe(125);
    expect(q.psnrDb).toBe(PSNR_CAP_DB);
    expect(q.framesAtCap).toBe(125);
    expect(q.ssimMean).toBe(1);
    const rows = readFileSync(path.join(dir, 'quality.csv'), 'utf8').trim().split('\n');
    expect(rows).toHaveLength(1 + 125);
  }, 60_000);

  it('a recording that stops early is scored to the span end with its last frame shown (EvalVid)', async () => {
    const source = path.resolve('media/sample.mp4');
    const recording = path.join(dir, 'short.mkv');
    execFileSync(locate('ffmpeg'), ['-hide_banner', '-loglevel', 'error', '-y', '-i', source, '-t', '3', '-an', '-c', 'copy', recording]);
    const pts = execFileSync(locate('ffprobe'), ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', recording], { encoding: 'utf8' })
      .split('\n').map(Number.parseFloat).filter(Number.isFinite);
    const q = await measureVideoQuality({ source, recording, startNpt: 0, endNpt: 5, writtenVideoPts: pts, runDir: dir });
    expect(q.comparedFrames).toBe(125);
    // The first 3 s are identical; the last 2 s compare the frozen last frame with the moving source.
    expect(q.framesAtCap).toBeGreaterThanOrEqual(75);
    expect(q.framesAtCap).toBeLessThan(125);
    expect(q.psnrDb!).toBeLessThan(60);
    expect(q.freezes.count).toBe(1);
  }, 60_000);
});
