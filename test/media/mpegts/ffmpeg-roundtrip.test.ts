/**
 * Real-peer round trip: media/sample.mp4 (H.264 Main with B-frames + AAC-LC) read with openMp4,
 * muxed by TsMuxer, and read back by ffprobe/ffmpeg:
 * - ffprobe sees every packet with our PTS/DTS exactly (ffmpeg's TS demuxer adds no offset; we
 *   add 1.4 s ourselves, like ffmpeg's own TS muxer, so the AAC priming frame stays positive)
 *   and the sizes we expect (Annex B = MP4 sample size + 6-byte AUD + SPS/PPS before IDRs;
 *   ADTS = raw + 7);
 * - decoded video frames are bit-identical to decoding the MP4 (framemd5), AAC packets are
 *   byte-identical (framemd5 with -c copy; aac_adtstoasc strips the ADTS header on the TS side);
 * - `ffmpeg -i out.ts -c copy out.mp4|out.mkv` runs without a single warning, and the remuxed
 *   files decode to the same frames.
 * Then the same with the DTS derived from PTS alone by DtsDeriver, as the receiver does for RTP,
 * including timestamps that start just before the 33-bit wrap.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseAudioSpecificConfig, parseAvcDecoderConfig, splitLengthPrefixed } from '../../../src/codecs/index.ts';
import { openMp4, type Track } from '../../../src/media/index.ts';
import { TsMuxer } from '../../../src/media/mpegts/index.ts';
import { DtsDeriver, h264ReorderInfo, parseH264Sps, type DtsDeriverOptions } from '../../../src/receiver/dts/index.ts';
import { describeWithPeers } from '../../helpers/peers.ts';

const SAMPLE = new URL('../../../media/sample.mp4', import.meta.url).pathname;
const OFFSET = 126000; // 1.4 s at 90 kHz

interface Sample {
  pts: number;
  dts: number;
  key: boolean;
  data: Buffer;
}

let dir: string;
let video: Sample[] = [];
let audio: Sample[] = [];
let sps: Buffer[] = [];
let pps: Buffer[] = [];
let asc: { objectType: number; sampleRate: number; channelConfiguration: number };

function run(bin: string, args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(bin, ['-hide_banner', ...(bin === 'ffmpeg' ? ['-nostdin'] : []), ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')}: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** The packet md5 column of `ffmpeg -f framemd5` (side data such as AAC skip samples is not compared). */
function framemd5(path: string, args: string[]): string[] {
  const out = run('ffmpeg', ['-v', 'error', '-i', path, ...args, '-f', 'framemd5', '-']).stdout;
  return out
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',')[5]!.trim()); // stream, dts, pts, duration, size, md5[, side data]
}

function probe(path: string): Map<string, [number, number, number][]> {
  const json = JSON.parse(run('ffprobe', ['-v', 'error', '-show_packets', '-show_entries', 'packet=codec_type,pts,dts,size', '-of', 'json', path]).stdout) as {
    packets: { codec_type: string; pts: number; dts: number; size: string }[];
  };
  const m = new Map<string, [number, number, number][]>();
  for (const p of json.packets) {
    if (!m.has(p.codec_type)) m.set(p.codec_type, []);
    m.get(p.codec_type)!.push([p.pts, p.dts, Number(p.size)]);
  }
  return m;
}

/** Remuxes with -c copy; returns ffmpeg's warnings (expected: none). */
function remux(from: string, to: string): string {
  return run('ffmpeg', ['-v', 'warning', '-y', '-i', from, '-c', 'copy', to]).stderr.trim();
}

async function load(track: Track, read: (t: Track) => Promise<Buffer[]>): Promise<Sample[]> {
  const data = await read(track);
  const k = 90000 / track.timescale;
  const out: Sample[] = [];
  for (let i = 0; i < track.samples.count; i++) {
    out.push({ pts: track.samples.pts[i]! * k, dts: track.samples.dts[i]! * k, key: track.samples.keyframe[i] === 1, data: data[i]! });
  }
  return out;
}

/** Muxes the sample with the given video DTS (90 kHz, before OFFSET) and timestamp base. */
function writeTs(name: string, videoDts: readonly number[], base = OFFSET): string {
  const m = new TsMuxer();
  const vp = m.addStream({ kind: 'h264', sps, pps });
  const ap = m.addStream({ kind: 'aac', config: asc });
  if (!vp.ok || !ap.ok) throw new Error('addStream');
  const unwrap = <T>(r: { ok: true; value: T } | { ok: false; code: string }): T => {
    if (!r.ok) throw new Error(r.code);
    return r.value;
  };
  const v = video.map((s, i) => ({
    dts: videoDts[i]!,
    write: () => unwrap(m.writeAccessUnit(vp.value, { pts90k: s.pts + base, dts90k: videoDts[i]! + base, keyframe: s.key, data: unwrap(splitLengthPrefixed(s.data, 4)) })),
  }));
  const a = audio.map((s) => ({ dts: s.dts, write: () => unwrap(m.writeAccessUnit(ap.value, { pts90k: s.pts + base, keyframe: true, data: s.data })) }));
  const packets: Buffer[] = [];
  // Interleave by DTS, each stream kept in its own (decode) order.
  for (let i = 0, j = 0; i < v.length || j < a.length; ) {
    if (j >= a.length || (i < v.length && v[i]!.dts <= a[j]!.dts)) packets.push(...v[i++]!.write());
    else packets.push(...a[j++]!.write());
  }
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat(packets));
  return path;
}

