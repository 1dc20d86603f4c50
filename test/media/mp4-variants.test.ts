/**
 * Small files (1 s, 64x64) made with ffmpeg in a temp dir, each compared with ffprobe sample by
 * sample: moov at the end, faststart, MOV, no edit list, a delayed (empty edit) audio track,
 * audio-only, video-only, a 64-bit mdat with co64 (also past 4 GiB, sparse), mdat of size 0,
 * HEVC, Opus, MP3, G.711; plus fragmented / no-moov / not-MP4 / missing files.
 */

import { mkdtemp, open, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openMp4, type MediaFile } from '../../src/media/index.ts';
import { box, listBoxes, rewrite, stcoToCo64, toLargeMdatCo64, u32, u64 } from './box-fixture.ts';
import { expectMatchesFfprobe } from './compare.ts';
import { ffmpeg } from './ffprobe.ts';
import { describeWithPeers, hasEncoder, peersRequired } from '../helpers/peers.ts';
import { at } from '../../src/util/narrow.ts';

const V = ['-f', 'lavfi', '-i', 'testsrc2=size=64x64:rate=25:duration=1'];
const A = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=1'];
const A8K = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000:duration=1'];
const H264 = ['-c:v', 'libx264', '-bf', '2', '-g', '10', '-pix_fmt', 'yuv420p'];
const AAC = ['-c:a', 'aac'];
const BOTH = ['-map', '0:v', '-map', '1:a'];

