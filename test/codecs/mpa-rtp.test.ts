import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MpaDepacketizer,
  MPA_PAYLOAD_TYPE,
  mpaRtpmap,
  mpegAudioFrameLength,
  packetizeMpa,
  parseMpegAudioHeader,
  type MpaPayload,
} from '../../src/codecs/mpa/index.ts';
import type { DepacketizedUnit, RtpPayloadInput } from '../../src/codecs/types.ts';
import { hex } from './helpers.ts';

/** A frame: the 4-byte header, then `fill` up to `length` bytes. */
const frame = (header: string, length: number, fill: number): Buffer => Buffer.concat([hex(header), Buffer.alloc(length - 4, fill)]);
// MPEG-2.5 Layer III, 8 kbit/s, 8 kHz, mono: 72 × 8000 / 8000 = 72 bytes, 576 samples = 6480 ticks at 90 kHz
const A = frame('ffe318c0', 72, 0xaa);
const B = frame('ffe318c0', 72, 0xbb);
// MPEG-1 Layer III, 32 kbit/s, 32 kHz: 144 × 32000 / 32000 = 144 bytes
const C = frame('fffb1800', 144, 0xcc);
const hexOf = (ps: MpaPayload[]): [string, number][] => ps.map((p) => [p.payload.toString('hex'), p.frameIndex]);
const summary = (us: DepacketizedUnit[]): [number, string[], boolean][] =>
  us.map((u) => [u.timestamp, u.data.map((b) => b.toString('hex')), u.complete]);
const pkt = (sequence: number, timestamp: number, payload: Buffer): RtpPayloadInput => ({ sequence, timestamp, marker: false, payload });
const withHeader = (fragOffset: number, data: Buffer): Buffer =>
  Buffer.concat([hex('0000', fragOffset.toString(16).padStart(4, '0')), data]);

