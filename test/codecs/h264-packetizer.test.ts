import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { H264Depacketizer, packetizeH264, type RtpPayload } from '../../src/codecs/index.ts';
import { hex, inputs } from './helpers.ts';

const hexOf = (ps: RtpPayload[]): [string, boolean][] => ps.map((p) => [p.payload.toString('hex'), p.marker]);

describe('packetizeH264: single NAL and FU-A (RFC 6184 §5.6, §5.8)', () => {
  it('sends a NAL of exactly maxPayloadSize bytes as one single NAL unit packet', () => {
    const nal = hex('65 01 02 03 04 05 06 07 08 09'); // F=0 NRI=3 type=5 (IDR) | 9 body bytes = 10 bytes
    const out = packetizeH264([nal], { maxPayloadSize: 10 });
    expect(hexOf(out)).toEqual([['65010203040506070809', true]]);
    expect(out[0]!.payload.buffer).toBe(nal.buffer); // a view, not a copy
  });

  it('fragments a NAL one byte over the limit into two FU-A packets', () => {
    const nal = hex('65 01 02 03 04 05 06 07 08 09 0a'); // 11 bytes, limit 10
    expect(hexOf(packetizeH264([nal], { maxPayloadSize: 10 }))).toEqual([
      // FU indicator F=0 NRI=3 type=28 (0x7c) | FU header S=1 E=0 type=5 (0x85) | body 01..08
      ['7c85' + '0102030405060708', false],
      // FU indicator 0x7c | FU header S=0 E=1 type=5 (0x45) | body 09 0a
      ['7c45' + '090a', true],
    ]);
  });

  it('carries F and NRI of the NAL into the FU indicator, and fills middle fragments', () => {
    const nal = hex('a1', 'aa'.repeat(10)); // F=1 NRI=1 type=1 | 10 body bytes, limit 5 → 3 body bytes per FU
    expect(hexOf(packetizeH264([nal], { maxPayloadSize: 5 }))).toEqual([
      ['bc81aaaaaa', false], // F=1 NRI=1 type=28 = 0xbc | S=1 type=1
      ['bc01aaaaaa', false], // S=0 E=0
      ['bc01aaaaaa', false],
      ['bc41aa', true], // E=1, last body byte
    ]);
  });

  it('rejects a maxPayloadSize that cannot hold a FU-A byte', () => {
    expect(() => packetizeH264([hex('6501')], { maxPayloadSize: 2 })).toThrow(RangeError);
  });
});

describe('packetizeH264: STAP-A (RFC 6184 §5.7.1, Figure 7)', () => {
  it('aggregates consecutive small NAL units with 16-bit sizes; NRI = max, F = OR', () => {
    const sei = hex('06 05 01 aa'); // F=0 NRI=0 type=6
    const sps = hex('27 42 00 1e'); // F=0 NRI=1 type=7
    const pps = hex('68 ce 3c 80'); // F=0 NRI=3 type=8
    const out = packetizeH264([sei, sps, pps], { maxPayloadSize: 1400 });
    expect(hexOf(out)).toEqual([
      [
        '78' + // STAP-A NAL HDR: F=0 NRI=3 (max) type=24
          '0004' +
          '060501aa' + // NALU 1 size | NALU 1 HDR + data
          '0004' +
          '2742001e' + // NALU 2 size | NALU 2
          '0004' +
          '68ce3c80', // NALU 3 size | NALU 3
        true,
      ],
    ]);
  });

  it('sets F in the STAP-A header when any aggregated unit has F=1, and NRI to the max (not the OR)', () => {
    const out = packetizeH264([hex('a6 00'), hex('41 00')], { maxPayloadSize: 100 });
    // F=1 NRI=1 type=6 and F=0 NRI=2 type=1 → F=1 NRI=2 type=24 = 0xd8 | 0002 a6 00 | 0002 41 00
    expect(hexOf(out)).toEqual([['d8' + '0002a600' + '00024100', true]]);
  });

  it('aggregates while they fit, then starts a new packet; a lone unit goes as single NAL', () => {
    const a = hex('41 aa aa'); // 3 bytes each
    const b = hex('41 bb bb');
    const c = hex('41 cc cc');
    // limit 11: STAP-A of a, b = 1 + 2+3 + 2+3 = 11; c alone would make 16
    expect(hexOf(packetizeH264([a, b, c], { maxPayloadSize: 11 }))).toEqual([
      ['58' + '000341aaaa' + '000341bbbb', false], // NRI=2 type=24 = 0x58
      ['41cccc', true],
    ]);
    // limit 10: no two fit (11 > 10), so three single NAL packets
    expect(hexOf(packetizeH264([a, b, c], { maxPayloadSize: 10 }))).toEqual([
      ['41aaaa', false],
      ['41bbbb', false],
      ['41cccc', true],
    ]);
  });
});

