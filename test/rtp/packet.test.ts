import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseRtpPacket,
  rtpHeaderByteLength,
  serializeRtpHeaderInto,
  serializeRtpPacket,
  writeRtpFixedHeader,
  type RtpErrorCode,
  type RtpPacket,
} from '../../src/rtp/index.ts';
import { at } from '../../src/util/narrow.ts';

/** Joins hex rows (spaces ignored) into a Buffer. */
const hex = (...rows: string[]): Buffer => Buffer.from(rows.join('').replace(/\s+/g, ''), 'hex');

interface Case {
  name: string;
  bytes: Buffer;
  packet: RtpPacket;
}

const cases: Case[] = [
  {
    name: 'minimal header, 3-byte payload',
    bytes: hex(
      '80 e0 12 34', // v=2 p=0 x=0 cc=0 | m=1 pt=96 | seq=0x1234
      '00 00 bb 80', // timestamp=48000
      'de ad be ef', // ssrc=0xdeadbeef
      'aa bb cc', //    payload
    ),
    packet: {
      marker: true,
      payloadType: 96,
      sequenceNumber: 0x1234,
      timestamp: 48000,
      ssrc: 0xdeadbeef,
      csrcs: [],
      padding: false,
      payload: hex('aabbcc'),
      paddingSize: 0,
    },
  },
  {
    name: 'two CSRCs, seq 65535, max timestamp',
    bytes: hex(
      '82 08 ff ff', // v=2 p=0 x=0 cc=2 | m=0 pt=8 | seq=65535
      'ff ff ff ff', // timestamp=2^32-1
      '00 00 00 01', // ssrc=1
      '11 11 11 11', // csrc[0]
      '22 22 22 22', // csrc[1]
      '01', //          payload
    ),
    packet: {
      marker: false,
      payloadType: 8,
      sequenceNumber: 65535,
      timestamp: 0xffffffff,
      ssrc: 1,
      csrcs: [0x11111111, 0x22222222],
      padding: false,
      payload: hex('01'),
      paddingSize: 0,
    },
  },
  {
    name: 'header extension (one 32-bit word) and 4 bytes of padding',
    bytes: hex(
      'b0 60 00 07', // v=2 p=1 x=1 cc=0 | m=0 pt=96 | seq=7
      '00 00 00 64', // timestamp=100
      '00 00 00 02', // ssrc=2
      'be de 00 01', // profile=0xBEDE length=1 word
      '10 ff 00 00', // extension data (RFC 8285 id=1 len=1 0xff, padding)
      'c0 ff ee', //    payload
      '00 00 00 04', // padding, last octet = count 4
    ),
    packet: {
      marker: false,
      payloadType: 96,
      sequenceNumber: 7,
      timestamp: 100,
      ssrc: 2,
      csrcs: [],
      extension: { profile: 0xbede, data: hex('10ff0000') },
      padding: true,
      payload: hex('c0ffee'),
      paddingSize: 4,
    },
  },
  {
    name: 'empty payload, extension with no data',
    bytes: hex(
      '90 7f 00 00', // v=2 p=0 x=1 cc=0 | m=0 pt=127 | seq=0
      '00 00 00 00', // timestamp=0
      '00 00 00 00', // ssrc=0
      '10 00 00 00', // profile=0x1000 (two-byte form) length=0
    ),
    packet: {
      marker: false,
      payloadType: 127,
      sequenceNumber: 0,
      timestamp: 0,
      ssrc: 0,
      csrcs: [],
      extension: { profile: 0x1000, data: Buffer.alloc(0) },
      padding: false,
      payload: Buffer.alloc(0),
      paddingSize: 0,
    },
  },
];

describe('RTP packet parse/serialize (shared case table)', () => {
  it.each(cases)('parse: $name', ({ bytes, packet }) => {
    const copy = Buffer.from(bytes);
    const r = parseRtpPacket(bytes);
    expect(r).toEqual({ ok: true, value: packet });
    expect(bytes.equals(copy)).toBe(true); // input unchanged
  });

  it.each(cases)('serialize: $name', ({ bytes, packet }) => {
    expect(serializeRtpPacket(packet).toString('hex')).toBe(bytes.toString('hex'));
  });

  it('payload and extension data are views into the input, not copies', () => {
    const bytes = Buffer.from(at(cases, 2).bytes);
    const r = parseRtpPacket(bytes);
    if (!r.ok) throw new Error(r.code);
    expect(r.value.payload.buffer).toBe(bytes.buffer);
    bytes[20] = 0x99; // first payload byte
    expect(r.value.payload[0]).toBe(0x99);
    bytes[16] = 0x77; // first extension byte
    expect(r.value.extension?.data[0]).toBe(0x77);
  });

  it('parses a Wireshark-decoded WebRTC capture (one-byte header extensions)', () => {
    // Decoded by Wireshark: PT 45, seq 6751, ts 3557360969, SSRC 0xf7b16e83, profile 0xbede, 3 words.
    const bytes = hex(
      '90 2d 1a 5f', // v=2 x=1 cc=0 | m=0 pt=45 | seq=6751
      'd4 09 05 49', // timestamp=3557360969
      'f7 b1 6e 83', // ssrc
      'be de 00 03', // profile=0xBEDE, 3 words
      '22 f3 43 50 41 00 9b d2 81 00 45 00', // id2 len3, id4 len2, id13 len3, pad
    );
    const r = parseRtpPacket(bytes);
    if (!r.ok) throw new Error(r.code);
    expect(r.value.payloadType).toBe(45);
    expect(r.value.sequenceNumber).toBe(6751);
    expect(r.value.timestamp).toBe(3557360969);
    expect(r.value.ssrc).toBe(0xf7b16e83);
    expect(r.value.extension?.profile).toBe(0xbede);
    expect(r.value.extension?.data.length).toBe(12);
    expect(r.value.payload.length).toBe(0);
    expect(serializeRtpPacket(r.value).equals(bytes)).toBe(true);
  });
});

