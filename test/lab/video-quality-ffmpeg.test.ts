/** Video quality against real ffmpeg: the measured span exactly, and the EvalVid rule at its end. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PSNR_CAP_DB, measureVideoQuality } from '../../src/lab/video-quality.ts';
import { locate, tryLocate } from '../../src/media/ffmpeg/index.ts';
import { peersRequired } from '../helpers/peers.ts';

const haveFfmpeg = tryLocate('ffmpeg') !== undefined && tryLocate('ffprobe') !== undefined;
const dir = mkdtempSync(path.join(os.tmpdir(), 'streamlab-vq-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

if (!haveFfmpeg && process.env['STREAMLAB_REQUIRE_PEERS'] === '1')
  throw new Error('ffmpeg and ffprobe are required (STREAMLAB_REQUIRE_PEERS=1)');

describe.skipIf(!haveFfmpeg && !peersRequired())('a lossless recording against ffmpeg', () => {
  it('scores exactly the span, at the cap', async () => {
    const source = path.resolve('media/sample.mp4');
    const recording = path.join(dir, 'rec.mkv');
    // A lossless "recording": the source's first 5 s of video, copied, plus 2 s more (the recording
    // going on past the measured span, as a real receiver's does).
    execFileSync(locate('ffmpeg'), ['-hide_banner', '-loglevel', 'error', '-y', '-i', source, '-t', '7', '-an', '-c', 'copy', recording]);
    const pts = execFileSync(
      locate('ffprobe'),
      ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', recording],
      { encoding: 'utf8' },
    )
      .split('\n')
      .map(Number.parseFloat)
      .filter(Number.isFinite);
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
    const pts = execFileSync(
      locate('ffprobe'),
      ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', recording],
      { encoding: 'utf8' },
    )
      .split('\n')
      .map(Number.parseFloat)
      .filter(Number.isFinite);
    const q = await measureVideoQuality({ source, recording, startNpt: 0, endNpt: 5, writtenVideoPts: pts, runDir: dir });
    expect(q.comparedFrames).toBe(125);
    // The first 3 s are identical; the last 2 s compare the frozen last frame with the moving source.
    expect(q.framesAtCap).toBeGreaterThanOrEqual(75);
    expect(q.framesAtCap).toBeLessThan(125);
    expect(q.psnrDb!).toBeLessThan(60);
    expect(q.freezes.count).toBe(1);
  }, 60_000);
});
