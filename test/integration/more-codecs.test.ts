/**
 * Codecs beyond H.264/AAC, served natively from MP4: H.265 (RFC 7798) with B-frames + Opus
 * (RFC 7587), and MP3 (RFC 2250 MPA). Real peers receive them: ffprobe names them, ffmpeg's decoded
 * HEVC frames are bit-identical to decoding the file, Opus/MP3 packets arrive byte-identical, and
 * our own receiver records HEVC + Opus bit-identically.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ffmpegMake, ffprobeCodecs, lavfiTestInputs } from '../helpers/ffmpeg.ts';
import { captureRtsp, compareAudio, compareVideo, framemd5Args, parseFramemd5 } from '../helpers/framemd5.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { expectSuccess, runProgram } from '../helpers/run-program.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { runCli } from '../receiver/recording.ts';

describeWithPeers('H.265 + Opus and MP3 from MP4 files', ['ffmpeg', 'ffprobe'], () => {
  let dir: string;

  const make = (name: string, args: string[]) => ffmpegMake(path.join(dir, name), args);

  /**
   * Hashes of decoded video and copied audio. `-fps_mode passthrough`: ffmpeg's RTSP client guesses
   * HEVC decode times late, and its default frame-rate conversion then drops the first two
   * B-frames as duplicates (checked: with passthrough every frame arrives, in order).
   */
  async function hashes(input: string, inputArgs: string[] = [], seconds?: number) {
    const r = await runProgram('ffmpeg', framemd5Args(input, { inputArgs, seconds, outputArgs: ['-fps_mode', 'passthrough'] }), 120_000);
    expectSuccess(r, `framemd5 of ${input}`);
    const frames = parseFramemd5(r.stdout);
    return { video: frames.filter((f) => f.stream === 0), audio: frames.filter((f) => f.stream === 1) };
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-codecs-'));
    const src = [...lavfiTestInputs({ size: '320x180', seconds: 6, stereo: true }), '-map', '0:v', '-map', '1:a', '-pix_fmt', 'yuv420p'];
    await Promise.all([
      make('hevc-opus.mp4', [
        ...src,
        '-c:v',
        'libx265',
        '-x265-params',
        'log-level=error:keyint=25:min-keyint=25:bframes=2:scenecut=0',
        '-tag:v',
        'hvc1',
        '-c:a',
        'libopus',
        '-b:a',
        '64k',
      ]),
      make('h264-mp3.mp4', [...src, '-c:v', 'libx264', '-g', '25', '-bf', '2', '-c:a', 'libmp3lame', '-b:a', '128k', '-ar', '44100']),
    ]);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const { url } = serverForSuite(() => ({ mediaDir: dir }));

  it('ffprobe names the codecs from our SDP', async () => {
    const r = await ffprobeCodecs(url('hevc-opus.mp4'), { transport: 'tcp', timeoutMs: 60_000 });
    expectSuccess(r, 'ffprobe');
    expect(r.stdout.trim().split('\n')).toEqual(['hevc', 'opus']);
  });

  it.each(['udp', 'tcp'] as const)('ffmpeg over %s: HEVC frames bit-identical, Opus packets identical', async (transport) => {
    const [source, got] = await Promise.all([
      hashes(path.join(dir, 'hevc-opus.mp4')),
      hashes(url('hevc-opus.mp4'), ['-rtsp_transport', transport], 4),
    ]);
    const v = compareVideo(got.video, source.video);
    expect(v.detail).toBe('identical prefix');
    expect(v.frames).toBeGreaterThanOrEqual(90);
    const a = compareAudio(got.audio, source.audio);
    expect(a.detail).toBe('contiguous');
    // The first Opus packet (pts −312: the encoder's pre-skip) also covers presentation time 0,
    // so PLAY from 0 starts with it: the run starts at the last packet presented at or before 0.
    expect(a.firstIndex).toBe(source.audio.filter((f) => f.pts <= 0).length - 1);
    expect(a.packets).toBeGreaterThanOrEqual(180);
  });

  it('ffmpeg receives MP3 as MPA: packets identical', async () => {
    const [source, got] = await Promise.all([hashes(path.join(dir, 'h264-mp3.mp4')), captureRtsp(url('h264-mp3.mp4'), 'udp', 4)]);
    expect(compareVideo(got.video, source.video).detail).toBe('identical prefix');
    const a = compareAudio(got.audio, source.audio);
    expect(a.detail).toBe('contiguous');
    expect(a.packets).toBeGreaterThanOrEqual(140);
  });

  it('streamlab play records HEVC + Opus bit-identically', async () => {
    const out = path.join(dir, 'rec.mkv');
    const r = await runCli(['play', url('hevc-opus.mp4'), '--record', out]);
    expect(r.code, r.stderr).toBe(0);
    const [source, rec] = await Promise.all([hashes(path.join(dir, 'hevc-opus.mp4')), hashes(out)]);
    const v = compareVideo(rec.video, source.video);
    expect(v.detail).toBe('identical prefix');
    expect(v.frames).toBe(150);
    expect(compareAudio(rec.audio, source.audio).detail).toBe('contiguous');
  });
});
