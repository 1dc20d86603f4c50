import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { aacFmtp, aacRtpmap, parseAacFmtp, parseAudioSpecificConfig } from '../../src/codecs/index.ts';
import { ASC_HEX } from './gstreamer-vectors.ts';
import { bits, hex } from './helpers.ts';

describe('parseAudioSpecificConfig', () => {
  it.each([
    // objectType (5) | frequency index (4) | channels (4) | frameLength, dependsOnCore, extension (3)
    ['AAC-LC 48 kHz stereo', '1190', { objectType: 2, sampleRate: 48000, channels: 2, frameLength: 1024 }], // 00010 0011 0010 000
    ['AAC-LC 44.1 kHz stereo', '1210', { objectType: 2, sampleRate: 44100, channels: 2, frameLength: 1024 }], // 00010 0100 0010 000
    ['AAC-LC 48 kHz mono from y.mp4, sync extension without SBR', ASC_HEX, { objectType: 2, sampleRate: 48000, channels: 1, sbr: false }],
    ['AAC-LC 44.1 kHz stereo from libavcodec, sync extension', '121056e500', { sampleRate: 44100, channels: 2, sbr: false }],
    [
      'AAC-LC 8 kHz 5.1 with 960-sample frames',
      bits('00010 1011 0110 100').toString('hex'),
      { sampleRate: 8000, channels: 6, frameLength: 960 },
    ],
    ['channelConfiguration 7 = 8 channels', bits('00010 0011 0111 000').toString('hex'), { channels: 8 }],
  ])('%s', (_name, h, expected) => {
    const r = parseAudioSpecificConfig(hex(h));
    if (!r.ok) throw new Error(r.code);
    expect(r.value).toMatchObject({ ...expected, hex: h });
  });

  it('reads an explicit 24-bit sampling frequency', () => {
    // 00010 (LC) | 1111 (explicit) | 0000 0000 1010 1100 0100 0100 (44100) | 0001 (mono) | 000
    const r = parseAudioSpecificConfig(bits('00010 1111 000000001010110001000100 0001 000'));
    expect(r.ok && [r.value.sampleRate, r.value.channels]).toEqual([44100, 1]);
  });

  it('reads explicit HE-AAC (object type 5) with the extension rate and the core type', () => {
    // 00101 (SBR) | 0110 (24 kHz) | 0010 (stereo) | 0011 (ext 48 kHz) | 00010 (LC core) | 000 = 2b 11 88 00
    expect(bits('00101 0110 0010 0011 00010 000').toString('hex')).toBe('2b118800');
    const r = parseAudioSpecificConfig(hex('2b118800'));
    if (!r.ok) throw new Error(r.code);
    expect(r.value).toMatchObject({
      objectType: 5,
      coreObjectType: 2,
      sampleRate: 24000,
      extensionSampleRate: 48000,
      sbr: true,
      ps: false,
      channels: 2,
    });
  });

  it('reads backward-compatible SBR + PS signalling (sync extensions 0x2b7 and 0x548)', () => {
    // LC 24 kHz mono | GA 000 | 0x2b7 (11) | AOT 5 | sbr 1 | ext 48 kHz (0011) | 0x548 (11) | ps 1
    const r = parseAudioSpecificConfig(bits('00010 0110 0001 000 01010110111 00101 1 0011 10101001000 1'));
    expect(r.ok && r.value).toMatchObject({ objectType: 2, sbr: true, ps: true, extensionSampleRate: 48000 });
  });

  it('reads an escaped object type (31 → 32 + 7 = 39, ER AAC ELD)', () => {
    // 11111 000111 (39) | 0011 (48 kHz) | 0010 (stereo) | frameLengthFlag 1 → 480
    const r = parseAudioSpecificConfig(bits('11111 000111 0011 0010 1'));
    expect(r.ok && r.value).toMatchObject({ objectType: 39, sampleRate: 48000, channels: 2, frameLength: 480 });
  });

  it('counts channels from a program_config_element when channelConfiguration is 0', () => {
    const pce =
      '0000 01 0011' + // element_instance_tag, object_type, sampling_frequency_index
      '0010 0000 0001 01 000 0000' + // 2 front, 0 side, 1 back, 1 LFE, 0 assoc, 0 cc
      '0 0 0' + // no mixdowns
      '0 0000 1 0001' + // front: SCE, CPE
      '1 0010' + // back: CPE
      '0000'; // LFE tag
    // LC 48 kHz, channelConfiguration 0, GA 000, PCE (1 + 2 + 2 + 1 = 6 channels), byte align, no comment
    const r = parseAudioSpecificConfig(bits('00010 0011 0000 000 ' + pce + '000 00000000'));
    expect(r.ok && [r.value.channelConfiguration, r.value.channels]).toEqual([0, 6]);
  });

  it.each([
    ['empty', '', 'CODEC_ERR_TRUNCATED'],
    ['one byte', '11', 'CODEC_ERR_TRUNCATED'],
    ['reserved frequency index 13', bits('00010 1101 0010 000').toString('hex'), 'CODEC_ERR_ASC_RESERVED_VALUE'],
    ['reserved channelConfiguration 8', bits('00010 0011 1000 000').toString('hex'), 'CODEC_ERR_ASC_RESERVED_VALUE'],
    ['object type 34 (MP3)', bits('11111 000010 0011 0010 0').toString('hex'), 'CODEC_ERR_ASC_UNSUPPORTED_OBJECT_TYPE'],
  ])('rejects %s', (_name, h, code) => {
    expect(parseAudioSpecificConfig(hex(h))).toMatchObject({ ok: false, code });
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => void parseAudioSpecificConfig(Buffer.from(b))),
      { numRuns: 2000 },
    );
  });
});