function deriveDts(opts: DtsDeriverOptions, base = 0): number[] {
  const d = new DtsDeriver<{ pts: number; i: number }>(opts);
  const out = [...video.map((s, i) => d.push({ pts: s.pts + base, i })).flat(), ...d.flush()];
  expect(out.map((o) => o.unit.i)).toEqual(video.map((_, i) => i));
  expect(d.stats.ptsRaised).toBe(0);
  return out.map((o) => o.dts - base);
}

describeWithPeers('MPEG-TS round trip through ffmpeg', ['ffmpeg', 'ffprobe'], () => {
  let srcVideoMd5: string[];
  let srcAudioMd5: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'streamlab-ts-'));
    const f = await openMp4(SAMPLE);
    try {
      const v = f.tracks.find((t) => t.kind === 'video')!;
      const a = f.tracks.find((t) => t.kind === 'audio')!;
      const avcc = parseAvcDecoderConfig(v.codecConfig!);
      const c = parseAudioSpecificConfig(a.codecConfig!);
      if (!avcc.ok || !c.ok) throw new Error('config');
      sps = avcc.value.sps;
      pps = avcc.value.pps;
      asc = c.value;
      video = await load(v, (t) => f.readSamples(t, 0, t.sampleCount));
      audio = await load(a, (t) => f.readSamples(t, 0, t.sampleCount));
    } finally {
      await f.close();
    }
    srcVideoMd5 = framemd5(SAMPLE, ['-map', '0:v']);
    srcAudioMd5 = framemd5(SAMPLE, ['-map', '0:a', '-c:a', 'copy']);
    expect(srcVideoMd5.length).toBe(500);
    expect(srcAudioMd5.length).toBe(939);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Decoded video, copied audio, and both remuxes, against the source. */
  function expectSameAsSource(ts: string): void {
    expect(framemd5(ts, ['-map', '0:v'])).toEqual(srcVideoMd5);
    expect(framemd5(ts, ['-map', '0:a', '-c:a', 'copy', '-bsf:a', 'aac_adtstoasc'])).toEqual(srcAudioMd5);
    for (const ext of ['mp4', 'mkv']) {
      const out = ts.replace(/\.ts$/, `.${ext}`);
      expect(remux(ts, out)).toBe('');
      expect(framemd5(out, ['-map', '0:v'])).toEqual(srcVideoMd5);
      expect(framemd5(out, ['-map', '0:a', '-c:a', 'copy'])).toEqual(srcAudioMd5);
    }
  }

  it('with the true DTS: ffprobe sees our timestamps and sizes; frames identical; remux clean', () => {
    const ts = writeTs('true.ts', video.map((s) => s.dts));
    const p = probe(ts);
    const spsPpsBytes = sps.reduce((n, b) => n + 4 + b.length, 0) + pps.reduce((n, b) => n + 4 + b.length, 0);
    const hasSps = (s: Sample) => {
      for (let off = 0; off < s.data.length; off += 4 + s.data.readUInt32BE(off)) if ((s.data[off + 4]! & 0x1f) === 7) return true;
      return false;
    };
    expect(p.get('video')).toEqual(video.map((s) => [s.pts + OFFSET, s.dts + OFFSET, s.data.length + 6 + (s.key && !hasSps(s) ? spsPpsBytes : 0)]));
    expect(p.get('audio')).toEqual(audio.map((s) => [s.pts + OFFSET, s.dts + OFFSET, s.data.length + 7]));
    expectSameAsSource(ts);
  });

  it('with DTS derived from PTS alone (SPS depth 2, VUI duration): equal to the true DTS, same frames', () => {
    const info = h264ReorderInfo((parseH264Sps(sps[0]!) as { ok: true; value: Parameters<typeof h264ReorderInfo>[0] }).value);
    expect(info).toEqual({ reorderDepth: 2, frameDuration90k: 3600 });
    const dts = deriveDts({ reorderDepth: info.reorderDepth!, frameDuration: info.frameDuration90k! });
    expect(dts).toEqual(video.map((s) => s.dts)); // x264 + MP4: exactly the same rule
    expectSameAsSource(writeTs('derived.ts', dts));
  });

  it('with the depth inferred from the stream alone (default 0, lookahead 2): same frames, remux clean', () => {
    const dts = deriveDts({ defaultReorderDepth: 0, lookahead: 2 });
    expect(dts).not.toEqual(video.map((s) => s.dts)); // a different but valid schedule
    expectSameAsSource(writeTs('inferred.ts', dts));
  });

  it('a naive mux with DTS = PTS is caught by the same checks (the checks can fail)', () => {
    const ts = writeTs('naive.ts', video.map((s) => s.pts));
    expect(remux(ts, join(dir, 'naive.mp4'))).toMatch(/out of order|non monoton|unknown timestamp|Invalid DTS/i);
  });

  it('RTP-like timestamps that cross the 33-bit PES wrap 2 s in: same frames, remux clean', () => {
    const base = 2 ** 33 - 2 * 90000;
    const dts = deriveDts({ reorderDepth: 2 }, base);
    expectSameAsSource(writeTs('wrap.ts', dts, base));
  });
});