describe('RTP malformed input', () => {
  const errors: Array<[string, Buffer, RtpErrorCode]> = [
    ['empty', hex(''), 'RTP_ERR_SHORT_HEADER'],
    ['11 bytes', hex('80 60 00 01 00 00 00 00 00 00 00'), 'RTP_ERR_SHORT_HEADER'],
    ['version 1', hex('40 60 00 01', '00 00 00 00', '00 00 00 00'), 'RTP_ERR_BAD_VERSION'],
    ['version 0', hex('00 60 00 01', '00 00 00 00', '00 00 00 00'), 'RTP_ERR_BAD_VERSION'],
    // cc=1 but no CSRC word
    ['CSRC count beyond length', hex('81 60 00 01', '00 00 00 00', '00 00 00 00', 'aa bb'), 'RTP_ERR_SHORT_HEADER'],
    // x=1 but only 2 bytes of the 4-byte extension header
    ['extension header cut', hex('90 60 00 01', '00 00 00 00', '00 00 00 00', 'be de'), 'RTP_ERR_EXTENSION_OVERFLOW'],
    // x=1 length=2 words but 4 bytes of data
    [
      'extension data beyond length',
      hex('90 60 00 01', '00 00 00 00', '00 00 00 00', 'be de 00 02', '00 00 00 00'),
      'RTP_ERR_EXTENSION_OVERFLOW',
    ],
    // p=1, last octet 5 but only 4 bytes after the header
    ['padding larger than payload', hex('a0 60 00 01', '00 00 00 00', '00 00 00 00', '00 00 00 05'), 'RTP_ERR_BAD_PADDING'],
    // p=1, last octet 0
    ['padding count zero', hex('a0 60 00 01', '00 00 00 00', '00 00 00 00', 'aa 00'), 'RTP_ERR_BAD_PADDING'],
    // p=1, nothing after the header
    ['padding bit with no bytes', hex('a0 60 00 01', '00 00 00 00', '00 00 00 00'), 'RTP_ERR_BAD_PADDING'],
  ];
  it.each(errors)('%s -> %s', (_name, bytes, code) => {
    const r = parseRtpPacket(bytes);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe(code);
  });

  it('padding that takes every byte after the header leaves an empty payload', () => {
    const r = parseRtpPacket(hex('a0 60 00 01', '00 00 00 00', '00 00 00 00', '00 00 00 04'));
    expect(r.ok && r.value.payload.length === 0 && r.value.paddingSize === 4).toBe(true);
  });
});

