/**
 * CRC-32/MPEG-2 and the PAT/PMT sections, byte for byte. Expected bytes come from ffmpeg's
 * mpegts muxer output (`ffmpeg -i media/sample.mp4 -c copy out.ts`, first packets of PID 0 and
 * 0x1000) and from a bit-at-a-time CRC written in the test.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildPatSection, buildPmtSection, crc32Mpeg2, psiPacket } from '../../../src/media/mpegts/index.ts';
import { crc32Mpeg2Reference } from './ts-parse.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('crc32Mpeg2', () => {
  it('has the catalogue check value (CRC-32/MPEG-2 of "123456789" = 0x0376E6E7)', () => {
    expect(crc32Mpeg2(Buffer.from('123456789'))).toBe(0x0376e6e7);
    expect(crc32Mpeg2Reference(Buffer.from('123456789'))).toBe(0x0376e6e7);
  });

  it('of nothing is the initial value', () => {
    expect(crc32Mpeg2(Buffer.alloc(0))).toBe(0xffffffff);
  });

  it('equals the bitwise reference on random data, and a section followed by its CRC checks to 0', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        const crc = crc32Mpeg2(data);
        expect(crc).toBe(crc32Mpeg2Reference(data));
        const withCrc = Buffer.concat([data, Buffer.from([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff])]);
        expect(crc32Mpeg2(withCrc)).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('honours start/end', () => {
    const b = Buffer.from('xx123456789yy');
    expect(crc32Mpeg2(b, 2, 11)).toBe(0x0376e6e7);
  });
});

describe('PAT', () => {
  it('matches the standard single-program PAT byte for byte (ffmpeg writes the same)', () => {
    const pat = buildPatSection(1, 1, 0x1000);
    expect(pat).toEqual(
      hex(`
        00        -- table_id 0 (program_association_section)
        b0 0d     -- syntax 1, '0', reserved 11, section_length 13
        00 01     -- transport_stream_id 1
        c1        -- reserved 11, version 0, current_next 1
        00 00     -- section_number 0, last_section_number 0
        00 01     -- program_number 1
        f0 00     -- reserved 111, program_map_PID 0x1000
        2a b1 04 b2 -- CRC_32
      `.replace(/--[^\n]*/g, '')),
    );
    expect(crc32Mpeg2Reference(pat.subarray(0, 12))).toBe(0x2ab104b2);
  });

  it('puts it in a packet: 47 40 00 1c | pointer 0 | section | FF stuffing', () => {
    const p = psiPacket(0, 12, buildPatSection(1, 1, 0x1000));
    expect(p.length).toBe(188);
    expect(p.subarray(0, 21).toString('hex')).toBe('4740001c' + '00' + '00b00d0001c100000001f0002ab104b2');
    expect(p.subarray(21).every((b) => b === 0xff)).toBe(true);
  });

  it('encodes version and other ids', () => {
    const pat = buildPatSection(0x1234, 0x0102, 0x0abc, 5);
    expect(pat.subarray(0, 12).toString('hex')).toBe('00b00d' + '1234' + 'cb' + '0000' + '0102' + 'eabc');
    expect(pat.readUInt32BE(12)).toBe(crc32Mpeg2Reference(pat.subarray(0, 12)));
  });
});

describe('PMT', () => {
  it("matches ffmpeg's PMT for H.264 + AAC with the audio language descriptor", () => {
    const pmt = buildPmtSection({
      programNumber: 1,
      version: 0,
      pcrPid: 0x100,
      streams: [
        { streamType: 0x1b, pid: 0x100 },
        { streamType: 0x0f, pid: 0x101, descriptors: hex('0a04756e6400') }, // ISO_639_language 'und'
      ],
    });
    expect(pmt.toString('hex')).toBe(
      '02b01d' + // table_id 2, section_length 29
        '0001' + 'c1' + '0000' + // program 1, version 0 current, section 0/0
        'e100' + 'f000' + // PCR_PID 0x100, program_info_length 0
        '1be100f000' + // H.264 on 0x100, no descriptors
        '0fe101f006' + '0a04756e6400' + // AAC ADTS on 0x101, 6 bytes of descriptors
        '087de877', // CRC_32 (ffmpeg's)
    );
  });

  it('without descriptors (what TsMuxer writes for H.264 + AAC)', () => {
    const pmt = buildPmtSection({ programNumber: 1, version: 3, pcrPid: 0x100, streams: [{ streamType: 0x1b, pid: 0x100 }, { streamType: 0x0f, pid: 0x101 }] });
    const body = '02b017' + '0001' + 'c7' + '0000' + 'e100' + 'f000' + '1be100f000' + '0fe101f000';
    expect(pmt.subarray(0, pmt.length - 4).toString('hex')).toBe(body);
    expect(pmt.readUInt32BE(pmt.length - 4)).toBe(crc32Mpeg2Reference(hex(body)));
  });
});
