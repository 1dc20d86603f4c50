import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  H265_RTPMAP,
  H265Depacketizer,
  h265Fmtp,
  packetizeH265,
  parseH265Fmtp,
  parseHevcDecoderConfig,
} from '../../src/codecs/h265/index.ts';
import { splitLengthPrefixed } from '../../src/codecs/index.ts';
import { openMp4 } from '../../src/media/index.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { hex, inputs } from './helpers.ts';

const HVCC = hex(
  '01', //           configurationVersion=1
  '22', //           profile_space=0 tier=1 profile_idc=2 (Main 10): 00|1|00010
  '20000000', //     general_profile_compatibility_flags (flag 2)
  '900000000000', // general_constraint_indicator_flags
  '5d', //           general_level_idc=93 (level 3.1)
  'f000', //         '1111' min_spatial_segmentation_idc=0
  'fc', //           '111111' parallelismType=0
  'fd', //           '111111' chromaFormat=1
  'fa', //           '11111' bitDepthLumaMinus8=2
  'fa', //           '11111' bitDepthChromaMinus8=2
  '0000', //         avgFrameRate=0
  '0f', //           constantFrameRate=0 numTemporalLayers=1 temporalIdNested=1 lengthSizeMinusOne=3
  '03', //           numOfArrays=3
  'a0 0001 0004 40010c01', //        complete=1 type=32 | 1 NAL | 4 bytes | VPS
  'a1 0001 0003 420101', //          complete=1 type=33 | 1 NAL | 3 bytes | SPS
  'a2 0002 0002 4401 0003 4401c1', // complete=1 type=34 | 2 NALs | PPS, PPS
);

