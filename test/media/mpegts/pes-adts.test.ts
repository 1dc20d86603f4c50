/**
 * PES headers (PTS/DTS with 33-bit wrap) and ADTS headers, byte for byte, with the expected
 * bytes worked out by hand in the comments.
 */
import { describe, expect, it } from 'vitest';
import { adtsConfig, serializeAdtsHeader, serializePesHeader, wrap33, writePcr } from '../../../src/media/mpegts/index.ts';

describe('PES header', () => {
  it('PTS only: 90000 (1 s), audio stream, bounded length', () => {
    // 90000 = 0x15F90: bits 32..30 = 0, bits 29..15 = 0x0002, bits 14..0 = 0x5F90
    //   byte0 = 0010 000 1 = 0x21 | (0x0002 << 1 | 1) = 0x0005 | (0x5F90 << 1 | 1) = 0xBF21
    const h = serializePesHeader({ streamId: 0xc0, pts90k: 90000, payloadLength: 100, unbounded: false });
    expect(h.toString('hex')).toBe(
      '000001' + 'c0' + // start code, audio stream 0
        '006c' + // PES_packet_length = 3 + 5 + 100 = 108
        '84' + // '10', data_alignment_indicator
        '80' + // PTS only
        '05' + // header data length
        '21' + '0005' + 'bf21',
    );
  });

  it('PTS and DTS, video, unbounded length', () => {
    // pts 0x1_2345_6789 (needs 33 bits): bits 32..30 = 0b100, 29..15 = 0x468A, 14..0 = 0x6789
    //   PTS: 0011 100 1 = 0x39 | 0x468A<<1|1 = 0x8D15 | 0x6789<<1|1 = 0xCF13
    // dts 3600: bits 29..15 = 0, 14..0 = 0x0E10 -> 0001 000 1 = 0x11 | 0x0001 | 0x1C21
    const h = serializePesHeader({ streamId: 0xe0, pts90k: 0x1_2345_6789, dts90k: 3600, payloadLength: 70000, unbounded: true });
    expect(h.toString('hex')).toBe('000001e0' + '0000' + '84' + 'c0' + '0a' + '39' + '8d15' + 'cf13' + '11' + '0001' + '1c21');
  });

  it('wraps at 2^33: 2^33 + 5 is written as 5, -1 as 2^33 - 1', () => {
    const a = serializePesHeader({ streamId: 0xe0, pts90k: 2 ** 33 + 5, payloadLength: 0, unbounded: true });
    expect(a.subarray(9).toString('hex')).toBe('21' + '0001' + '000b'); // 5: lo = 5<<1|1 = 0x0B
    const b = serializePesHeader({ streamId: 0xe0, pts90k: -1, payloadLength: 0, unbounded: true });
    expect(b.subarray(9).toString('hex')).toBe('2f' + 'ffff' + 'ffff'); // all 33 bits set
    // A DTS equal to the PTS modulo 2^33 is left out.
    const c = serializePesHeader({ streamId: 0xe0, pts90k: 7, dts90k: 7 + 2 ** 33, payloadLength: 0, unbounded: true });
    expect(c.length).toBe(14);
    expect(wrap33(3 * 2 ** 33 + 12345)).toBe(12345);
    expect(wrap33(-(2 ** 33) - 2)).toBe(2 ** 33 - 2);
  });

  it('PES_packet_length is 0 when the packet would exceed 65535 bytes', () => {
    const h = serializePesHeader({ streamId: 0xc0, pts90k: 0, payloadLength: 65535 - 8 + 1, unbounded: false });
    expect(h.readUInt16BE(4)).toBe(0);
    const k = serializePesHeader({ streamId: 0xc0, pts90k: 0, payloadLength: 65535 - 8, unbounded: false });
    expect(k.readUInt16BE(4)).toBe(65535);
  });

  it('PCR: base 33 bits, 6 reserved ones, extension 0', () => {
    const b = Buffer.alloc(6);
    writePcr(b, 0, 2 ** 33 - 1);
    expect(b.toString('hex')).toBe('ffffffff' + 'fe' + '00');
    writePcr(b, 0, 90000 * 2 + 1); // 180001 = 0x2BF21: top 32 bits 0x15F90, low bit 1
    expect(b.toString('hex')).toBe('00015f90' + 'fe' + '00');
  });
});

describe('ADTS header', () => {
  it('AAC-LC 48 kHz stereo, 100-byte raw frame', () => {
    const c = adtsConfig({ objectType: 2, sampleRate: 48000, channelConfiguration: 2 });
    expect(c).toEqual({ ok: true, value: { profile: 1, samplingIndex: 3, channelConfiguration: 2 } });
    if (!c.ok) return;
    // frame_length = 107 = 0b000_0000_1101_011
    // FF F1: sync, MPEG-4, layer 0, no CRC
    // 4C: profile 01 | freq 0011 | private 0 | chan bit 2 = 0 -> 0100 1100
    // 80: chan low bits 10 | orig 0 home 0 | copyright 0 0 | frame_length bits 12..11 = 00
    // 0D: frame_length bits 10..3 = 107 >> 3 = 13
    // 7F: bits 2..0 = 011 | fullness top 5 bits 11111
    // FC: fullness low 6 bits 111111 | raw blocks 00
    expect(serializeAdtsHeader(c.value, 100).toString('hex')).toBe('fff14c800d7ffc');
  });

  it('AAC-LC 44.1 kHz mono, largest frame; HE-AAC uses its LC core', () => {
    const c = adtsConfig({ objectType: 2, sampleRate: 44100, channelConfiguration: 1 });
    if (!c.ok) throw new Error(c.code);
    // frame_length 8191 = 0x1FFF
    // 50: profile 01 | freq 0100 | private 0 | chan bit 2 = 0
    // 43: chan low bits 01 | 0000 | frame_length bits 12..11 = 11
    // FF: bits 10..3 | FF: bits 2..0 = 111, fullness 11111 | FC
    expect(serializeAdtsHeader(c.value, 8184).toString('hex')).toBe('fff15043fffffc');
    const he = adtsConfig({ objectType: 5, coreObjectType: 2, sampleRate: 24000, channelConfiguration: 2 });
    expect(he).toEqual({ ok: true, value: { profile: 1, samplingIndex: 6, channelConfiguration: 2 } });
    expect(() => serializeAdtsHeader(c.value, 8185)).toThrow(RangeError);
  });

  it('refuses what ADTS cannot express, with codes', () => {
    expect(adtsConfig({ objectType: 2, sampleRate: 50000, channelConfiguration: 2 })).toMatchObject({ ok: false, code: 'TS_ERR_ADTS_UNSUPPORTED_RATE' });
    expect(adtsConfig({ objectType: 39, sampleRate: 48000, channelConfiguration: 2 })).toMatchObject({ ok: false, code: 'TS_ERR_ADTS_UNSUPPORTED_OBJECT_TYPE' });
    expect(adtsConfig({ objectType: 2, sampleRate: 48000, channelConfiguration: 0 })).toMatchObject({ ok: false, code: 'TS_ERR_ADTS_UNSUPPORTED_CHANNELS' });
  });
});
