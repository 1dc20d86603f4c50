/**
 * Any file ffmpeg can read, served by `streamlab serve`: for every codec, a sample generated here in
 * a non-MP4 container is prepared on the first DESCRIBE (remux to MP4/MOV, remux to MPEG-TS for the
 * RTP MP2T route, or transcode) and streamed to ffmpeg. What ffmpeg receives is checked against
 * what ffmpeg itself reads from the prepared file: decoded video frames bit-identical in order,
 * audio packets identical and contiguous (G.711: the byte stream identical, since we cut it into
 * 20 ms packets where ffmpeg's demuxer makes 1024-sample ones). The transcoded file plays with the
 * source's duration; an MP2T seek starts on a random access point.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Preparer } from '../../src/media/prepare/index.ts';
import { ffmpegMake } from '../helpers/ffmpeg.ts';
import { compareAudio, compareVideo, framemd5Args, parseFramemd5 } from '../helpers/framemd5.ts';
import type { FrameHash } from '../helpers/framemd5.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { expectSuccess, runProgram } from '../helpers/run-program.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { waitUntil } from '../helpers/wait.ts';
import { indexTs, TS_PACKET_SIZE } from '../../src/media/ts-file/index.ts';

const SECONDS = 3;
const FPS = 25;
const V = ['-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=${FPS}:duration=${SECONDS}`];
const A = (rate: number, layout = 'stereo') => [
  '-f',
  'lavfi',
  '-i',
  `sine=frequency=440:sample_rate=${rate}:duration=${SECONDS},aformat=channel_layouts=${layout}`,
];
const AV = (rate = 48000) => [...V, ...A(rate), '-map', '0:v', '-map', '1:a', '-pix_fmt', 'yuv420p'];
const AUDIO = (rate = 48000, layout = 'stereo') => [...A(rate, layout), '-map', '0:a'];

interface Case {
  file: string;
  make: string[];
  transport: 'udp' | 'tcp';
  route: 'mp4' | 'mov' | 'mp2t';
  summary: 'remux' | 'transcode' | 'mp2t';
  video: boolean;
  /** 'packets': copied packets compared; 'bytes': the copied byte stream compared (G.711). */
  audio: 'packets' | 'bytes';
  rawFormat?: string;
}

const CASES: Case[] = [
  {
    file: 'h264-aac.mkv',
    make: [...AV(), '-c:v', 'libx264', '-g', '25', '-bf', '2', '-c:a', 'aac'],
    transport: 'udp',
    route: 'mp4',
    summary: 'remux',
    video: true,
    audio: 'packets',
  },
  {
    file: 'hevc-aac.ts',
    make: [...AV(), '-c:v', 'libx265', '-x265-params', 'log-level=error:keyint=25:bframes=2', '-c:a', 'aac'],
    transport: 'tcp',
    route: 'mp4',
    summary: 'remux',
    video: true,
    audio: 'packets',
  },
  {
    file: 'aac.aac',
    make: [...AUDIO(), '-c:a', 'aac', '-f', 'adts'],
    transport: 'udp',
    route: 'mp4',
    summary: 'remux',
    video: false,
    audio: 'packets',
  },
  {
    file: 'aac-only.ts',
    make: [...AUDIO(44100), '-c:a', 'aac'],
    transport: 'tcp',
    route: 'mp4',
    summary: 'remux',
    video: false,
    audio: 'packets',
  },
  {
    file: 'opus.ogg',
    make: [...AUDIO(), '-c:a', 'libopus', '-b:a', '64k'],
    transport: 'udp',
    route: 'mp4',
    summary: 'remux',
    video: false,
    audio: 'packets',
  },
  {
    file: 'opus.webm',
    make: [...AUDIO(), '-c:a', 'libopus', '-b:a', '64k'],
    transport: 'tcp',
    route: 'mp4',
    summary: 'remux',
    video: false,
    audio: 'packets',
  },
  {
    file: 'tone.mp3',
    make: [...AUDIO(44100), '-c:a', 'libmp3lame', '-b:a', '128k'],
    transport: 'udp',
    route: 'mp4',
    summary: 'remux',
    video: false,
    audio: 'packets',
  },
  {
    file: 'ulaw.wav',
    make: [...AUDIO(8000, 'mono'), '-c:a', 'pcm_mulaw'],
    transport: 'udp',
    route: 'mov',
    summary: 'remux',
    video: false,
    audio: 'bytes',
    rawFormat: 'mulaw',
  },
  {
    file: 'alaw.wav',
    make: [...AUDIO(8000, 'mono'), '-c:a', 'pcm_alaw'],
    transport: 'tcp',
    route: 'mov',
    summary: 'remux',
    video: false,
    audio: 'bytes',
    rawFormat: 'alaw',
  },
  {
    file: 'mpeg2-ac3.ts',
    make: [...AV(), '-c:v', 'mpeg2video', '-g', '12', '-bf', '2', '-q:v', '4', '-c:a', 'ac3'],
    transport: 'udp',
    route: 'mp2t',
    summary: 'mp2t',
    video: true,
    audio: 'packets',
  },
  {
    file: 'mpeg2-mp2.mpg',
    make: [...AV(44100), '-c:v', 'mpeg2video', '-g', '12', '-c:a', 'mp2', '-f', 'vob'],
    transport: 'tcp',
    route: 'mp2t',
    summary: 'mp2t',
    video: true,
    audio: 'packets',
  },
  {
    file: 'mpeg4-mp3.avi',
    make: [...AV(44100), '-c:v', 'mpeg4', '-g', '12', '-bf', '0', '-c:a', 'libmp3lame'],
    transport: 'udp',
    route: 'mp2t',
    summary: 'mp2t',
    video: true,
    audio: 'packets',
  },
  // An MP4 none of whose tracks we packetize is prepared like any other file.
  {
    file: 'vp9-opus.mp4',
    make: [...AV(), '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-g', '25', '-c:a', 'libopus'],
    transport: 'tcp',
    route: 'mp4',
    summary: 'transcode',
    video: true,
    audio: 'packets',
  },
  {
    file: 'vp9-vorbis.webm',
    make: [...AV(), '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-g', '25', '-c:a', 'libvorbis'],
    transport: 'udp',
    route: 'mp4',
    summary: 'transcode',
    video: true,
    audio: 'packets',
  },
];

