/**
 * A short clip made at test time for live tests: H.264 (GOP 1 s, B-frames) + AAC in MP4, 320x240
 * at 25 fps, with audio a little longer than video (AAC priming), so loop boundaries see tracks
 * of different lengths.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { ffmpegMake, lavfiTestInputs } from '../helpers/ffmpeg.ts';

export async function makeClip(seconds = 4): Promise<{ file: string; dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-live-'));
  const file = path.join(dir, 'clip.mp4');
  await ffmpegMake(
    file,
    [
      ...lavfiTestInputs({ size: '320x240', seconds }),
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
    ],
    60_000,
  );
  return { file, dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * makeClip(seconds) for a suite (the describe block it is called in): made in a beforeAll,
 * removed in an afterAll. `clip.file` is its path once the beforeAll has run; call this before
 * hooks that need the file (serverForSuite with a live channel on it).
 */
export function clipForSuite(seconds = 4): { readonly file: string } {
  let clip: Awaited<ReturnType<typeof makeClip>> | undefined;
  beforeAll(async () => {
    clip = await makeClip(seconds);
  }, 60_000);
  afterAll(async () => {
    await clip?.remove();
  });
  return {
    get file() {
      if (!clip) throw new Error('clipForSuite: the clip is not made yet (use it in tests or in hooks registered after it)');
      return clip.file;
    },
  };
}
