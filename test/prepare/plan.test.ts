/**
 * Preparation plans (src/media/prepare/plan.ts): route and per-stream action from a probe, and the
 * ffmpeg arguments that carry them out. One case table.
 */
import { describe, expect, it } from 'vitest';
import { ffmpegOutputArgs, planPreparation, parseTimemark, renderProgressLine } from '../../src/media/prepare/index.ts';
import type { ProbeInfo, ProbedStream } from '../../src/media/prepare/index.ts';

const v = (index: number, codec: string, extra: Partial<ProbedStream> = {}): ProbedStream => ({ index, type: 'video', codec, ...extra });
const a = (index: number, codec: string, sampleRate = 48000, channels = 2): ProbedStream => ({
  index,
  type: 'audio',
  codec,
  sampleRate,
  channels,
});
const info = (...streams: ProbedStream[]): ProbeInfo => ({ format: 'x', durationSec: 4, streams });

const cases: [string, ProbeInfo, string, string, string][] = [
  // name, probe, route, summary, per stream "codec:action→out"
  ['H.264 + AAC in MKV', info(v(0, 'h264'), a(1, 'aac')), 'mp4', 'remux', 'h264:copy→h264 aac:copy→aac'],
  ['H.265 + Opus in WebM-like', info(v(0, 'hevc'), a(1, 'opus')), 'mp4', 'remux', 'hevc:copy→hevc opus:copy→opus'],
  ['MP3 with cover art', info(a(0, 'mp3', 44100), v(1, 'mjpeg', { attachedPic: true })), 'mp4', 'remux', 'mp3:copy→mp3'],
  ['µ-law 8 kHz mono WAV', info(a(0, 'pcm_mulaw', 8000, 1)), 'mov', 'remux', 'pcm_mulaw:copy→pcm_mulaw'],
  [
    'µ-law longer than the MOV sample cap allows',
    { format: 'wav', durationSec: 600, streams: [a(0, 'pcm_mulaw', 8000, 1)] },
    'mp4',
    'transcode',
    'pcm_mulaw:transcode→aac',
  ],
  ['A-law 16 kHz: not RTP G.711', info(a(0, 'pcm_alaw', 16000, 1)), 'mp4', 'transcode', 'pcm_alaw:transcode→aac'],
  [
    'G.711 next to Opus: Opus to AAC (MOV has no Opus)',
    info(a(0, 'pcm_mulaw', 8000, 1), a(1, 'opus')),
    'mov',
    'transcode',
    'pcm_mulaw:copy→pcm_mulaw opus:transcode→aac',
  ],
  ['MPEG-2 + AC-3 in TS: MP2T route', info(v(0, 'mpeg2video'), a(1, 'ac3')), 'mp2t', 'mp2t', 'mpeg2video:copy→mpeg2video ac3:copy→ac3'],
  ['H.264 + E-AC-3: MP2T route', info(v(0, 'h264'), a(1, 'eac3')), 'mp2t', 'mp2t', 'h264:copy→h264 eac3:copy→eac3'],
  [
    'MPEG-4 Part 2 + Vorbis: MP2T route, Vorbis transcoded',
    info(v(0, 'mpeg4'), a(1, 'vorbis')),
    'mp2t',
    'mp2t',
    'mpeg4:copy→mpeg4 vorbis:transcode→aac',
  ],
  ['VP9 + Vorbis in WebM', info(v(0, 'vp9'), a(1, 'vorbis')), 'mp4', 'transcode', 'vp9:transcode→h264 vorbis:transcode→aac'],
  ['H.264 + FLAC: only the audio', info(v(0, 'h264'), a(1, 'flac')), 'mp4', 'transcode', 'h264:copy→h264 flac:transcode→aac'],
  [
    'AV1 + PCM + subtitles',
    info(v(0, 'av1'), a(1, 'pcm_s16le'), { index: 2, type: 'other', codec: 'subrip' }),
    'mp4',
    'transcode',
    'av1:transcode→h264 pcm_s16le:transcode→aac',
  ],
];

describe('planPreparation', () => {
  it.each(cases)('%s', (_name, probe, route, summary, streams) => {
    const p = planPreparation(probe);
    if (!p.ok) throw new Error(p.reason);
    expect(p.route).toBe(route);
    expect(p.summary).toBe(summary);
    expect(p.streams.map((s) => `${s.codec}:${s.action}→${s.codecOut}`).join(' ')).toBe(streams);
  });

  it('refuses text files and files without audio or video', () => {
    expect(planPreparation({ format: 'tty', streams: [v(0, 'ansi')] }).ok).toBe(false);
    expect(planPreparation(info({ index: 0, type: 'other', codec: 'subrip' })).ok).toBe(false);
  });
});

describe('ffmpegOutputArgs', () => {
  it('maps only the kept streams; copy or encoder per output stream; container flags per route', () => {
    const p = planPreparation(info(v(0, 'vp9'), { index: 1, type: 'other', codec: 'subrip' }, a(2, 'aac')));
    if (!p.ok) throw new Error(p.reason);
    expect(ffmpegOutputArgs(p, { crf: 23 })).toEqual([
      '-map',
      '0:0',
      '-map',
      '0:2',
      '-c:0',
      'libx264',
      '-preset:0',
      'veryfast',
      '-crf:0',
      '23',
      '-pix_fmt:0',
      'yuv420p',
      '-c:1',
      'copy',
      '-map_metadata',
      '-1',
      '-map_chapters',
      '-1',
      '-f',
      'mp4',
      '-movflags',
      '+faststart',
    ]);
    const ts = planPreparation(info(v(0, 'mpeg2video'), a(1, 'ac3')));
    if (!ts.ok) throw new Error(ts.reason);
    expect(ffmpegOutputArgs(ts).slice(-4)).toEqual(['-f', 'mpegts', '-mpegts_flags', '+pat_pmt_at_frames']);
  });
});

describe('progress', () => {
  it('reads ffmpeg status lines and draws the bar', () => {
    expect(parseTimemark('frame=  50 fps=0.0 q=28.0 size=      0kB time=00:01:02.50 bitrate=   0.0kbits/s speed=4.1x')).toBe(62.5);
    expect(parseTimemark('Input #0, matroska')).toBeUndefined();
    expect(renderProgressLine('/x/clip.webm', { fraction: 0.5, etaSec: 75, elapsedMs: 1, stage: 'transcode' }, 10)).toBe(
      '[#####.....]  50%  clip.webm  transcode  ETA 1m15s',
    );
  });
});