/** hvcC (ISO/IEC 14496-15 §8.3.3): 22 bytes of fields, numOfArrays, then arrays of NAL units. */
function hvccNalus(c: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = 23;
  for (let a = 0; a < c[22]!; a++) {
    const n = c.readUInt16BE(off + 1);
    off += 3;
    for (let i = 0; i < n; i++) {
      const len = c.readUInt16BE(off);
      out.push(c.subarray(off + 2, off + 2 + len));
      off += 2 + len;
    }
  }
  return out;
}

describeWithPeers('MPEG-TS round trip: H.265 with B-pyramid + Opus', ['ffmpeg', 'ffprobe'], () => {
  let hdir: string;
  let mp4: string;
  beforeAll(() => {
    hdir = mkdtempSync(join(tmpdir(), 'streamlab-ts-hevc-'));
    mp4 = join(hdir, 'hevc.mp4');
    run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=2', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=2',
      '-map', '0:v', '-map', '1:a', '-c:v', 'libx265', '-x265-params', 'bframes=3:b-pyramid=1:keyint=25:log-level=error', '-pix_fmt', 'yuv420p',
      '-c:a', 'libopus', '-b:a', '64k', '-ac', '2', '-fflags', '+bitexact', mp4]);
  });
  afterAll(() => {
    if (hdir) rmSync(hdir, { recursive: true, force: true });
  });

  for (const mode of ['true', 'derived'] as const) {
    it(`${mode} DTS: decoded frames and Opus packets identical, remux to mkv clean`, async () => {
      const f = await openMp4(mp4);
      const v = f.tracks.find((t) => t.kind === 'video')!;
      const a = f.tracks.find((t) => t.kind === 'audio')!;
      expect([v.codec, a.codec]).toEqual(['h265', 'opus']);
      const vs = await load(v, (t) => f.readSamples(t, 0, t.sampleCount));
      const as = await load(a, (t) => f.readSamples(t, 0, t.sampleCount));
      await f.close();
      const ps = hvccNalus(v.codecConfig!);
      const byType = (t: number) => ps.filter((n) => ((n[0]! >> 1) & 0x3f) === t);
      let vdts = vs.map((s) => s.dts);
      if (mode === 'derived') {
        const d = new DtsDeriver<{ pts: number }>();
        const out = [...vs.flatMap((s) => d.push({ pts: s.pts })), ...d.flush()];
        expect(d.stats.ptsRaised).toBe(0);
        vdts = out.map((o) => o.dts);
      }
      const m = new TsMuxer();
      const vp = m.addStream({ kind: 'h265', vps: byType(32), sps: byType(33), pps: byType(34) });
      const ap = m.addStream({ kind: 'opus', channels: a.channels! });
      if (!vp.ok || !ap.ok) throw new Error('addStream');
      const events: { dts: number; pid: number; au: Parameters<TsMuxer['writeAccessUnit']>[1] }[] = [];
      vs.forEach((s, i) => {
        const nalus = splitLengthPrefixed(s.data, 4);
        if (!nalus.ok) throw new Error(nalus.code);
        events.push({ dts: vdts[i]!, pid: vp.value, au: { pts90k: s.pts + OFFSET, dts90k: vdts[i]! + OFFSET, keyframe: s.key, data: nalus.value } });
      });
      as.forEach((s) => events.push({ dts: s.dts, pid: ap.value, au: { pts90k: s.pts + OFFSET, keyframe: true, data: s.data } }));
      events.sort((x, y) => x.dts - y.dts); // both DTS series increase: decode order is kept
      const ts = join(hdir, `${mode}.ts`);
      writeFileSync(ts, Buffer.concat(events.flatMap((e) => {
        const r = m.writeAccessUnit(e.pid, e.au);
        if (!r.ok) throw new Error(r.code);
        return r.value;
      })));
      const srcV = framemd5(mp4, ['-map', '0:v']);
      expect(srcV.length).toBe(50);
      expect(framemd5(ts, ['-map', '0:v'])).toEqual(srcV);
      const srcA = framemd5(mp4, ['-map', '0:a', '-c:a', 'copy']);
      expect(framemd5(ts, ['-map', '0:a', '-c:a', 'copy'])).toEqual(srcA);
      const mkv = join(hdir, `${mode}.mkv`);
      expect(remux(ts, mkv)).toBe('');
      expect(framemd5(mkv, ['-map', '0:v'])).toEqual(srcV);
    });
  }
});
