import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  H265Depacketizer,
  H265NalType,
  h265NalType,
  isH265Keyframe,
  packetizeH265,
  parseH265NalHeader,
  writeH265NalHeader,
} from '../../src/codecs/h265/index.ts';
import type { RtpPayload } from '../../src/codecs/index.ts';
import { hex, inputs } from './helpers.ts';

const hexOf = (ps: RtpPayload[]): [string, boolean][] => ps.map((p) => [p.payload.toString('hex'), p.marker]);

describe('H.265 NAL header (RFC 7798 §1.1.4)', () => {
  it.each([
    // F | Type (6) | LayerId (6) | TID (3)
    ['2601', { f: 0, type: 19, layerId: 0, tid: 1 }], // 0|010011|0 00000|001: IDR_W_RADL
    ['4001', { f: 0, type: 32, layerId: 0, tid: 1 }], // VPS
    ['032d', { f: 0, type: 1, layerId: 37, tid: 5 }], // 0|000001|1 00101|101
    ['e3ff', { f: 1, type: 49, layerId: 63, tid: 7 }], // 1|110001|1 11111|111
  ])('%s parses to %o and writes back', (h, fields) => {
    expect(parseH265NalHeader(hex(h))).toEqual(fields);
    const b = Buffer.alloc(2);
    writeH265NalHeader(fields, b);
    expect(b.toString('hex')).toBe(h);
  });

  it('gives no header for fewer than 2 bytes, type -1 for none, and rejects bad fields', () => {
    expect(parseH265NalHeader(hex('26'))).toBeUndefined();
    expect(h265NalType(Buffer.alloc(0))).toBe(-1);
    expect(h265NalType(hex('26'))).toBe(19);
    expect(() => writeH265NalHeader({ f: 0, type: 64, layerId: 0, tid: 1 }, Buffer.alloc(2))).toThrow(RangeError);
  });

  it('calls IRAP types 16..23 keyframes and nothing else', () => {
    const types = Array.from({ length: 64 }, (_, t) => t).filter((t) => isH265Keyframe(Buffer.of(t << 1, 1)));
    expect(types).toEqual([16, 17, 18, 19, 20, 21, 22, 23]);
    expect([H265NalType.VPS, H265NalType.SPS, H265NalType.PPS, H265NalType.AUD, H265NalType.AP, H265NalType.FU, H265NalType.PACI]).toEqual([
      32, 33, 34, 35, 48, 49, 50,
    ]);
  });
});

describe('packetizeH265: single NAL and FU (RFC 7798 §4.4.1, §4.4.3)', () => {
  it('sends a NAL of exactly maxPayloadSize bytes as one single NAL unit packet (a view)', () => {
    const nal = hex('2601 | 01 02 03 04 05 06 07 08'); // IDR_W_RADL, LayerId 0, TID 1 | 8 body bytes = 10
    const out = packetizeH265([nal], { maxPayloadSize: 10 });
    expect(hexOf(out)).toEqual([['260101020304050607' + '08', true]]);
    expect(out[0]!.payload.buffer).toBe(nal.buffer);
  });

  it('fragments a NAL one byte over the limit into two FUs', () => {
    const nal = hex('2601 | 01 02 03 04 05 06 07 08 09'); // 11 bytes, limit 10 → 7 body bytes per FU
    expect(hexOf(packetizeH265([nal], { maxPayloadSize: 10 }))).toEqual([
      // PayloadHdr F=0 Type=49 LayerId=0 TID=1 (6201) | FU header S=1 E=0 FuType=19 (93) | body 01..07
      ['6201' + '93' + '01020304050607', false],
      // PayloadHdr 6201 | FU header S=0 E=1 FuType=19 (53) | body 08 09
      ['6201' + '53' + '0809', true],
    ]);
  });

  it('carries F, LayerId and TID of the NAL into the PayloadHdr and fills middle fragments', () => {
    // F=1 Type=1 LayerId=37 TID=5 → 1|000001|1 00101|101 = 83 2d | 10 body bytes; limit 6 → 3 per FU
    const nal = hex('832d', 'aa'.repeat(10));
    expect(hexOf(packetizeH265([nal], { maxPayloadSize: 6 }))).toEqual([
      ['e32d' + '81' + 'aaaaaa', false], // 1|110001|1 = e3, 2d | S=1 FuType=1
      ['e32d' + '01' + 'aaaaaa', false], // S=0 E=0
      ['e32d' + '01' + 'aaaaaa', false],
      ['e32d' + '41' + 'aa', true], // E=1, last body byte
    ]);
  });

  it('never sends a FU with both S and E set (a NAL over the limit always makes 2+ FUs)', () => {
    for (let max = 4; max < 12; max++) {
      const out = packetizeH265([Buffer.concat([hex('0201'), Buffer.alloc(max - 1, 7)])], { maxPayloadSize: max });
      expect(out.length).toBeGreaterThanOrEqual(2);
      expect(out.every((p) => (p.payload[2]! & 0xc0) !== 0xc0)).toBe(true);
    }
  });

  it('rejects a maxPayloadSize that cannot hold one FU byte', () => {
    expect(() => packetizeH265([hex('260101')], { maxPayloadSize: 3 })).toThrow(RangeError);
    expect(() => packetizeH265([hex('260101')], { maxPayloadSize: 10.5 })).toThrow(RangeError);
  });
});