describe('mpegAudioFrameLength (ISO/IEC 11172-3 / 13818-3 headers)', () => {
  it.each([
    // header  | version layer | kbit/s | Hz | pad → length computed by hand
    ['fffb9064', 417], // MPEG-1 L3 128 44100 p0: 144×128000/44100 = 417.96
    ['fffb9264', 418], // same, padded
    ['fffbb000', 626], // MPEG-1 L3 192 44100: 626.9
    ['fffbe400', 960], // MPEG-1 L3 320 48000: 960
    ['fffb1800', 144], // MPEG-1 L3 32 32000: 144
    ['fff38004', 208], // MPEG-2 L3 64 22050: 72×64000/22050 = 208.98
    ['ffe31800', 72], // MPEG-2.5 L3 8 8000: 72
    ['fffdc000', 835], // MPEG-1 L2 256 44100: 835.9
    ['ffff9000', 312], // MPEG-1 L1 288 44100: (floor(78.37) + 0) × 4
    ['ffff9200', 316], // same, padded: (78 + 1) × 4
    ['fff7e400', 512], // MPEG-2 L1 256 24000: 128 × 4
    ['ffe5ea00', 2881], // MPEG-2.5 L2 160 8000 padded: 2880 + 1, the largest
  ])('%s → %i bytes', (h, len) => {
    expect(mpegAudioFrameLength(hex(h))).toEqual({ ok: true, value: len });
  });

  it('reads the other fields', () => {
    expect(parseMpegAudioHeader(hex('fffb9064'))).toEqual({
      ok: true,
      value: {
        version: 1,
        layer: 3,
        crc: false,
        bitrate: 128000,
        sampleRate: 44100,
        padding: false,
        channels: 2,
        frameLength: 417,
        samplesPerFrame: 1152,
      },
    });
    // offset 1 | MPEG-2 L3, protection_bit 0 (CRC follows) | 8 kbit/s, rate index 2 = 16 kHz | mode 11 = mono
    expect(parseMpegAudioHeader(hex('00 fff218c0'), 1)).toMatchObject({
      ok: true,
      value: { version: 2, layer: 3, crc: true, sampleRate: 16000, channels: 1, samplesPerFrame: 576 },
    });
  });

  it.each([
    ['fffb90', 'CODEC_ERR_TRUNCATED'],
    ['ffdb9064', 'CODEC_ERR_MPA_NO_SYNC'], // only 10 sync bits
    ['feFb9064', 'CODEC_ERR_MPA_NO_SYNC'],
    ['ffeb9064', 'CODEC_ERR_MPA_RESERVED_VALUE'], // version 01
    ['fff99064', 'CODEC_ERR_MPA_RESERVED_VALUE'], // layer 00
    ['fffbf064', 'CODEC_ERR_MPA_RESERVED_VALUE'], // bitrate index 15
    ['fffb9c64', 'CODEC_ERR_MPA_RESERVED_VALUE'], // sampling rate index 3
    ['fffb0064', 'CODEC_ERR_MPA_FREE_FORMAT'], // bitrate index 0
  ])('rejects %s with %s', (h, code) => {
    expect(mpegAudioFrameLength(hex(h))).toMatchObject({ ok: false, code });
  });

  it('never throws on random bytes; lengths stay within 24..2881', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 6 }), (b) => {
        const r = mpegAudioFrameLength(Buffer.from([0xff, ...b]));
        if (r.ok) expect(r.value >= 24 && r.value <= 2881).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('packetizeMpa (RFC 2250 §3.5)', () => {
  it('aggregates whole frames behind one MBZ/Frag_offset header', () => {
    const r = packetizeMpa([A, B, C], { maxPayloadSize: 148 });
    if (!r.ok) throw new Error(r.code);
    expect(hexOf(r.value)).toEqual([
      ['0000' + '0000' + A.toString('hex') + B.toString('hex'), 0], // MBZ | Frag_offset 0 | A B (148 bytes)
      ['0000' + '0000' + C.toString('hex'), 2], // C alone: A B C would be 292
    ]);
    expect(r.value.every((p) => !p.marker)).toBe(true);
  });

  it('fragments a frame larger than a payload, with byte offsets', () => {
    const r = packetizeMpa([A, C], { maxPayloadSize: 54 }); // 50 data bytes per payload
    if (!r.ok) throw new Error(r.code);
    expect(hexOf(r.value)).toEqual([
      ['00000000' + A.subarray(0, 50).toString('hex'), 0],
      ['00000032' + A.subarray(50).toString('hex'), 0], // Frag_offset 50
      ['00000000' + C.subarray(0, 50).toString('hex'), 1],
      ['00000032' + C.subarray(50, 100).toString('hex'), 1],
      ['00000064' + C.subarray(100).toString('hex'), 1], // Frag_offset 100, 44 bytes
    ]);
  });

  it('refuses frames that do not match their headers', () => {
    expect(packetizeMpa([A, A.subarray(0, 71)], { maxPayloadSize: 1400 })).toMatchObject({
      ok: false,
      code: 'CODEC_ERR_MPA_BAD_FRAME_LENGTH',
      offset: 1,
    });
    expect(packetizeMpa([hex('0000')], { maxPayloadSize: 1400 })).toMatchObject({ ok: false, code: 'CODEC_ERR_TRUNCATED', offset: 0 });
    expect(packetizeMpa([frame('fffb0064', 100, 0)], { maxPayloadSize: 1400 })).toMatchObject({
      ok: false,
      code: 'CODEC_ERR_MPA_FREE_FORMAT',
    });
    expect(() => packetizeMpa([A], { maxPayloadSize: 7 })).toThrow(RangeError); // the first fragment must hold the frame header
    expect(packetizeMpa([A], { maxPayloadSize: 8 })).toMatchObject({ ok: true, value: { length: 18 } }); // 72 / 4
  });
});

describe('MpaDepacketizer', () => {
  it('splits aggregated frames by their headers, timing each by its samples at 90 kHz', () => {
    const d = new MpaDepacketizer();
    expect(summary(d.push(pkt(1, 1000, withHeader(0, Buffer.concat([A, B])))))).toEqual([
      [1000, [A.toString('hex')], true],
      [1000 + 6480, [B.toString('hex')], true], // 576 samples at 8 kHz
    ]);
    const f44 = frame('fffb9064', 417, 1); // 1152 samples at 44.1 kHz = 2351.02 ticks
    expect(d.push(pkt(2, 0xffffffff, withHeader(0, Buffer.concat([f44, f44, f44])))).map((u) => u.timestamp)).toEqual([
      0xffffffff, 2350, 4701,
    ]); // +2351, +4702 wrapped
  });

  it('reassembles a fragmented frame', () => {
    const d = new MpaDepacketizer();
    expect(d.push(pkt(1, 0, withHeader(0, C.subarray(0, 50))))).toEqual([]);
    expect(d.push(pkt(2, 0, withHeader(50, C.subarray(50, 100))))).toEqual([]);
    expect(summary(d.push(pkt(3, 0, withHeader(100, C.subarray(100)))))).toEqual([[0, [C.toString('hex')], true]]);
    expect(d.stats).toMatchObject({ units: 1, incompleteUnits: 0, malformed: 0 });
  });

  it('hands on a frame with a lost middle fragment as one empty, incomplete unit', () => {
    const d = new MpaDepacketizer();
    d.push(pkt(1, 0, withHeader(0, C.subarray(0, 50))));
    // seq 2 lost
    expect(summary(d.push(pkt(3, 0, withHeader(100, C.subarray(100)))))).toEqual([[0, [], false]]);
    expect(summary(d.push(pkt(4, 2000, withHeader(0, A))))).toEqual([[2000, [A.toString('hex')], true]]);
    expect(d.stats).toMatchObject({ lostPackets: 1, units: 2, incompleteUnits: 1 });
  });

  it('reports a frame whose first fragment was lost when the next frame starts', () => {
    const d = new MpaDepacketizer();
    d.push(pkt(1, 0, withHeader(0, A)));
    // seq 2 (C's first fragment, timestamp 6480) lost
    expect(d.push(pkt(3, 6480, withHeader(50, C.subarray(50, 100))))).toEqual([]);
    expect(d.push(pkt(4, 6480, withHeader(100, C.subarray(100))))).toEqual([]);
    expect(summary(d.push(pkt(5, 9000, withHeader(0, B))))).toEqual([
      [6480, [], false],
      [9000, [B.toString('hex')], true],
    ]);
  });

  it('reports a frame whose last fragment was lost, at the next frame or at flush', () => {
    const d = new MpaDepacketizer();
    d.push(pkt(1, 0, withHeader(0, C.subarray(0, 50))));
    d.push(pkt(2, 0, withHeader(50, C.subarray(50, 100))));
    // seq 3 lost
    expect(summary(d.push(pkt(4, 3000, withHeader(0, A))))).toEqual([
      [0, [], false],
      [3000, [A.toString('hex')], true],
    ]);
    d.push(pkt(5, 6000, withHeader(0, C.subarray(0, 50))));
    expect(summary(d.flush())).toEqual([[6000, [], false]]);
  });

  it('flags a Frag_offset that does not continue the frame', () => {
    const d = new MpaDepacketizer();
    d.push(pkt(1, 0, withHeader(0, C.subarray(0, 50))));
    d.push(pkt(2, 0, withHeader(60, C.subarray(60, 100)))); // expected 50
    expect(summary(d.push(pkt(3, 0, withHeader(100, C.subarray(100)))))).toEqual([[0, [], false]]);
    expect(d.stats.malformed).toBe(1);
  });

  it.each([
    ['a 4-byte payload', hex('00000000')],
    ['no sync', withHeader(0, hex('00112233 4455'))],
    ['a second frame cut short', withHeader(0, Buffer.concat([A, B.subarray(0, 10)]))],
  ])('counts a malformed payload (%s)', (_n, payload) => {
    const d = new MpaDepacketizer();
    d.push(pkt(1, 0, payload));
    expect(d.stats.malformed).toBe(1);
    expect(d.flush()).toEqual([]);
  });

  it('ignores duplicated and late packets', () => {
    const d = new MpaDepacketizer();
    d.push(pkt(5, 0, withHeader(0, A)));
    expect(d.push(pkt(5, 0, withHeader(0, A)))).toEqual([]);
    expect(d.push(pkt(4, 0, withHeader(0, A)))).toEqual([]);
    expect(d.stats.stale).toBe(2);
  });

  it('round-trips random frames for random maxPayloadSize', () => {
    const headers = ['ffe318c0', 'fffb1800', 'fffb9064', 'fffb9264', 'fff38004', 'ffff9000'];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...headers), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 8, max: 1500 }),
        (spec, max) => {
          const frames = spec.map(([h, fill]) => frame(h, (mpegAudioFrameLength(hex(h)) as { value: number }).value, fill));
          const r = packetizeMpa(frames, { maxPayloadSize: max });
          if (!r.ok) throw new Error(r.code);
          const d = new MpaDepacketizer();
          const units = r.value.flatMap((p, i) => {
            expect(p.payload.length).toBeLessThanOrEqual(max);
            return d.push(pkt(i, p.frameIndex * 100000, p.payload));
          });
          units.push(...d.flush());
          expect(units.map((u) => [u.data.map((b) => b.toString('hex')), u.complete])).toEqual(
            frames.map((f) => [[f.toString('hex')], true]),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on random payloads', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            payload: fc.uint8Array({ maxLength: 40 }),
            head: fc.constantFrom('', '00000000ffe318c0', '00000020', '00000000fffb9064'),
            dseq: fc.integer({ min: -1, max: 2 }),
            dts: fc.constantFrom(0, 6480),
          }),
          { maxLength: 40 },
        ),
        (items) => {
          const d = new MpaDepacketizer();
          let seq = 0;
          let ts = 0;
          for (const it of items) {
            seq += it.dseq;
            ts += it.dts;
            for (const u of d.push(pkt(seq, ts, Buffer.concat([hex(it.head), Buffer.from(it.payload)])))) {
              expect(u.data.length).toBe(u.complete ? 1 : 0);
            }
          }
          d.flush();
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('MPA SDP', () => {
  it('has static payload type 14 and a 90 kHz clock', () => {
    expect([MPA_PAYLOAD_TYPE, mpaRtpmap()]).toEqual([14, 'MPA/90000']);
  });
});