describeWithPeers('MP4/MOV variants vs ffprobe', ['ffmpeg', 'ffprobe'], () => {
  let dir: string;
  const p = (name: string) => join(dir, name);
  const opened: MediaFile[] = [];
  const openTracked = async (path: string) => {
    const f = await openMp4(path);
    opened.push(f);
    return f;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'streamlab-media-'));
    ffmpeg([...V, ...A, ...BOTH, ...H264, ...AAC, p('moov-end.mp4')]);
    ffmpeg([...V, ...A, ...BOTH, ...H264, ...AAC, '-movflags', '+faststart', p('faststart.mp4')]);
    ffmpeg([...V, ...A, ...BOTH, ...H264, ...AAC, '-f', 'mov', p('movie.mov')]);
    ffmpeg([...V, ...A, ...BOTH, ...H264, ...AAC, '-use_editlist', '0', p('no-edit.mp4')]);
    ffmpeg([...V, '-itsoffset', '0.5', ...A, ...BOTH, ...H264, ...AAC, p('delayed.mp4')]);
    ffmpeg([...A, ...AAC, p('audio-only.mp4')]);
    ffmpeg([...V, ...H264, p('video-only.mp4')]);
    ffmpeg([...V, ...H264, '-movflags', 'frag_keyframe+empty_moov', p('fragmented.mp4')]);
  });
  afterAll(async () => {
    for (const f of opened) await f.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('moov at the end (no faststart)', async () => {
    const path = p('moov-end.mp4');
    const order = listBoxes(await readFile(path)).map((b) => b.type);
    expect(order.indexOf('moov')).toBeGreaterThan(order.indexOf('mdat'));
    expectMatchesFfprobe(await openTracked(path), path);
  });

  it('moov at the front (faststart)', async () => {
    const path = p('faststart.mp4');
    const order = listBoxes(await readFile(path)).map((b) => b.type);
    expect(order.indexOf('moov')).toBeLessThan(order.indexOf('mdat'));
    expectMatchesFfprobe(await openTracked(path), path);
  });

  it('MOV (QuickTime brand, version-1 sound description)', async () => {
    const f = await openTracked(p('movie.mov'));
    expect(f.brand).toBe('qt  ');
    expect(f.tracks.map((t) => t.codec)).toEqual(['h264', 'aac']);
    expect(at(f.tracks, 1).channels).toBe(1);
    expectMatchesFfprobe(f, p('movie.mov'));
  });

  it('no edit list: raw media times (video pts starts at the ctts delay)', async () => {
    const f = await openTracked(p('no-edit.mp4'));
    expect(f.tracks.map((t) => t.editShiftTicks)).toEqual([0, 0]);
    expect(at(f.tracks, 0).samples.pts[0]).toBe(1024); // ctts of the first frame: 2 frames of 512
    expectMatchesFfprobe(f, p('no-edit.mp4'));
  });

  it('initial empty edit delays the audio track', async () => {
    const f = await openTracked(p('delayed.mp4'));
    const audio = at(f.tracks, 1);
    // ffmpeg folds the AAC priming into the delay: elst v0 with 2 entries,
    //   000001de ffffffff 00010000   empty edit, 478 ms (movie timescale 1000)
    //   000003fe 00000000 00010000   1022 ms from media_time 0, rate 1
    // so the shift is 478 ms * 48 ticks/ms = 22944, and the first sample plays at 0.478 s.
    const elst = Buffer.from('000001deffffffff00010000000003fe0000000000010000', 'hex');
    expect((await readFile(p('delayed.mp4'))).includes(elst)).toBe(true);
    expect(audio.editShiftTicks).toBe(478 * 48);
    expect(audio.samples.pts[0]).toBe(478 * 48);
    expect(audio.editListNote).toBeUndefined();
    expect(f.durationSec).toBe(1.5);
    expectMatchesFfprobe(f, p('delayed.mp4'));
  });

  it('audio-only and video-only files', async () => {
    const a = await openTracked(p('audio-only.mp4'));
    expect(a.tracks.map((t) => t.kind)).toEqual(['audio']);
    expectMatchesFfprobe(a, p('audio-only.mp4'));
    const v = await openTracked(p('video-only.mp4'));
    expect(v.tracks.map((t) => t.kind)).toEqual(['video']);
    expectMatchesFfprobe(v, p('video-only.mp4'));
  });

  it('64-bit mdat header and co64 chunk offsets', async () => {
    const src = await readFile(p('moov-end.mp4'));
    const out = toLargeMdatCo64(src);
    await writeFile(p('co64.mp4'), out);
    const types = listBoxes(out).map((b) => [b.type, b.header]);
    expect(types).toEqual([['ftyp', 8], ['mdat', 16], ['moov', 8]]);
    expect(out.includes(Buffer.from('co64'))).toBe(true);
    expect(out.includes(Buffer.from('stco'))).toBe(false);
    const f = await openTracked(p('co64.mp4'));
    const ref = await openTracked(p('moov-end.mp4'));
    expect(Array.from(at(f.tracks, 0).samples.offsets)).toEqual(Array.from(at(ref.tracks, 0).samples.offsets));
    expectMatchesFfprobe(f, p('co64.mp4'));
  });

  it('moov after an mdat larger than 4 GiB (sparse file), offsets past 2^32', async () => {
    const src = await readFile(p('moov-end.mp4'));
    const top = listBoxes(src);
    const mdat = top.find((b) => b.type === 'mdat')!;
    const moov = top.find((b) => b.type === 'moov')!;
    const ftyp = src.subarray(0, at(top, 0).size);
    const gap = 2 ** 32 + 4096;
    const dataStart = ftyp.length + 16 + gap; // old data started at mdat.start + 8
    const delta = dataStart - (mdat.start + 8);
    const data = src.subarray(mdat.start + 8, mdat.start + mdat.size);
    const mdatSize = 16 + gap + data.length;
    const newMoov = box('moov', rewrite(src, moov.start + 8, moov.start + moov.size, (b, pl) => (b.type === 'stco' ? stcoToCo64(pl, delta) : undefined)));
    const path = p('huge.mp4');
    const fh = await open(path, 'w');
    try {
      await fh.write(ftyp, 0, ftyp.length, 0);
      await fh.write(Buffer.concat([u32(1), Buffer.from('mdat'), u64(mdatSize)]), 0, 16, ftyp.length);
      await fh.write(data, 0, data.length, dataStart); // the gap stays a hole
      await fh.write(newMoov, 0, newMoov.length, ftyp.length + mdatSize);
    } finally {
      await fh.close();
    }
    const f = await openTracked(path);
    expect(at(f.tracks, 0).samples.offsets[0]).toBeGreaterThan(2 ** 32);
    expectMatchesFfprobe(f, path);
    const ref = await openTracked(p('moov-end.mp4'));
    expect((await f.readSample(at(f.tracks, 1), 3)).equals(await ref.readSample(at(ref.tracks, 1), 3))).toBe(true);
    await rm(path);
  });

  it('mdat of size 0 (to the end of the file) after a front moov', async () => {
    const src = Buffer.from(await readFile(p('faststart.mp4')));
    const mdat = listBoxes(src).find((b) => b.type === 'mdat')!;
    src.writeUInt32BE(0, mdat.start);
    await writeFile(p('mdat0.mp4'), src);
    expectMatchesFfprobe(await openTracked(p('mdat0.mp4')), p('mdat0.mp4'));
  });

  it('fragmented MP4 is reported as unsupported', async () => {
    await expect(openMp4(p('fragmented.mp4'))).rejects.toMatchObject({ code: 'MEDIA_ERR_FRAGMENTED' });
  });

  const codecIt = (enc: string) => (hasEncoder(enc) || peersRequired() ? it : it.skip);

  codecIt('libx265')('H.265 (hvc1 + hvcC)', async () => {
    ffmpeg([...V, '-c:v', 'libx265', '-x265-params', 'log-level=none', '-tag:v', 'hvc1', p('hevc.mp4')]);
    const f = await openTracked(p('hevc.mp4'));
    expect([at(f.tracks, 0).codec, at(f.tracks, 0).fourcc]).toEqual(['h265', 'hvc1']);
    expectMatchesFfprobe(f, p('hevc.mp4'));
  });

  codecIt('libopus')('Opus (dOps)', async () => {
    ffmpeg([...A, '-c:a', 'libopus', p('opus.mp4')]);
    const f = await openTracked(p('opus.mp4'));
    const t = at(f.tracks, 0);
    expect([t.codec, t.fourcc, t.sampleRate, t.channels]).toEqual(['opus', 'Opus', 48000, 1]);
    // dOps: Version 0 | OutputChannelCount 1 | PreSkip 312 | InputSampleRate 48000 | gain 0 | family 0
    expect(t.codecConfig?.toString('hex')).toBe('00' + '01' + '0138' + '0000bb80' + '0000' + '00');
    expect(t.editShiftTicks).toBe(-312); // edit media_time = pre-skip
    expectMatchesFfprobe(f, p('opus.mp4'));
  });

  codecIt('libmp3lame')('MP3 in MP4 (mp4a, OTI 0x6b) and in MOV (.mp3)', async () => {
    ffmpeg([...A, '-c:a', 'libmp3lame', p('mp3.mp4')]);
    ffmpeg([...A, '-c:a', 'libmp3lame', '-f', 'mov', p('mp3.mov')]);
    const a = await openTracked(p('mp3.mp4'));
    expect([at(a.tracks, 0).codec, at(a.tracks, 0).fourcc, at(a.tracks, 0).objectTypeIndication]).toEqual(['mp3', 'mp4a', 0x6b]);
    expectMatchesFfprobe(a, p('mp3.mp4'));
    const b = await openTracked(p('mp3.mov'));
    expect([at(b.tracks, 0).codec, at(b.tracks, 0).fourcc]).toEqual(['mp3', '.mp3']);
    expectMatchesFfprobe(b, p('mp3.mov'));
  });

  it('G.711 in MOV (ulaw / alaw): one sample per audio frame', async () => {
    for (const [enc, fourcc, codec] of [['pcm_mulaw', 'ulaw', 'pcmu'], ['pcm_alaw', 'alaw', 'pcma']] as const) {
      ffmpeg([...A8K, '-c:a', enc, '-f', 'mov', p(`${fourcc}.mov`)]);
      const f = await openTracked(p(`${fourcc}.mov`));
      const t = at(f.tracks, 0);
      expect([t.codec, t.fourcc, t.sampleRate, t.channels, t.sampleCount]).toEqual([codec, fourcc, 8000, 1, 8000]);
      // ffprobe groups PCM into packets, so compare headers only.
      expectMatchesFfprobe(f, p(`${fourcc}.mov`), { perPacket: false });
    }
  });
});