describe('packetizeH265: Aggregation Packets (RFC 7798 §4.4.2, Figure 7)', () => {
  it('aggregates consecutive small NAL units with 16-bit sizes', () => {
    const vps = hex('4001 0c'); // type 32
    const sps = hex('4201 01'); // type 33
    const pps = hex('4401 c1'); // type 34
    expect(hexOf(packetizeH265([vps, sps, pps], { maxPayloadSize: 1400 }))).toEqual([
      [
        '6001' + // PayloadHdr F=0 Type=48 LayerId=0 TID=1
          '0003' +
          '40010c' + // NALU 1 size | NALU 1
          '0003' +
          '420101' + // NALU 2 size | NALU 2
          '0003' +
          '4401c1', // NALU 3 size | NALU 3
        true,
      ],
    ]);
  });

  it('sets F to the OR, LayerId and TID to the lowest of the aggregated units (each independently)', () => {
    // F=1 Type=1 LayerId=2 TID=3 (8213) and F=0 Type=1 LayerId=1 TID=4 (020c) → F=1 LayerId=1 TID=3
    expect(hexOf(packetizeH265([hex('8213'), hex('020c')], { maxPayloadSize: 100 }))).toEqual([
      ['e00b' + '0002' + '8213' + '0002' + '020c', true], // 1|110000|0 00001|011
    ]);
    // LayerId=40 TID=2 (0342) and LayerId=33 TID=6 (030e) → LayerId=33 TID=2: 0|110000|1 00001|010
    expect(hexOf(packetizeH265([hex('0342'), hex('030e')], { maxPayloadSize: 100 }))).toEqual([
      ['610a' + '0002' + '0342' + '0002' + '030e', true],
    ]);
  });

  it('aggregates while they fit, then starts a new packet; a lone unit goes as single NAL', () => {
    const a = hex('0201 aa'); // 3 bytes each, TRAIL_R
    const b = hex('0201 bb');
    const c = hex('0201 cc');
    // limit 12: AP of a, b = 2 + 2+3 + 2+3 = 12; adding c would make 17
    expect(hexOf(packetizeH265([a, b, c], { maxPayloadSize: 12 }))).toEqual([
      ['6001' + '00030201aa' + '00030201bb', false],
      ['0201cc', true],
    ]);
    // limit 11: no two fit, three single NAL unit packets
    expect(hexOf(packetizeH265([a, b, c], { maxPayloadSize: 11 }))).toEqual([
      ['0201aa', false],
      ['0201bb', false],
      ['0201cc', true],
    ]);
  });
});

