import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { H264_RTPMAP, h264Fmtp, parseAvcDecoderConfig, parseH264Fmtp } from '../../src/codecs/index.ts';
import { AVCC_HEX } from './gstreamer-vectors.ts';
import { hex } from './helpers.ts';

const SPS = '6764000aacd94426c044000003000400000300283c489658';
const PPS = '68ebe3cb22c0';

describe('parseAvcDecoderConfig', () => {
  it('reads the avcC of a libx264 High-profile file', () => {
    // 01 version | 64 profile 100 | 00 compat | 0a level 1.0 | ff: lengthSizeMinusOne 3 | e1: 1 SPS
    // 0018 SPS (24 bytes) | 01 PPS count | 0006 PPS | fd: chroma 1 | f8: luma 8 | f8: chroma 8 | 00 no ext
    expect(AVCC_HEX).toBe('0164000affe10018' + SPS + '010006' + PPS + 'fdf8f800');
    const r = parseAvcDecoderConfig(hex(AVCC_HEX));
    if (!r.ok) throw new Error(r.code);
    expect(r.value).toMatchObject({
      configurationVersion: 1,
      profileIdc: 100,
      profileCompat: 0,
      levelIdc: 10,
      lengthSize: 4,
      chromaFormat: 1,
      bitDepthLuma: 8,
      bitDepthChroma: 8,
      spsExt: [],
    });
    expect(r.value.sps.map((b) => b.toString('hex'))).toEqual([SPS]);
    expect(r.value.pps.map((b) => b.toString('hex'))).toEqual([PPS]);
  });

  it('reads a Baseline avcC with 2-byte lengths and two PPS, without the High tail', () => {
    // 01 | 42 c0 1e | fd: lengthSize 2 | e1 | 0004 6742c01e | 02 | 0002 68ce | 0002 6853
    const r = parseAvcDecoderConfig(hex('01 42c01e fd e1 0004 6742c01e 02 0002 68ce 0002 6853'));
    if (!r.ok) throw new Error(r.code);
    expect(r.value).toMatchObject({ profileIdc: 66, profileCompat: 0xc0, levelIdc: 30, lengthSize: 2 });
    expect(r.value.pps.map((b) => b.toString('hex'))).toEqual(['68ce', '6853']);
    expect(r.value.chromaFormat).toBeUndefined();
  });

  it.each([
    ['short', '01 42c01e ff', 'CODEC_ERR_TRUNCATED'],
    ['version 0', '00 42c01e ff e1 0004 6742c01e 00', 'CODEC_ERR_AVCC_BAD_VERSION'],
    ['3-byte lengths', '01 42c01e fe e1 0004 6742c01e 00', 'CODEC_ERR_AVCC_BAD_LENGTH_SIZE'],
    ['SPS cut', '01 42c01e ff e1 0008 6742c01e', 'CODEC_ERR_TRUNCATED'],
    ['PPS count missing', '01 42c01e ff e1 0004 6742c01e', 'CODEC_ERR_TRUNCATED'],
    ['SPS of type 8', '01 42c01e ff e1 0004 6842c01e 00', 'CODEC_ERR_AVCC_BAD_PARAMETER_SET'],
    ['PPS empty', '01 42c01e ff e1 0004 6742c01e 01 0000', 'CODEC_ERR_AVCC_BAD_PARAMETER_SET'],
  ])('rejects %s', (_name, bytes, code) => {
    expect(parseAvcDecoderConfig(hex(bytes))).toMatchObject({ ok: false, code });
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (b) => void parseAvcDecoderConfig(Buffer.from(b))),
      { numRuns: 1000 },
    );
  });
});

describe('H.264 fmtp', () => {
  it('writes profile-level-id from SPS bytes 1..3 and base64 parameter sets', () => {
    // base64 computed with Python's base64 module; ffmpeg's SDP for this file shows the same sets
    expect(h264Fmtp({ sps: hex(SPS), pps: hex(PPS) })).toBe(
      'packetization-mode=1;profile-level-id=64000a;sprop-parameter-sets=Z2QACqzZRCbARAAAAwAEAAADACg8SJZY,aOvjyyLA',
    );
    expect(H264_RTPMAP).toBe('H264/90000');
  });

  it('parses the fmtp ffmpeg writes for the same file', () => {
    const r = parseH264Fmtp(
      'packetization-mode=1; sprop-parameter-sets=Z2QACqzZRCbARAAAAwAEAAADACg8SJZY,aOvjyyLA; profile-level-id=64000A',
    );
    if (!r.ok) throw new Error(r.code);
    expect(r.value.packetizationMode).toBe(1);
    expect(r.value.profileLevelId).toEqual({ profileIdc: 100, profileIop: 0, levelIdc: 10 });
    expect(r.value.sps.map((b) => b.toString('hex'))).toEqual([SPS]);
    expect(r.value.pps.map((b) => b.toString('hex'))).toEqual([PPS]);
  });

  it('round-trips its own output and takes a name → value map', () => {
    const r = parseH264Fmtp(h264Fmtp({ sps: [hex(SPS)], pps: [hex(PPS), hex('68ce3c80')] }));
    expect(r.ok && r.value.pps.map((b) => b.toString('hex'))).toEqual([PPS, '68ce3c80']);
    const m = parseH264Fmtp({ 'Packetization-Mode': '1', 'sprop-parameter-sets': 'Z0IAHg==,aM48gA==,' });
    expect(m.ok && [m.value.packetizationMode, m.value.sps[0]!.toString('hex'), m.value.pps[0]!.toString('hex')]).toEqual([
      1,
      '6742001e',
      '68ce3c80',
    ]);
  });

  it('defaults packetization-mode to 0 and tolerates a bad profile-level-id', () => {
    const r = parseH264Fmtp('profile-level-id=xyz');
    expect(r.ok && [r.value.packetizationMode, r.value.profileLevelId]).toEqual([0, undefined]);
  });

  it.each([['sprop-parameter-sets=Z0IA*B'], ['sprop-parameter-sets=Z'], ['packetization-mode=one']])('rejects %s', (fmtp) => {
    expect(parseH264Fmtp(fmtp)).toMatchObject({ ok: false, code: 'CODEC_ERR_FMTP_BAD_PARAM' });
  });

  it('never throws on random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => void parseH264Fmtp(s)),
      { numRuns: 1000 },
    );
  });
});