describe('parseHevcDecoderConfig (ISO/IEC 14496-15 §8.3.3.1)', () => {
  it('reads the fixed fields and the VPS/SPS/PPS arrays as views', () => {
    const r = parseHevcDecoderConfig(HVCC);
    if (!r.ok) throw new Error(r.code);
    const v = r.value;
    expect({ ...v, constraintIndicatorFlags: v.constraintIndicatorFlags.toString('hex'), vps: 0, sps: 0, pps: 0, arrays: 0 }).toEqual({
      configurationVersion: 1,
      profileSpace: 0,
      tierFlag: 1,
      profileIdc: 2,
      profileCompatibilityFlags: 0x20000000,
      constraintIndicatorFlags: '900000000000',
      levelIdc: 93,
      minSpatialSegmentationIdc: 0,
      parallelismType: 0,
      chromaFormat: 1,
      bitDepthLuma: 10,
      bitDepthChroma: 10,
      avgFrameRate: 0,
      constantFrameRate: 0,
      numTemporalLayers: 1,
      temporalIdNested: true,
      lengthSize: 4,
      vps: 0,
      sps: 0,
      pps: 0,
      arrays: 0,
    });
    expect([v.vps, v.sps, v.pps].map((l) => l.map((b) => b.toString('hex')))).toEqual([['40010c01'], ['420101'], ['4401', '4401c1']]);
    expect(v.arrays.map((a) => [a.arrayCompleteness, a.nalType, a.nalus.length])).toEqual([
      [true, 32, 1],
      [true, 33, 1],
      [true, 34, 2],
    ]);
    expect(v.sps[0]!.buffer).toBe(HVCC.buffer);
  });

  it('says TRUNCATED for every proper prefix', () => {
    for (let n = 0; n < HVCC.length; n++) {
      expect(parseHevcDecoderConfig(HVCC.subarray(0, n))).toMatchObject({ ok: false, code: 'CODEC_ERR_TRUNCATED' });
    }
  });

  it('rejects a bad version, 3-byte lengths and a parameter set of the wrong type', () => {
    const v0 = Buffer.from(HVCC);
    v0[0] = 0;
    expect(parseHevcDecoderConfig(v0)).toMatchObject({ ok: false, code: 'CODEC_ERR_AVCC_BAD_VERSION' });
    const l3 = Buffer.from(HVCC);
    l3[21] = 0x0e; // lengthSizeMinusOne=2
    expect(parseHevcDecoderConfig(l3)).toMatchObject({ ok: false, code: 'CODEC_ERR_AVCC_BAD_LENGTH_SIZE' });
    const wrong = Buffer.from(HVCC);
    wrong[23 + 3 + 2] = 0x42; // the VPS entry begins with an SPS header
    expect(parseHevcDecoderConfig(wrong)).toMatchObject({ ok: false, code: 'CODEC_ERR_AVCC_BAD_PARAMETER_SET' });
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.boolean(), (b, fix) => {
        const buf = Buffer.from(b);
        if (fix && buf.length > 0) buf[0] = 1;
        parseHevcDecoderConfig(buf);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('h265Fmtp / parseH265Fmtp (RFC 7798 §7.1)', () => {
  const vps = hex('40010c01');
  const sps = hex('420101');
  const pps = hex('4401c1');

  it('writes the sprop parameters in base64, with profile/tier/level when known', () => {
    // 40010c01 → QAEMAQ==, 420101 → QgEB, 4401c1 → RAHB
    expect(h265Fmtp({ vps, sps, pps })).toBe('sprop-vps=QAEMAQ==;sprop-sps=QgEB;sprop-pps=RAHB');
    expect(h265Fmtp({ vps, sps, pps, profileSpace: 0, tierFlag: 1, profileIdc: 2, levelIdc: 93 })).toBe(
      'profile-id=2;tier-flag=1;level-id=93;sprop-vps=QAEMAQ==;sprop-sps=QgEB;sprop-pps=RAHB',
    );
    expect(H265_RTPMAP).toBe('H265/90000');
    expect(() => h265Fmtp({ vps: [], sps, pps })).toThrow(RangeError);
  });

  it('parses what it writes, and from a parsed hvcC', () => {
    const cfg = parseHevcDecoderConfig(HVCC);
    if (!cfg.ok) throw new Error(cfg.code);
    const r = parseH265Fmtp(h265Fmtp(cfg.value));
    if (!r.ok) throw new Error(r.code);
    expect([r.value.profileId, r.value.tierFlag, r.value.levelId, r.value.profileSpace]).toEqual([2, 1, 93, 0]);
    expect([r.value.vps, r.value.sps, r.value.pps].map((l) => l.map((b) => b.toString('hex')))).toEqual([
      ['40010c01'],
      ['420101'],
      ['4401', '4401c1'],
    ]);
  });

  it('uses the RFC defaults, reads sprop-sei and tx-mode, and refuses DONL', () => {
    const r = parseH265Fmtp('sprop-sei=TgEF; tx-mode=srst');
    expect(r).toMatchObject({ ok: true, value: { profileSpace: 0, profileId: 1, tierFlag: 0, levelId: 93, txMode: 'SRST' } });
    if (r.ok) expect(r.value.sei.map((b) => b.toString('hex'))).toEqual(['4e0105']);
    expect(parseH265Fmtp('sprop-max-don-diff=0')).toMatchObject({ ok: true });
    expect(parseH265Fmtp('sprop-max-don-diff=2')).toMatchObject({ ok: false, code: 'CODEC_ERR_FMTP_UNSUPPORTED' });
    expect(parseH265Fmtp('sprop-depack-buf-nalus=1')).toMatchObject({ ok: false, code: 'CODEC_ERR_FMTP_UNSUPPORTED' });
    expect(parseH265Fmtp('level-id=x')).toMatchObject({ ok: false, code: 'CODEC_ERR_FMTP_BAD_PARAM' });
    expect(parseH265Fmtp('tier-flag=2')).toMatchObject({ ok: false, code: 'CODEC_ERR_FMTP_BAD_PARAM' });
    expect(parseH265Fmtp('sprop-sps=Q*EB')).toMatchObject({ ok: false, code: 'CODEC_ERR_FMTP_BAD_PARAM' });
  });

  it('never throws on random parameter text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => void parseH265Fmtp(s)),
      { numRuns: 1000 },
    );
  });
});

/** Independent of the code under test: NAL units of an Annex B stream (3- or 4-byte start codes). */
function annexB(buf: Buffer): Buffer[] {
  const starts: number[] = [];
  for (let i = 0; i + 2 < buf.length; i++) if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) starts.push(i + 3);
  return starts.map((s, k) => {
    let end = k + 1 < starts.length ? starts[k + 1]! - 3 : buf.length;
    while (end > s && buf[end - 1] === 0) end--;
    return buf.subarray(s, end);
  });
}

describeWithPeers('H.265 from a libx265 file (ffmpeg)', ['ffmpeg', 'ffprobe'], () => {
  let dir: string;
  let mp4: string;
  let annexBNalus: Buffer[];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'streamlab-h265-'));
    mp4 = join(dir, 'x.mp4');
    const ff = (args: string[]) => execFileSync('ffmpeg', ['-v', 'error', '-y', ...args], { stdio: 'pipe' });
    ff([
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=64x64:rate=5:duration=1',
      '-c:v',
      'libx265',
      '-pix_fmt',
      'yuv420p',
      '-x265-params',
      'log-level=error',
      '-tag:v',
      'hvc1',
      mp4,
    ]);
    // ffmpeg's own Annex B conversion: the parameter sets in front of the first IRAP, then the samples.
    ff(['-i', mp4, '-c', 'copy', '-bsf:v', 'hevc_mp4toannexb', '-f', 'hevc', join(dir, 'x.hevc')]);
    annexBNalus = annexB(readFileSync(join(dir, 'x.hevc')));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('parses the hvcC: profile/level as ffprobe reports them, parameter sets as ffmpeg writes them', async () => {
    const f = await openMp4(mp4);
    const track = f.tracks.find((t) => t.kind === 'video')!;
    await f.close();
    const r = parseHevcDecoderConfig(track.codecConfig!);
    if (!r.ok) throw new Error(r.code);
    const probe = JSON.parse(
      execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=profile,level', '-of', 'json', mp4], {
        encoding: 'utf8',
      }),
    ) as { streams: { profile: string; level: number }[] };
    expect(probe.streams[0]).toEqual({ profile: 'Main', level: r.value.levelIdc });
    expect(r.value).toMatchObject({ profileIdc: 1, profileSpace: 0, tierFlag: 0, lengthSize: 4, chromaFormat: 1, bitDepthLuma: 8 });
    const head = annexBNalus.slice(0, 3).map((n) => n.toString('hex'));
    expect([r.value.vps[0]!, r.value.sps[0]!, r.value.pps[0]!].map((n) => n.toString('hex'))).toEqual(head);
    expect(h265Fmtp(r.value)).toBe(
      `profile-id=1;tier-flag=0;level-id=${probe.streams[0]!.level};sprop-vps=${annexBNalus[0]!.toString('base64')};` +
        `sprop-sps=${annexBNalus[1]!.toString('base64')};sprop-pps=${annexBNalus[2]!.toString('base64')}`,
    );
  });

  it("packetize → depacketize gives back ffmpeg's Annex B stream, hvcC NAL units in front of the IRAP", async () => {
    const f = await openMp4(mp4);
    const track = f.tracks.find((t) => t.kind === 'video')!;
    const samples = await f.readSamples(track, 0, track.sampleCount);
    await f.close();
    const cfg = parseHevcDecoderConfig(track.codecConfig!);
    if (!cfg.ok) throw new Error(cfg.code);
    // hevc_mp4toannexb puts every hvcC array in front of the first IRAP (x265 stores an SEI there too).
    const parameterSets = cfg.value.arrays.flatMap((a) => a.nalus);
    expect(parameterSets.slice(0, 3)).toEqual([cfg.value.vps[0], cfg.value.sps[0], cfg.value.pps[0]]);
    const d = new H265Depacketizer();
    let seq = 1;
    const units = samples.flatMap((s, i) => {
      const nalus = splitLengthPrefixed(s, cfg.value.lengthSize);
      if (!nalus.ok) throw new Error(nalus.code);
      const ps = packetizeH265(nalus.value, { maxPayloadSize: 100, parameterSets });
      const out = inputs(ps, i * 18000, seq).flatMap((p) => d.push(p));
      seq += ps.length;
      return out;
    });
    expect(units.length).toBe(samples.length);
    expect(units.every((u) => u.complete)).toBe(true);
    expect(units.map((u) => u.keyframe)).toEqual(samples.map((_, i) => i === 0));
    expect(units.flatMap((u) => u.data.map((n) => n.toString('hex')))).toEqual(annexBNalus.map((n) => n.toString('hex')));
    expect(d.stats).toMatchObject({ lostPackets: 0, malformed: 0, droppedNalus: 0, unsupported: 0 });
  });
});
