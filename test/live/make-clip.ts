/**
 * A short clip made at test time for live tests: H.264 (GOP 1 s, B-frames) + AAC in MP4, 320x240
 * at 25 fps, with audio a little longer than video (AAC priming), so loop boundaries see tracks
 * of different lengths.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expectSuccess, runProgram } from '../helpers/run-program.ts';

export async function makeClip(seconds = 4): Promise<{ file: string; dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-live-'));
  const file = path.join(dir, 'clip.mp4');
  const r = await runProgram(
    'ffmpeg',
    [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=320x240:rate=25:duration=${seconds}`,
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-g',
      '25',
      '-bf',
      '2',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-b:a',
      '96k',
      '-movflags',
      '+faststart',
      file,
    ],
    60_000,
  );
  expectSuccess(r, 'ffmpeg making the live test clip');
  return { file, dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