describe('RTP header serialization helpers', () => {
  it('rtpHeaderByteLength and serializeRtpHeaderInto at an offset', () => {
    const h = {
      marker: false,
      payloadType: 0,
      sequenceNumber: 1,
      timestamp: 2,
      ssrc: 3,
      csrcs: [4],
      extension: { profile: 1, data: hex('01020304') },
    };
    expect(rtpHeaderByteLength(h)).toBe(12 + 4 + 8);
    const buf = Buffer.alloc(30, 0xee);
    expect(serializeRtpHeaderInto(h, buf, 3)).toBe(24);
    expect(buf.toString('hex')).toBe(
      'eeeeee' +
        '91000001' + // v=2 x=1 cc=1 | m=0 pt=0 | seq=1
        '00000002' + // ts=2
        '00000003' + // ssrc=3
        '00000004' + // csrc
        '00010001' + // profile=1 len=1
        '01020304' + // ext data
        'eeeeee',
    );
  });

  it('throws on programmer errors', () => {
    const base: RtpPacket = {
      marker: false,
      payloadType: 96,
      sequenceNumber: 0,
      timestamp: 0,
      ssrc: 0,
      csrcs: [],
      payload: Buffer.alloc(0),
      paddingSize: 0,
    };
    expect(() => serializeRtpPacket({ ...base, payloadType: 128 })).toThrow(RangeError);
    expect(() => serializeRtpPacket({ ...base, csrcs: new Array(16).fill(1) })).toThrow(RangeError);
    expect(() => serializeRtpPacket({ ...base, extension: { profile: 0, data: Buffer.alloc(3) } })).toThrow(RangeError);
    expect(() => serializeRtpPacket({ ...base, paddingSize: 256 })).toThrow(RangeError);
    expect(() => serializeRtpHeaderInto(base, Buffer.alloc(11), 0)).toThrow(RangeError);
  });

  it('writeRtpFixedHeader writes 12 exact bytes and nothing else', () => {
    const buf = Buffer.alloc(16, 0x55);
    writeRtpFixedHeader(buf, 2, true, 96, 0xfffe, 0x89abcdef, 0x01020304);
    expect(buf.toString('hex')).toBe(
      '5555' +
        '80e0fffe' + // v=2 p=0 x=0 cc=0 | m=1 pt=96 | seq=0xfffe
        '89abcdef' + // timestamp
        '01020304' + // ssrc
        '5555',
    );
    writeRtpFixedHeader(buf, 0, false, 0x7f, 0x10001, -1 >>> 0, 0xffffffff); // seq masked to 1
    expect(buf.subarray(0, 12).toString('hex')).toBe('807f0001' + 'ffffffff' + 'ffffffff');
  });

  it('writeRtpFixedHeader agrees with serializeRtpHeaderInto for random fields', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 0, max: 127 }),
        fc.integer({ min: 0, max: 65535 }),
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0xffffffff }),
        (m, pt, seq, ts, ssrc) => {
          const a = Buffer.alloc(12);
          const b = Buffer.alloc(12);
          writeRtpFixedHeader(a, 0, m, pt, seq, ts, ssrc);
          serializeRtpHeaderInto({ marker: m, payloadType: pt, sequenceNumber: seq, timestamp: ts, ssrc, csrcs: [] }, b, 0);
          expect(a.equals(b)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('RTP property tests', () => {
  const packetArb: fc.Arbitrary<RtpPacket> = fc
    .record({
      marker: fc.boolean(),
      payloadType: fc.integer({ min: 0, max: 127 }),
      sequenceNumber: fc.integer({ min: 0, max: 65535 }),
      timestamp: fc.nat({ max: 0xffffffff }),
      ssrc: fc.nat({ max: 0xffffffff }),
      csrcs: fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 15 }),
      ext: fc.option(
        fc.record({
          profile: fc.integer({ min: 0, max: 0xffff }),
          words: fc.integer({ min: 0, max: 8 }),
          seed: fc.uint8Array({ minLength: 32, maxLength: 32 }),
        }),
      ),
      payload: fc.uint8Array({ maxLength: 200 }),
      paddingSize: fc.integer({ min: 0, max: 255 }),
    })
    .map((r) => {
      const p: RtpPacket = {
        marker: r.marker,
        payloadType: r.payloadType,
        sequenceNumber: r.sequenceNumber,
        timestamp: r.timestamp,
        ssrc: r.ssrc,
        csrcs: r.csrcs,
        padding: r.paddingSize > 0,
        payload: Buffer.from(r.payload),
        paddingSize: r.paddingSize,
      };
      if (r.ext) p.extension = { profile: r.ext.profile, data: Buffer.from(r.ext.seed.subarray(0, r.ext.words * 4)) };
      return p;
    });

  it('valid packets round-trip through serialize and parse', () => {
    fc.assert(
      fc.property(packetArb, (p) => {
        const bytes = serializeRtpPacket(p);
        const r = parseRtpPacket(bytes);
        expect(r).toEqual({ ok: true, value: p });
      }),
      { numRuns: 1000 },
    );
  });

  it('a packet with CSRCs, extension and padding cut at every offset never throws', () => {
    const bytes = serializeRtpPacket({
      marker: true,
      payloadType: 96,
      sequenceNumber: 9,
      timestamp: 9,
      ssrc: 9,
      csrcs: [1, 2],
      extension: { profile: 0xbede, data: hex('01020304 05060708') },
      payload: hex('aabbccdd'),
      paddingSize: 3,
    });
    for (let cut = 0; cut < bytes.length; cut++) {
      const r = parseRtpPacket(bytes.subarray(0, cut));
      // Cut inside the header: an error; cut after it: the padding count is now a payload byte.
      if (cut < 12 + 8 + 12) expect(r.ok).toBe(false);
    }
  });

  it('random bytes never throw; whatever parses re-serializes to the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.boolean(), (arr, forceV2) => {
        const bytes = Buffer.from(arr);
        if (forceV2 && bytes.length > 0) bytes[0] = (at(bytes, 0) & 0x3f) | 0x80;
        const r = parseRtpPacket(bytes);
        if (r.ok) {
          // Padding content other than the count octet is not kept, so compare with it zeroed.
          const expected = Buffer.from(bytes);
          if (r.value.paddingSize > 1) expected.fill(0, bytes.length - r.value.paddingSize, bytes.length - 1);
          expect(serializeRtpPacket(r.value).equals(expected)).toBe(true);
        } else {
          expect(r.code).toMatch(/^RTP_ERR_/);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