describe('packetizeH265: parameter sets, AUD, marker', () => {
  const vps = hex('4001 0c');
  const sps = hex('4201 01');
  const pps = hex('4401 c1');
  const idr = hex('2601 af'); // IDR_W_RADL
  const cra = hex('2a01 af'); // CRA_NUT (21)
  const trail = hex('0201 9a');
  const aud = hex('4601 50'); // type 35
  const parameterSets = [vps, sps, pps];

  it('puts VPS/SPS/PPS in front of an IRAP access unit (IDR and CRA)', () => {
    const ap = (nal: string) => '6001' + '000340010c' + '0003420101' + '00034401c1' + '0003' + nal;
    expect(hexOf(packetizeH265([idr], { maxPayloadSize: 1400, parameterSets }))).toEqual([[ap('2601af'), true]]);
    expect(hexOf(packetizeH265([aud, cra], { maxPayloadSize: 1400, parameterSets }))).toEqual([[ap('2a01af'), true]]);
  });

  it('does not repeat parameter sets the access unit already carries, nor add them to non-IRAP units', () => {
    const other = [hex('4001 ff'), hex('4201 ff'), hex('4401 ff')];
    expect(hexOf(packetizeH265([vps, sps, pps, idr], { maxPayloadSize: 4, parameterSets: other }))).toEqual([
      ['40010c', false],
      ['420101', false],
      ['4401c1', false],
      ['2601af', true],
    ]);
    expect(hexOf(packetizeH265([trail], { maxPayloadSize: 1400, parameterSets }))).toEqual([['02019a', true]]);
  });

  it('drops AUDs and NALs shorter than 2 bytes (an AU of only those sends nothing)', () => {
    expect(hexOf(packetizeH265([aud, trail], { maxPayloadSize: 1400 }))).toEqual([['02019a', true]]);
    expect(packetizeH265([aud, hex('02'), Buffer.alloc(0)], { maxPayloadSize: 1400 })).toEqual([]);
    expect(packetizeH265([], { maxPayloadSize: 1400 })).toEqual([]);
  });

  it('sets the marker bit on the last packet of the access unit only', () => {
    const big = Buffer.concat([hex('2601'), Buffer.alloc(50, 0x11)]);
    const out = packetizeH265([hex('4e01'), big, hex('5001')], { maxPayloadSize: 20 });
    // single prefix SEI | FUs of 17 + 17 + 16 body bytes | single suffix SEI
    expect(out.map((p) => p.payload.length)).toEqual([2, 20, 20, 19, 2]);
    expect(out.map((p) => p.marker)).toEqual([false, false, false, false, true]);
  });
});

describe('packetizeH265: properties', () => {
  const nalArb = fc
    .tuple(
      fc.integer({ min: 0, max: 47 }),
      fc.integer({ min: 0, max: 63 }),
      fc.integer({ min: 1, max: 7 }),
      fc.uint8Array({ minLength: 0, maxLength: 3000 }),
    )
    .map(([type, layerId, tid, body]) => Buffer.concat([Buffer.of((type << 1) | (layerId >> 5), ((layerId & 31) << 3) | tid), body]));

  it('never exceeds maxPayloadSize, marks only the last packet, and round-trips through the depacketizer', () => {
    fc.assert(
      fc.property(fc.array(nalArb, { minLength: 1, maxLength: 12 }), fc.integer({ min: 100, max: 1500 }), (nalus, max) => {
        const out = packetizeH265(nalus, { maxPayloadSize: max });
        const expected = nalus.filter((n) => ((n[0]! >> 1) & 0x3f) !== 35); // AUDs are dropped
        for (const p of out) expect(p.payload.length).toBeLessThanOrEqual(max);
        expect(out.map((p) => p.marker)).toEqual(out.map((_, i) => i === out.length - 1));
        const d = new H265Depacketizer();
        const units = inputs(out, 1234, 70000).flatMap((p) => d.push(p));
        if (expected.length === 0) {
          expect(units).toEqual([]);
          return;
        }
        expect(units.length).toBe(1);
        expect(units[0]!.complete).toBe(true);
        expect(units[0]!.timestamp).toBe(1234);
        const irap = expected.some((n) => ((n[0]! >> 1) & 0x3f) >= 16 && ((n[0]! >> 1) & 0x3f) <= 23);
        expect(units[0]!.keyframe).toBe(irap);
        expect(units[0]!.data.map((b) => b.toString('hex'))).toEqual(expected.map((b) => b.toString('hex')));
        expect(d.stats).toMatchObject({ malformed: 0, droppedNalus: 0, unsupported: 0 });
      }),
      { numRuns: 300 },
    );
  });
});