it('missing file, directory, non-MP4 and moov-less files give typed errors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'streamlab-media-'));
  try {
    await expect(openMp4(join(dir, 'nope.mp4'))).rejects.toMatchObject({ code: 'MEDIA_ERR_NOT_FOUND' });
    await mkdir(join(dir, 'd.mp4'));
    await expect(openMp4(join(dir, 'd.mp4'))).rejects.toMatchObject({ code: 'MEDIA_ERR_IO' });
    await writeFile(join(dir, 'text.mp4'), 'hello, this is not a movie at all\n');
    await expect(openMp4(join(dir, 'text.mp4'))).rejects.toMatchObject({ code: 'MEDIA_ERR_NOT_MP4' });
    await writeFile(join(dir, 'empty.mp4'), '');
    await expect(openMp4(join(dir, 'empty.mp4'))).rejects.toMatchObject({ code: 'MEDIA_ERR_NOT_MP4' });
    // ftyp(isom, minor 0x200, compatible isom) + mdat with 4 bytes: no moov.
    const noMoov = Buffer.concat([box('ftyp', Buffer.from('isom'), u32(0x200), Buffer.from('isom')), box('mdat', u32(0xdeadbeef))]);
    await writeFile(join(dir, 'nomoov.mp4'), noMoov);
    await expect(openMp4(join(dir, 'nomoov.mp4'))).rejects.toMatchObject({ code: 'MEDIA_ERR_NO_MOOV' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
