/**
 * streamlab play records and decodes G.711 (PCMU, PCMA), MPEG audio (MP3, MPEG-1 and MPEG-2) and
 * MPEG-TS (MP2T) from GStreamer's RTSP server (test/peers/gst-rtsp-server.py --launch), each
 * source a deterministic test pipeline. The reference for each is the same pipeline run locally
 * with gst-launch-1.0 into a file (no RTP), and ffmpeg/ffprobe read both:
 * - G.711: the recorded samples (`-c copy -f mulaw|alaw`) are byte-identical to the encoder's
 *   output: same count, same order, nothing filled; beside H.264, audio that the source starts
 *   0.5 s after the video starts 0.5 s after it in the recording (and ends 0.5 s before it);
 * - MP3: the recorded packets are the encoder's frames, byte for byte; `--null` decodes them all;
 * - MP2T: the recording decodes to frames identical to decoding the local file; `--null` counts
 *   every frame. `mpegtsmux alignment=7` pads the end, else rtpmp2tpay never sends the last
 *   partial payload of 7 TS packets (ffmpeg as the client loses the last frame the same way);
 * - G.711 into .mp4 (which cannot hold it without re-encoding) fails with a clear reason.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseFramemd5 } from '../helpers/framemd5.ts';
import { describeWithGstreamer } from '../helpers/gstreamer.ts';
import { startGstRtspLaunch } from '../helpers/peer-servers.ts';
import type { PeerServer } from '../helpers/peer-servers.ts';
import { expectSuccess, runProgram } from '../helpers/run-program.ts';
import { decodeErrors, runCli } from './recording.ts';

const PCM = 'audiotestsrc num-buffers=100 samplesperbuffer=160 wave=sine freq=440 ! audio/x-raw,rate=8000,channels=1';
const PCMA_SRC = 'audiotestsrc num-buffers=100 samplesperbuffer=160 wave=square freq=300 volume=0.5 ! audio/x-raw,rate=8000,channels=1';
const MP3_1 = 'audiotestsrc num-buffers=100 wave=sine freq=660 ! audio/x-raw,rate=44100,channels=2 ! lamemp3enc';
const MP3_2 = 'audiotestsrc num-buffers=60 wave=sine freq=550 ! audio/x-raw,rate=22050,channels=1 ! lamemp3enc';
const TS =
  'videotestsrc num-buffers=100 ! video/x-raw,width=320,height=240,framerate=25/1 ! x264enc key-int-max=25 bframes=2 rc-lookahead=5 sync-lookahead=0 ! mpegtsmux alignment=7';
// x264enc's default lookahead (40 frames) sends video in bursts over a second late: kept short.
const VIDEO =
  'videotestsrc num-buffers=75 ! video/x-raw,width=320,height=240,framerate=25/1 ! x264enc key-int-max=25 bframes=2 rc-lookahead=5 sync-lookahead=0';

const SOURCES = {
  pcmu: { launch: `( ${PCM} ! mulawenc ! rtppcmupay name=pay0 )`, local: `${PCM} ! mulawenc` },
  pcma: { launch: `( ${PCMA_SRC} ! alawenc ! rtppcmapay name=pay0 )`, local: `${PCMA_SRC} ! alawenc` },
  av: {
    launch: `( ${VIDEO} ! rtph264pay name=pay0 pt=96 audiotestsrc num-buffers=100 samplesperbuffer=160 timestamp-offset=500000000 ! audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay name=pay1 )`,
    local: undefined,
  },
  mp3: { launch: `( ${MP3_1} ! rtpmpapay name=pay0 )`, local: MP3_1 },
  mp3lsf: { launch: `( ${MP3_2} ! rtpmpapay name=pay0 )`, local: MP3_2 },
  mp2t: { launch: `( ${TS} ! rtpmp2tpay name=pay0 )`, local: TS },
} as const;
type Source = keyof typeof SOURCES;

const ELEMENTS = [
  'audiotestsrc',
  'videotestsrc',
  'mulawenc',
  'alawenc',
  'rtppcmupay',
  'rtppcmapay',
  'lamemp3enc',
  'rtpmpapay',
  'x264enc',
  'mpegtsmux',
  'rtpmp2tpay',
  'rtph264pay',
];

describeWithGstreamer('streamlab play records G.711, MP3 and MP2T from GStreamer', ELEMENTS, ['ffmpeg', 'ffprobe'], () => {
  let dir: string;
  const servers = new Map<Source, PeerServer>();
  const runs: Record<string, Awaited<ReturnType<typeof runCli>>> = {};
  const file = (n: string) => path.join(dir, n);
  const stats = async (n: string) => JSON.parse(await readFile(file(`${n}.json`), 'utf8')).totals;

  /**
   * [name, source, extra flags]: each a `streamlab play` run with --stats-json NAME.json and a
   * fixed 2 s jitter buffer: these tests are about what is written, and a loaded CI machine stalls
   * receivers for more than the adaptive buffer's half second now and then (late drops).
   */
  const plan: [string, Source, string[]][] = [
    ['pcmu', 'pcmu', ['--record', 'pcmu.mkv']],
    ['pcmu-null', 'pcmu', ['--tcp', '--null']],
    ['pcmu-mp4', 'pcmu', ['--record', 'pcmu.mp4']],
    // This live test source has no known end: the receiver ends on the server's BYE. --impair
    // applies to RTP only (issue 14), so the BYE arrives whatever the seed (seed 3 lost it when
    // RTCP was impaired too).
    ['pcmu-loss', 'pcmu', ['--record', 'pcmu-loss.mkv', '--impair', 'loss random 10%', '--impair-seed', '3']],
    ['pcma', 'pcma', ['--tcp', '--record', 'pcma.mov']],
    ['av', 'av', ['--tcp', '--record', 'av.mkv']],
    ['mp3', 'mp3', ['--record', 'mp3.mkv']],
    ['mp3-null', 'mp3', ['--tcp', '--null']],
    ['mp3lsf', 'mp3lsf', ['--record', 'mp3lsf.ts']],
    ['mp2t', 'mp2t', ['--record', 'mp2t.ts']],
    ['mp2t-null', 'mp2t', ['--tcp', '--null']],
  ];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-gst-codecs-'));
    for (const [name, s] of await Promise.all(
      (Object.keys(SOURCES) as Source[]).map(async (s) => [s, await startGstRtspLaunch(SOURCES[s].launch, `/${s}`)] as const),
    )) {
      servers.set(name, s);
    }
    // Local references: the same pipelines into files.
    const refs = (Object.keys(SOURCES) as Source[]).flatMap((s) => {
      const local = SOURCES[s].local;
      if (!local) return [];
      return [
        runProgram('gst-launch-1.0', ['-q', ...`${local} ! filesink location=${file(`ref-${s}`)}`.split(' ')], 60_000).then((r) =>
          expectSuccess(r, `gst-launch ${s}`),
        ),
      ];
    });
    const play = ([name, s, flags]: (typeof plan)[number]) =>
      runCli([
        'play',
        servers.get(s)!.url,
        ...flags.map((f) => (/\.\w+$/.test(f) ? file(f) : f)),
        '--stats-json',
        file(`${name}.json`),
        '--jitter-buffer',
        '2000',
      ]).then((r) => void (runs[name] = r));
    // Two waves of five receivers: ten at once on two cores would make late drops of their own.
    await Promise.all([...refs, ...plan.slice(0, 6).map(play)]);
    await Promise.all(plan.slice(6).map(play));
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...servers.values()].map((s) => s.stop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The raw G.711 bytes of a recording's audio stream. */
  async function rawAudio(f: string, law: 'mulaw' | 'alaw', stream = '0:a'): Promise<Buffer> {
    const r = await runProgram(
      'sh',
      ['-c', `ffmpeg -hide_banner -nostdin -loglevel error -i '${f}' -map ${stream} -c copy -f ${law} - | base64 -w0`],
      60_000,
    );
    expectSuccess(r, `raw audio of ${f}`);
    return Buffer.from(r.stdout, 'base64');
  }

  async function probe(f: string): Promise<{ codec_name: string; sample_rate?: string }[]> {
    const r = await runProgram('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,sample_rate', '-of', 'json', f], 30_000);
    expectSuccess(r, `ffprobe ${f}`);
    return JSON.parse(r.stdout).streams;
  }

  async function hashes(f: string, copy: boolean): Promise<string[]> {
    const r = await runProgram(
      'ffmpeg',
      ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', f, '-map', '0', ...(copy ? ['-c', 'copy'] : []), '-f', 'framemd5', '-'],
      60_000,
    );
    expectSuccess(r, `framemd5 of ${f}`);
    return parseFramemd5(r.stdout).map((h) => h.hash);
  }

  it.each([
    ['pcmu', 'pcmu.mkv', 'mulaw', 'pcm_mulaw'],
    ['pcma', 'pcma.mov', 'alaw', 'pcm_alaw'],
  ] as const)('%s: the recorded samples are the encoder output, byte for byte, 2 s at 8 kHz', async (name, out, law, codec) => {
    const silence = law === 'mulaw' ? 0xff : 0xd5;
    const r = runs[name]!;
    expect(r.code, r.stderr).toBe(0);
    const t = await stats(name);
    expect(t.end).toEqual({ ok: true, reason: 'end-of-stream' });
    expect(t.tracks[0], JSON.stringify(t.tracks[0])).toMatchObject({ codec: name, lost: 0, late: 0, units: 100 });
    expect(t.sink.filledSamples).toEqual({ 0: 0 });
    expect(await probe(file(out))).toEqual([{ codec_name: codec, sample_rate: '8000' }]);
    const got = await rawAudio(file(out), law);
    const ref = await readFile(file(`ref-${name}`));
    expect(ref.length).toBe(16000);
    expect(got.length).toBe(ref.length);
    expect(got.equals(ref)).toBe(true);
    expect(got.filter((b) => b !== silence).length).toBeGreaterThan(15000); // a signal, not silence
    expect(await decodeErrors(file(out))).toEqual([]);
  });

  it('PCMU with 10 % of the packets dropped on our ingress: each lost packet is 20 ms of silence in place', async () => {
    const r = runs['pcmu-loss']!;
    expect(r.code, r.stderr).toBe(0);
    const t = await stats('pcmu-loss');
    const lost = t.impairment.tracks[0].rtpLost;
    expect(lost).toBeGreaterThan(3);
    const got = await rawAudio(file('pcmu-loss.mkv'), 'mulaw');
    const ref = await readFile(file('ref-pcmu'));
    // Packet k holds samples 160k..160k+159: each is the source's or, for a lost one, silence.
    const silent: number[] = [];
    for (let k = 0; k * 160 < got.length; k++) {
      const chunk = got.subarray(160 * k, 160 * k + 160);
      if (chunk.equals(ref.subarray(160 * k, 160 * k + 160))) continue;
      expect(
        chunk.every((b) => b === 0xff),
        `packet ${k}`,
      ).toBe(true);
      silent.push(k);
    }
    expect(got.length % 160).toBe(0);
    // Losses at the very end leave nothing to fill before: the rest are all filled.
    const trailing = 100 - got.length / 160;
    expect(silent.length + trailing).toBe(lost);
    expect(t.sink.filledSamples).toEqual({ 0: 160 * silent.length });
  });

  it('PCMU --null over TCP: every packet decoded, no errors', async () => {
    const r = runs['pcmu-null']!;
    expect(r.code, r.stderr).toBe(0);
    const t = await stats('pcmu-null');
    expect(t.transport).toBe('tcp');
    expect(t.sink.units).toEqual({ 0: 100 });
    expect(t.sink.decodedFrames[0]).toBeGreaterThan(0);
    expect(t.sink.decodeErrors).toBe(0);
  });

  it('G.711 into .mp4 fails at once with the reason and the containers that work', async () => {
    const r = runs['pcmu-mp4']!;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/cannot record G\.711 \(PCMU\) into \.mp4 without re-encoding: use \.mkv/);
  });

  it('H.264 + PCMU starting 0.5 s later: 75 frames, 16000 samples, the offset kept to a packet', async () => {
    const r = runs.av!;
    expect(r.code, r.stderr).toBe(0);
    const t = await stats('av');
    expect(
      t.tracks.map((x: { codec: string; lost: number }) => [x.codec, x.lost]),
      JSON.stringify(t.tracks),
    ).toEqual([
      ['h264', 0],
      ['pcmu', 0],
    ]);
    expect(t.sink.filledSamples).toEqual({ 1: 0 });
    const samples = await rawAudio(file('av.mkv'), 'mulaw');
    expect(samples.length).toBe(100 * 160);
    const p = await runProgram(
      'ffprobe',
      ['-v', 'error', '-show_entries', 'packet=codec_type,pts_time,duration_time', '-of', 'csv=p=0', file('av.mkv')],
      30_000,
    );
    expectSuccess(p, 'ffprobe packets');
    const pk = p.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    const times = (type: string) => pk.filter((x) => x[0] === type).map((x) => [Number(x[1]), Number(x[1]) + Number(x[2])] as const);
    const v = times('video');
    const a = times('audio');
    expect(v).toHaveLength(75);
    const vStart = Math.min(...v.map((x) => x[0]));
    const aStart = Math.min(...a.map((x) => x[0]));
    // The audio source starts 0.5 s after the video (timestamp-offset): one audio packet (20 ms) of
    // tolerance; 3 s of video end 0.5 s after the 2 s of audio.
    expect(Math.abs(aStart - vStart - 0.5)).toBeLessThan(0.021);
    const vEnd = Math.max(...v.map((x) => x[1]));
    expect(Math.abs(vEnd - 0.5 - (aStart + samples.length / 8000))).toBeLessThan(0.041);
    expect(await decodeErrors(file('av.mkv'))).toEqual([]);
  });

  it.each([
    ['mp3', 'mp3.mkv', '44100'],
    ['mp3lsf', 'mp3lsf.ts', '22050'],
  ] as const)('%s: the recorded packets are the encoder frames, byte for byte', async (name, out, rate) => {
    const r = runs[name]!;
    expect(r.code, r.stderr).toBe(0);
    expect((await stats(name)).tracks[0]).toMatchObject({ codec: 'mpa', lost: 0, late: 0 });
    expect(await probe(file(out))).toEqual([{ codec_name: 'mp3', sample_rate: rate }]);
    const ref = await hashes(file(`ref-${name}`), true);
    expect(ref.length).toBeGreaterThan(40);
    expect(await hashes(file(out), true)).toEqual(ref);
    expect(await decodeErrors(file(out))).toEqual([]);
  });

  it('MP3 --null over TCP decodes every frame the encoder made', async () => {
    const r = runs['mp3-null']!;
    expect(r.code, r.stderr).toBe(0);
    const t = await stats('mp3-null');
    const refFrames = (await hashes(file('ref-mp3'), false)).length;
    expect(t.sink.decodedFrames[0]).toBe(refFrames);
    expect(t.sink.decodeErrors).toBe(0);
  });

  it('MP2T: the recording decodes to the source frames, all 100; --null counts 100 without errors', async () => {
    const r = runs.mp2t!;
    expect(r.code, r.stderr).toBe(0);
    expect((await stats('mp2t')).tracks[0]).toMatchObject({ codec: 'mp2t', lost: 0, late: 0 });
    const ref = await hashes(file('ref-mp2t'), false);
    expect(ref).toHaveLength(100);
    expect(await hashes(file('mp2t.ts'), false)).toEqual(ref);
    expect(await decodeErrors(file('mp2t.ts'))).toEqual([]);
    const n = runs['mp2t-null']!;
    expect(n.code, n.stderr).toBe(0);
    const t = await stats('mp2t-null');
    expect(t.sink.decodedFrames).toEqual({ 0: 100 });
    expect(t.sink.decodeErrors).toBe(0);
  });
});