describe('AAC fmtp', () => {
  it('writes AAC-hbr parameters with the config in hex', () => {
    expect(aacFmtp({ config: hex('1190') })).toBe(
      'streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190',
    );
    expect(aacRtpmap(48000, 2)).toBe('mpeg4-generic/48000/2');
  });

  it('parses the fmtp ffmpeg writes (upper-case hex, spaces)', () => {
    const r = parseAacFmtp('profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=118856E500');
    if (!r.ok) throw new Error(r.code);
    expect(r.value).toMatchObject({ mode: 'AAC-hbr', profileLevelId: 1, sizeLength: 13, indexLength: 3, indexDeltaLength: 3 });
    expect(r.value.config.toString('hex')).toBe('118856e500');
  });

  it('round-trips its own output', () => {
    const r = parseAacFmtp(aacFmtp({ config: hex('1210'), profileLevelId: 41 }));
    expect(r.ok && [r.value.streamType, r.value.profileLevelId, r.value.config.toString('hex')]).toEqual([5, 41, '1210']);
  });

  it('reads AAC-lbr values and defaults absent index lengths to 0', () => {
    const r = parseAacFmtp('streamtype=5;mode=AAC-lbr;SizeLength=6;config=1190;constantDuration=1024');
    expect(r.ok && [r.value.sizeLength, r.value.indexLength, r.value.indexDeltaLength, r.value.constantDuration]).toEqual([6, 0, 0, 1024]);
  });

  it.each([
    ['mode missing', 'sizelength=13;config=1190', 'CODEC_ERR_FMTP_MISSING_PARAM'],
    ['config missing', 'mode=AAC-hbr;sizelength=13', 'CODEC_ERR_FMTP_MISSING_PARAM'],
    ['sizelength missing', 'mode=AAC-hbr;config=1190', 'CODEC_ERR_FMTP_MISSING_PARAM'],
    ['odd hex', 'mode=AAC-hbr;sizelength=13;config=119', 'CODEC_ERR_FMTP_BAD_PARAM'],
    ['bad number', 'mode=AAC-hbr;sizelength=x;config=1190', 'CODEC_ERR_FMTP_BAD_PARAM'],
    ['CTS deltas', 'mode=AAC-hbr;sizelength=13;ctsdeltalength=16;config=1190', 'CODEC_ERR_FMTP_UNSUPPORTED'],
  ])('rejects %s', (_name, fmtp, code) => {
    expect(parseAacFmtp(fmtp)).toMatchObject({ ok: false, code });
  });

  it('never throws on random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => void parseAacFmtp(s)),
      { numRuns: 1000 },
    );
  });
});