/** Decoded video frames (presentation order, no frame-rate conversion) and copied audio packets. */
async function hashes(input: string, c: Case, inputArgs: string[] = []): Promise<{ video: FrameHash[]; audio: FrameHash[] }> {
  const maps = c.video ? ['0:v', '0:a'] : ['0:a'];
  const r = await runProgram('ffmpeg', framemd5Args(input, { inputArgs, maps, outputArgs: ['-fps_mode', 'passthrough'] }), 90_000);
  expectSuccess(r, `framemd5 of ${input}`);
  const frames = parseFramemd5(r.stdout);
  return c.video
    ? { video: frames.filter((f) => f.stream === 0), audio: frames.filter((f) => f.stream === 1) }
    : { video: [], audio: frames };
}

/** MD5 of the audio byte stream as copied (packet boundaries do not matter). */
async function audioMd5(input: string, inputArgs: string[] = []): Promise<string> {
  const r = await runProgram(
    'ffmpeg',
    ['-hide_banner', '-nostdin', '-loglevel', 'error', ...inputArgs, '-i', input, '-map', '0:a', '-c', 'copy', '-f', 'md5', '-'],
    90_000,
  );
  expectSuccess(r, `md5 of ${input}`);
  return r.stdout.trim();
}

describeWithPeers('any file ffmpeg can read, prepared and served', ['ffmpeg', 'ffprobe'], () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-anyfile-'));
    // Three at a time: two cores shared with other test files.
    for (let i = 0; i < CASES.length; i += 3) {
      await Promise.all(
        CASES.slice(i, i + 3).map(async (c) => {
          await ffmpegMake(path.join(dir, c.file), c.make);
        }),
      );
    }
  }, 180_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const { server, url } = serverForSuite(() => ({ mediaDir: dir, prepareWaitMs: 30_000 }));

  it.each(CASES)('$file over $transport: $summary, what ffmpeg receives is what it reads from the prepared file', async (c) => {
    // While a transcode runs, DESCRIBE serves its growing TS as MP2T (prepare-growing.test.ts);
    // here the prepared MP4 itself is checked, so the transcode finishes first.
    if (c.summary === 'transcode')
      expect((await (server.catalog.preparer as Preparer).prepare(path.join(dir, c.file)).done).reused).toBe(false);
    const received = c.audio === 'bytes' ? undefined : await hashes(url(c.file), c, ['-rtsp_transport', c.transport]);
    // The DESCRIBE above (or below) prepared the file; asking again finds it through the manifest.
    const prepared = await (server.catalog.preparer as Preparer).prepare(path.join(dir, c.file)).done;
    expect(prepared.manifest.route).toBe(c.route);
    expect(prepared.manifest.summary).toBe(c.summary);
    if (c.audio === 'bytes') {
      const [got, want] = await Promise.all([audioMd5(url(c.file), ['-rtsp_transport', c.transport]), audioMd5(prepared.outputPath)]);
      expect(prepared.reused).toBe(false);
      expect(got).toMatch(/^MD5=[0-9a-f]{32}$/);
      expect(got).toBe(want);
      return;
    }
    expect(prepared.reused).toBe(true);
    const source = await hashes(prepared.outputPath, c);
    if (c.video) {
      expect(source.video.length).toBe(SECONDS * FPS);
      let want = source.video;
      if (c.route === 'mp2t' && received!.video.length === want.length - 1) {
        // ffmpeg's RTP MP2T reader never flushes the last PES (its TS demuxer waits for the next
        // PES start, and RTP has no end of file): the last frame in decode order stays in it. With
        // B-frames that is one of the last 3 in presentation order; every other frame must match.
        const d = received!.video.findIndex((f, i) => f.hash !== want[i]!.hash);
        const missing = d < 0 ? want.length - 1 : d;
        expect(missing).toBeGreaterThanOrEqual(want.length - 3);
        want = want.filter((_, i) => i !== missing);
      }
      const v = compareVideo(received!.video, want);
      expect(v.detail).toBe('identical prefix');
      expect(v.frames).toBe(want.length);
    }
    const a = compareAudio(received!.audio, source.audio);
    expect(a.detail).toBe('contiguous');
    expect(a.firstIndex).toBeLessThanOrEqual(1);
    expect(a.packets).toBeGreaterThanOrEqual(source.audio.length - 1 - a.firstIndex);
  });

  it('the transcoded file plays with the source duration (±1 frame)', async () => {
    const src = path.join(dir, 'vp9-vorbis.webm');
    const prepared = await (server.catalog.preparer as Preparer).prepare(src).done;
    const probe = async (input: string) => {
      const r = await runProgram(
        'ffprobe',
        [
          '-v',
          'error',
          '-select_streams',
          'v:0',
          '-count_frames',
          '-show_entries',
          'stream=nb_read_frames:format=duration',
          '-of',
          'json',
          input,
        ],
        60_000,
      );
      expectSuccess(r, `ffprobe ${input}`);
      const j = JSON.parse(r.stdout) as { streams: { nb_read_frames: string }[]; format: { duration: string } };
      return { frames: Number(j.streams[0]!.nb_read_frames), duration: Number(j.format.duration) };
    };
    const [s, p] = await Promise.all([probe(src), probe(prepared.outputPath)]);
    expect(p.frames).toBe(s.frames);
    expect(Math.abs(p.duration - s.duration)).toBeLessThanOrEqual(1 / FPS + 0.03);
    const c = CASES.find((x) => x.file === 'vp9-vorbis.webm')!;
    const played = await hashes(url('vp9-vorbis.webm'), c, ['-rtsp_transport', 'tcp']);
    expect(Math.abs(played.video.length - SECONDS * FPS)).toBeLessThanOrEqual(1);
    const last = played.video[played.video.length - 1]!;
    // framemd5 times are in the stream time base: the last frame starts one frame before the end.
    expect(Math.abs(last.pts - played.video[0]!.pts - (SECONDS * FPS - 1) * (last.duration || 1))).toBeLessThanOrEqual(last.duration || 1);
  });

  it('an MP2T seek (PLAY Range npt=1.5-) starts on a random access point: the rest of the file, byte for byte', async () => {
    const c = CASES.find((x) => x.file === 'mpeg2-ac3.ts')!;
    const prepared = await (server.catalog.preparer as Preparer).prepare(path.join(dir, c.file)).done;
    const file = await readFile(prepared.outputPath);
    const index = indexTs(file);
    // The random access point the seek must land on: the last one at or before 1.5 s.
    let unit = -1;
    for (let u = 0; u < index.unitRap.length; u++) if (index.unitRap[u] && index.unitTimeSec[u]! <= 1.5) unit = u;
    expect(unit).toBeGreaterThan(0);
    const offset = index.unitFirstPacket[unit]! * TS_PACKET_SIZE;
    expect(file.readUInt16BE(offset + 1) & 0x1fff).toBe(0); // the PAT that ffmpeg wrote before the keyframe

    const client = await RtspTestClient.connect(url(c.file));
    try {
      await client.describe(url(c.file));
      const { track } = await client.setup(`${url(c.file)}/trackID=1`, 'tcp');
      const play = await client.play(url(c.file), 'npt=1.5-');
      expect(play.range?.start).toBeCloseTo(index.unitTimeSec[unit]!, 3);
      const want = file.length - offset;
      const got = () => track.rtp.reduce((n, p) => n + p.payload.length, 0);
      await waitUntil(
        () => got() >= want,
        15_000,
        () => `${want} bytes (have ${got()})`,
      );
      await new Promise((r) => setTimeout(r, 200));
      expect(track.rtp.every((p) => p.payloadType === 33 && p.payload.length <= 7 * TS_PACKET_SIZE)).toBe(true);
      const ts = Buffer.concat(track.rtp.map((p) => p.payload));
      expect(ts.equals(file.subarray(offset))).toBe(true);

      // And ffmpeg decodes what arrived from the first frame on: the source's frames from a GOP start.
      const out = path.join(dir, 'seek.ts');
      await writeFile(out, ts);
      const [source, got2] = await Promise.all([hashes(prepared.outputPath, c), hashes(out, c)]);
      const start = source.video.findIndex((f) => f.hash === got2.video[0]!.hash);
      expect(start % 12).toBe(0); // GOP of 12: an I-frame
      expect(start).toBeGreaterThan(0);
      expect(compareVideo(got2.video, source.video.slice(start)).detail).toBe('identical prefix');
      expect(got2.video.length).toBe(source.video.length - start);
    } finally {
      client.close();
    }
  });
});
