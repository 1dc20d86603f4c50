import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { H265Depacketizer, packetizeH265 } from '../../src/codecs/h265/index.ts';
import type { DepacketizedUnit, RtpPayloadInput } from '../../src/codecs/index.ts';
import { hex } from './helpers.ts';

const TS = 90000;
const nalHex = (u: DepacketizedUnit): string[] => u.data.map((b) => b.toString('hex'));

function run(d: H265Depacketizer, ps: RtpPayloadInput[]): DepacketizedUnit[] {
  return [...ps.flatMap((p) => d.push(p)), ...d.flush()];
}

const pkt = (sequence: number, payload: string, marker = false, timestamp = TS): RtpPayloadInput => ({
  sequence,
  timestamp,
  marker,
  payload: hex(payload),
});

describe('H265Depacketizer: packet types', () => {
  it('reads single NAL unit packets and ends the access unit at the marker', () => {
    const d = new H265Depacketizer();
    expect(d.push(pkt(1, '4e01 05'))).toEqual([]); // prefix SEI
    const [u] = d.push(pkt(2, '2601 af', true)); // IDR_W_RADL
    expect(u).toEqual({ timestamp: TS, data: [hex('4e0105'), hex('2601af')], keyframe: true, complete: true });
  });

  it('ends an access unit when the timestamp changes without a marker', () => {
    const d = new H265Depacketizer();
    d.push(pkt(1, '0201 01'));
    const out = d.push(pkt(2, '0201 02', false, TS + 3000));
    expect(out.map((u) => [u.timestamp, nalHex(u), u.complete, u.keyframe])).toEqual([[TS, ['020101'], true, false]]);
    expect(d.flush().map((u) => [u.timestamp, u.complete])).toEqual([[TS + 3000, false]]);
  });

  it('splits an AP into its units', () => {
    const d = new H265Depacketizer();
    // PayloadHdr type 48 | 0003 VPS | 0002 PPS
    const [u] = d.push(pkt(1, '6001 | 0003 40010c | 0002 4401', true));
    expect(nalHex(u!)).toEqual(['40010c', '4401']);
    expect(u!.complete).toBe(true);
  });

  it.each([
    ['size runs past the end', '6001 | 0003 40010c | 0005 4401'],
    ['zero size', '6001 | 0000 | 0002 4401 | 0002 4401'],
    ['size 1 (no room for a NAL header)', '6001 | 0001 40 | 0002 4401'],
    ['half a size field', '6001 | 0002 4401 | 0002 4401 | 00'],
    ['one unit only', '6001 | 0002 4401'],
    ['no units', '6001'],
  ])('drops a malformed AP whole (%s) and marks the unit incomplete', (_name, payload) => {
    const d = new H265Depacketizer();
    d.push(pkt(1, '4e01 01'));
    const [u] = d.push(pkt(2, payload, true));
    expect(nalHex(u!)).toEqual(['4e0101']);
    expect(u!.complete).toBe(false);
    expect(d.stats.malformed).toBe(1);
  });

  it('reassembles FUs into a new NAL with F, LayerId and TID of the PayloadHdr and FuType', () => {
    const d = new H265Depacketizer();
    d.push(pkt(1, 'e32d 93 0102')); // F=1 type=49 LayerId=37 TID=5 | S=1 FuType=19
    d.push(pkt(2, 'e32d 13 0304')); // middle
    const [u] = d.push(pkt(3, 'e32d 53 05', true)); // E=1
    // 1|010011|1 00101|101 = a7 2d
    expect(nalHex(u!)).toEqual(['a72d' + '0102030405']);
    expect(u!).toMatchObject({ keyframe: true, complete: true });
  });

  it.each([
    ['S and E both set', '6201 d3 01'],
    ['no FU payload', '6201 93'],
    ['FuType 48 (AP)', '6201 b0 01'],
    ['FU header missing', '6201'],
    ['1-byte packet', '26'],
  ])('counts a FU with %s as malformed', (_name, payload) => {
    const d = new H265Depacketizer();
    const [u] = d.push(pkt(1, payload, true));
    expect(u).toMatchObject({ data: [], complete: false });
    expect(d.stats.malformed).toBe(1);
  });

  it('counts PACI as unsupported (unit incomplete) and ignores types 51..63', () => {
    const d = new H265Depacketizer();
    const [u] = d.push(pkt(1, '6401 0000 0201aa', true)); // type 50
    expect(u).toMatchObject({ data: [], complete: false });
    expect(d.stats.unsupported).toBe(1);
    d.push(pkt(2, '6601 11')); // type 51
    d.push(pkt(3, '7e01 11')); // type 63
    const [v] = d.push(pkt(4, '0201 01', true));
    expect(v).toMatchObject({ data: [hex('020101')], complete: true });
    expect(d.stats.ignored).toBe(2);
  });
});

