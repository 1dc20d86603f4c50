/**
 * media/sample.mp4 (20 s, 640x360 H.264 Main with 2 B-frames at 25 fps, GOP 25, + AAC-LC stereo
 * 48 kHz, faststart; made by media/make-sample.sh) against ffprobe, every sample.
 */

import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { keyframeAtOrBefore, openMp4, sampleTimeSec, type MediaFile, type Track } from '../../src/media/index.ts';
import { expectMatchesFfprobe } from './compare.ts';
import { probePackets } from './ffprobe.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { at } from '../../src/util/narrow.ts';

const SAMPLE = new URL('../../media/sample.mp4', import.meta.url).pathname;

let file: MediaFile;
let video: Track;
let audio: Track;
beforeAll(async () => {
  file = await openMp4(SAMPLE);
  video = file.tracks.find((t) => t.kind === 'video')!;
  audio = file.tracks.find((t) => t.kind === 'audio')!;
});
afterAll(() => file?.close());

it('reads the movie and track headers', () => {
  expect(file.brand).toBe('isom');
  expect(file.durationSec).toBe(20);
  expect(file.tracks.map((t) => [t.id, t.kind, t.codec, t.fourcc])).toEqual([
    [1, 'video', 'h264', 'avc1'],
    [2, 'audio', 'aac', 'mp4a'],
  ]);
  expect([video.timescale, video.width, video.height, video.sampleCount, video.durationSec]).toEqual([12800, 640, 360, 500, 20]);
  expect([audio.timescale, audio.sampleRate, audio.channels, audio.objectTypeIndication, audio.sampleCount]).toEqual([48000, 48000, 2, 0x40, 939]);
  // AudioSpecificConfig: aot=2 (LC) | freq idx 3 (48000) | chan 2 | GASpecificConfig 0, then the
  // sync extension 0x2b7 (SBR absent): 11 90 56 e5 00, as in the esds of make-sample.sh's file.
  expect(audio.codecConfig?.toString('hex')).toBe('119056e500');
  // avcC: version 1, profile 77 (Main), compat 0x40, level 30, lengthSize 4, 1 SPS, 1 PPS.
  expect(video.codecConfig?.subarray(0, 6).toString('hex')).toBe('014d401effe1');
  expect(video.editListNote).toBeUndefined();
  expect(audio.editListNote).toBeUndefined();
});

it('applies the edit lists: B-frame delay for video, AAC priming for audio', () => {
  // elst of both tracks: one edit, media_time 1024, rate 1.
  expect(video.editShiftTicks).toBe(-1024);
  expect(audio.editShiftTicks).toBe(-1024);
  expect(video.samples.pts[0]).toBe(0);
  expect(video.samples.dts[0]).toBe(-1024);
  expect(audio.samples.pts[0]).toBe(-1024); // the priming frame plays before 0
  expect(sampleTimeSec(video, 0)).toBe(0);
  expect(sampleTimeSec(audio, 1)).toBe(0);
  expect(sampleTimeSec(audio, 0)).toBeCloseTo(-1024 / 48000, 12);
});

describeWithPeers('sample.mp4 vs ffprobe', ['ffprobe'], () => {
  it('matches every packet (pos, size, dts, pts, key), durations and extradata', () => {
    expectMatchesFfprobe(file, SAMPLE);
  });

  it('keyframeAtOrBefore picks the latest sync sample at or before a time', () => {
    const packets = probePackets(SAMPLE).get(0)!;
    const expected = (sec: number) => {
      let best = -1;
      packets.forEach((p, i) => {
        if (p.key && p.pts <= sec * 12800 && (best < 0 || p.pts > at(packets, best).pts)) best = i;
      });
      return best < 0 ? packets.findIndex((p) => p.key) : best;
    };
    for (const sec of [0, 0.5, 0.999, 1, 5.5, 12.04, 19.99, 25]) expect(keyframeAtOrBefore(video, sec)).toBe(expected(sec));
    expect(keyframeAtOrBefore(video, 5.5)).toBe(125); // GOP of 25: the 6th keyframe, pts 5 s
    expect(keyframeAtOrBefore(video, -3)).toBe(0);
    expect(keyframeAtOrBefore(audio, 1)).toBe(47); // pts(i) = (i-1)*1024: 46*1024 = 47104 <= 48000 < 48128
  });
});

it('reads samples by offset: readSample and readSamples agree with the file bytes', async () => {
  const whole = await readFile(SAMPLE);
  const { offsets, sizes } = video.samples;
  for (const i of [0, 1, 2, 250, 499]) {
    expect((await file.readSample(video, i)).equals(whole.subarray(offsets[i], at(offsets, i) + at(sizes, i)))).toBe(true);
  }
  const all = await file.readSamples(audio, 0, audio.sampleCount);
  expect(all).toHaveLength(939);
  for (let i = 0; i < all.length; i++) {
    const o = at(audio.samples.offsets, i);
    expect(at(all, i).equals(whole.subarray(o, o + at(audio.samples.sizes, i)))).toBe(true);
  }
  // Audio samples 1 and 2 are contiguous in the file (30515 + 295 = 30810): one read, one buffer.
  expect(offsets.length).toBe(500);
  expect(at(audio.samples.offsets, 1) + at(audio.samples.sizes, 1)).toBe(audio.samples.offsets[2]);
  expect(at(all, 1).buffer).toBe(at(all, 2).buffer);
  // Audio sample 0 (27969 + 216 != 30515) is not: a separate read, its own buffer.
  expect(at(all, 0).buffer).not.toBe(at(all, 1).buffer);
  expect(await file.readSamples(video, 3, 3)).toEqual([]);
});

it('rejects bad indices and reads after close with typed errors', async () => {
  await expect(file.readSample(video, 500)).rejects.toMatchObject({ code: 'MEDIA_ERR_BAD_INDEX' });
  await expect(file.readSample(video, -1)).rejects.toMatchObject({ code: 'MEDIA_ERR_BAD_INDEX' });
  await expect(file.readSamples(video, 5, 2)).rejects.toMatchObject({ code: 'MEDIA_ERR_BAD_INDEX' });
  await expect(file.readSample({ ...video }, 0)).rejects.toMatchObject({ code: 'MEDIA_ERR_BAD_INDEX' });
  const other = await openMp4(SAMPLE);
  await other.close();
  await other.close(); // idempotent
  await expect(other.readSample(at(other.tracks, 0), 0)).rejects.toMatchObject({ code: 'MEDIA_ERR_CLOSED' });
});