describe('packetizeH264: parameter sets, AUD, marker', () => {
  const sps = hex('67 64 00 0a ac');
  const pps = hex('68 eb e3 cb');
  const idr = hex('65 88 84 00');
  const slice = hex('41 9a 02');
  const aud = hex('09 f0');

  it('puts SPS/PPS in front of an IDR access unit', () => {
    const out = packetizeH264([idr], { maxPayloadSize: 1400, parameterSets: [sps, pps] });
    // STAP-A: NRI=3 → 0x78 | 0005 SPS | 0004 PPS | 0004 IDR
    expect(hexOf(out)).toEqual([['78' + '00056764000aac' + '000468ebe3cb' + '000465888400', true]]);
  });

  it('does not repeat SPS/PPS the access unit already carries', () => {
    const out = packetizeH264([sps, pps, idr], { maxPayloadSize: 7, parameterSets: [hex('67 00 00 00'), hex('68 00')] });
    expect(hexOf(out)).toEqual([
      ['6764000aac', false],
      ['68ebe3cb', false],
      ['65888400', true],
    ]);
  });

  it('does not add parameter sets to a non-IDR access unit', () => {
    const out = packetizeH264([slice], { maxPayloadSize: 1400, parameterSets: [sps, pps] });
    expect(hexOf(out)).toEqual([['419a02', true]]);
  });

  it('drops access unit delimiters (and an AU of only an AUD sends nothing)', () => {
    expect(hexOf(packetizeH264([aud, slice], { maxPayloadSize: 1400 }))).toEqual([['419a02', true]]);
    expect(packetizeH264([aud], { maxPayloadSize: 1400 })).toEqual([]);
    expect(packetizeH264([], { maxPayloadSize: 1400 })).toEqual([]);
  });

  it('sets the marker bit on the last packet of the access unit only', () => {
    const big = Buffer.concat([hex('65'), Buffer.alloc(50, 0x11)]);
    const out = packetizeH264([hex('06 01'), big, hex('0c ff')], { maxPayloadSize: 20 });
    // single SEI | 3 FU-A fragments of 18 + 18 + 14 body bytes | single filler NAL
    expect(out.map((p) => p.payload.length)).toEqual([2, 20, 20, 16, 2]);
    expect(out.map((p) => p.marker)).toEqual([false, false, false, false, true]);
  });
});

describe('packetizeH264: properties', () => {
  const nalArb = fc
    .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 23 }), fc.uint8Array({ minLength: 0, maxLength: 3000 }))
    .map(([nri, type, body]) => Buffer.concat([Buffer.of((nri << 5) | type), body]));

  it('never exceeds maxPayloadSize, marks only the last packet, and round-trips through the depacketizer', () => {
    fc.assert(
      fc.property(fc.array(nalArb, { minLength: 1, maxLength: 12 }), fc.integer({ min: 100, max: 1500 }), (nalus, max) => {
        const out = packetizeH264(nalus, { maxPayloadSize: max });
        const expected = nalus.filter((n) => (n[0]! & 0x1f) !== 9); // AUDs are dropped
        for (const p of out) expect(p.payload.length).toBeLessThanOrEqual(max);
        expect(out.map((p) => p.marker)).toEqual(out.map((_, i) => i === out.length - 1));
        const d = new H264Depacketizer();
        const units = inputs(out, 1234, 70000).flatMap((p) => d.push(p));
        if (expected.length === 0) {
          expect(units).toEqual([]);
          return;
        }
        expect(units.length).toBe(1);
        expect(units[0]!.complete).toBe(true);
        expect(units[0]!.timestamp).toBe(1234);
        expect(units[0]!.keyframe).toBe(expected.some((n) => (n[0]! & 0x1f) === 5));
        expect(units[0]!.data.map((b) => b.toString('hex'))).toEqual(expected.map((b) => b.toString('hex')));
      }),
      { numRuns: 300 },
    );
  });
});