describe('H265Depacketizer: loss, duplicates, reordering', () => {
  it('drops a FU with a missing middle fragment (sequence gap) and keeps the other NALs', () => {
    const d = new H265Depacketizer();
    d.push(pkt(10, '4e01 01'));
    d.push(pkt(11, '6201 93 01'));
    // seq 12 (middle) lost
    const [u] = d.push(pkt(13, '6201 53 03', true));
    expect(u).toMatchObject({ data: [hex('4e0101')], complete: false, keyframe: false });
    expect(d.stats).toMatchObject({ lostPackets: 1, droppedNalus: 1, incompleteUnits: 1 });
  });

  it('drops fragments without their start, with or without a gap', () => {
    const d = new H265Depacketizer();
    d.push(pkt(1, '0201 aa', true));
    // seq 2 (FU start) lost
    d.push(pkt(3, '6201 13 02', false, TS + 3000));
    const [u] = d.push(pkt(4, '6201 53 03', true, TS + 3000));
    expect(u).toMatchObject({ timestamp: TS + 3000, data: [], complete: false });
    const e = new H265Depacketizer();
    e.push(pkt(5, '6201 13 02'));
    const [v] = e.push(pkt(6, '6201 53 03', true));
    expect(v).toMatchObject({ data: [], complete: false });
    expect(e.stats.droppedNalus).toBe(1);
  });

  it('drops a FU whose end is missing when the next access unit begins', () => {
    const d = new H265Depacketizer();
    d.push(pkt(1, '4e01 01'));
    d.push(pkt(2, '6201 93 01'));
    // seq 3 (FU end, with the marker) lost
    const out = d.push(pkt(4, '0201 02', true, TS + 3000));
    expect(out.map((u) => [u.timestamp, nalHex(u), u.complete])).toEqual([
      [TS, ['4e0101'], false],
      [TS + 3000, ['020102'], false], // it starts after a gap: its head may be lost too
    ]);
  });

  it('drops a FU interrupted by another packet, or restarted by a new start', () => {
    const d = new H265Depacketizer();
    d.push(pkt(1, '6201 93 01'));
    d.push(pkt(2, '4e01 01')); // not a fragment: the FU is broken
    d.push(pkt(3, '6201 81 aa')); // a new start (FuType 1)
    d.push(pkt(4, '6201 93 bb')); // another start: the type-1 NAL lost its end
    const [u] = d.push(pkt(5, '6201 53 cc', true));
    expect(nalHex(u!)).toEqual(['4e0101', '2601bbcc']);
    expect(u!.complete).toBe(false);
    expect(d.stats.droppedNalus).toBe(2);
  });

  it('ignores a duplicated packet; a reordered one counts as lost and the late one is discarded', () => {
    const d = new H265Depacketizer();
    d.push(pkt(1, '6201 93 01'));
    d.push(pkt(1, '6201 93 01'));
    const [u] = d.push(pkt(2, '6201 53 02', true));
    expect(u).toMatchObject({ data: [hex('26010102')], complete: true });
    expect(d.stats.stale).toBe(1);
    const e = new H265Depacketizer();
    e.push(pkt(1, '6201 93 01'));
    const a = e.push(pkt(3, '6201 53 03', true));
    const b = e.push(pkt(2, '6201 13 02'));
    expect(a).toEqual([{ timestamp: TS, data: [], keyframe: false, complete: false }]);
    expect(b).toEqual([]);
    expect(e.stats).toMatchObject({ lostPackets: 1, stale: 1 });
  });

  it('works across the 16-bit wrap with extended sequence numbers', () => {
    const d = new H265Depacketizer();
    d.push(pkt(0xffff, '6201 93 01'));
    const [u] = d.push(pkt(0x10000, '6201 53 02', true));
    expect(u).toMatchObject({ data: [hex('26010102')], complete: true });
  });
});

describe('H265Depacketizer: caps', () => {
  it('drops a NAL over maxNalSize', () => {
    const d = new H265Depacketizer({ maxNalSize: 5 });
    d.push(pkt(1, '6201 93 0102')); // 4 bytes with the header
    d.push(pkt(2, '6201 13 0304')); // 6: over
    d.push(pkt(3, '6201 53 05'));
    const [u] = d.push(pkt(4, '0201 01', true));
    expect(u).toMatchObject({ data: [hex('020101')], complete: false });
    expect(d.stats.overCap).toBe(1);
  });

  it('keeps at most maxNalusPerAccessUnit NAL units and maxAccessUnitSize bytes', () => {
    const ap = '6001 | 0002 0201 | 0002 0202 | 0002 0203';
    const d = new H265Depacketizer({ maxNalusPerAccessUnit: 2 });
    expect(d.push(pkt(1, ap, true))[0]).toMatchObject({ data: [hex('0201'), hex('0202')], complete: false });
    const e = new H265Depacketizer({ maxAccessUnitSize: 5 });
    expect(e.push(pkt(1, ap, true))[0]).toMatchObject({ data: [hex('0201'), hex('0202')], complete: false });
  });
});

describe('H265Depacketizer: properties', () => {
  it('never throws on random payloads and hands on only NALs of 2+ bytes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            payload: fc.oneof(
              fc.uint8Array({ maxLength: 64 }),
              // bias towards AP/FU/PACI packet headers
              fc
                .tuple(fc.constantFrom(0x60, 0x62, 0x64, 0x63, 0xe2), fc.uint8Array({ maxLength: 40 }))
                .map(([h, r]) => Uint8Array.of(h, 1, ...r)),
            ),
            marker: fc.boolean(),
            dseq: fc.integer({ min: -2, max: 3 }),
            dts: fc.integer({ min: 0, max: 2 }),
          }),
          { maxLength: 60 },
        ),
        (items) => {
          const d = new H265Depacketizer();
          let seq = 100;
          let ts = 0;
          const units: DepacketizedUnit[] = [];
          for (const it of items) {
            seq += it.dseq;
            ts += it.dts;
            units.push(...d.push({ payload: Buffer.from(it.payload), marker: it.marker, sequence: seq, timestamp: ts }));
          }
          units.push(...d.flush());
          for (const u of units) for (const n of u.data) expect(n.length).toBeGreaterThanOrEqual(2);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('under loss, duplication and reordering: complete units are exact, incomplete ones hold only whole input NALs', () => {
    const nalArb = fc
      .tuple(fc.constantFrom(1, 19, 21, 32, 33, 34, 39), fc.integer({ min: 0, max: 63 }), fc.uint8Array({ maxLength: 1200 }))
      .map(([type, layerId, body]) => Buffer.concat([Buffer.of((type << 1) | (layerId >> 5), ((layerId & 31) << 3) | 1), body]));
    fc.assert(
      fc.property(
        fc.array(fc.array(nalArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 100, max: 1500 }),
        fc.array(fc.constantFrom('keep', 'keep', 'keep', 'keep', 'drop', 'dup', 'swap'), { maxLength: 200 }),
        (aus, max, fate) => {
          const sent: RtpPayloadInput[] = [];
          let seq = 65530;
          aus.forEach((au, i) => {
            for (const p of packetizeH265(au, { maxPayloadSize: max })) sent.push({ ...p, sequence: seq++, timestamp: i * 3000 });
          });
          const received: RtpPayloadInput[] = [];
          for (let i = 0; i < sent.length; i++) {
            const f = fate[i] ?? 'keep';
            if (f === 'drop') continue;
            if (f === 'swap' && i + 1 < sent.length) {
              received.push(sent[i + 1]!, sent[i]!);
              i++;
              continue;
            }
            received.push(sent[i]!);
            if (f === 'dup') received.push(sent[i]!);
          }
          const units = run(new H265Depacketizer(), received);
          const anyLoss = fate.slice(0, sent.length).some((f) => f !== 'keep');
          for (const u of units) {
            const au = aus[u.timestamp / 3000]!.map((n) => n.toString('hex'));
            const got = nalHex(u);
            if (u.complete) expect(got).toEqual(au);
            let k = 0;
            for (const n of got) {
              while (k < au.length && au[k] !== n) k++;
              expect(k).toBeLessThan(au.length);
              k++;
            }
          }
          if (!anyLoss) expect(units.map((u) => u.complete)).toEqual(aus.map(() => true));
        },
      ),
      { numRuns: 300 },
    );
  });
});
