import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  H264Depacketizer,
  packetizeH264,
  parseAvcDecoderConfig,
  type DepacketizedUnit,
  type RtpPayloadInput,
} from '../../src/codecs/index.ts';
import { AVCC_HEX, GST_H264_PACKETS, MP4_H264_SAMPLES } from './gstreamer-vectors.ts';
import { fromRtp, hex, split4 } from './helpers.ts';

const TS = 90000;
const nalHex = (u: DepacketizedUnit): string[] => u.data.map((b) => b.toString('hex'));

/** Pushes packets, collecting everything handed on, then flushes. */
function run(d: H264Depacketizer, ps: RtpPayloadInput[]): DepacketizedUnit[] {
  return [...ps.flatMap((p) => d.push(p)), ...d.flush()];
}

const pkt = (sequence: number, payload: string, marker = false, timestamp = TS): RtpPayloadInput => ({
  sequence,
  timestamp,
  marker,
  payload: hex(payload),
});

describe('H264Depacketizer on GStreamer rtph264pay output', () => {
  it('gives back the samples of the file, with the SPS/PPS GStreamer put in front of the IDR', () => {
    const d = new H264Depacketizer();
    const units = run(d, GST_H264_PACKETS.map(fromRtp));
    const cfg = parseAvcDecoderConfig(hex(AVCC_HEX));
    if (!cfg.ok) throw new Error(cfg.code);
    const samples = MP4_H264_SAMPLES.map((s) => split4(hex(s)));
    // Sample 0 is SEI + IDR; rtph264pay (config-interval=-1) sent SEI, STAP-A(SPS, PPS), IDR.
    expect(samples[0]!.map((n) => n[0]! & 0x1f)).toEqual([6, 5]);
    const expected = [[samples[0]![0]!, cfg.value.sps[0]!, cfg.value.pps[0]!, samples[0]![1]!], ...samples.slice(1)].map((au) =>
      au.map((n) => n.toString('hex')),
    );
    expect(units.map(nalHex)).toEqual(expected);
    expect(units.map((u) => u.complete)).toEqual([true, true, true, true, true]);
    expect(units.map((u) => u.keyframe)).toEqual([true, false, false, false, false]);
    expect(d.stats).toMatchObject({ packets: 22, lostPackets: 0, stale: 0, malformed: 0, droppedNalus: 0, units: 5 });
  });
});

describe('H264Depacketizer: packet types', () => {
  it('reads single NAL unit packets and ends the access unit at the marker', () => {
    const d = new H264Depacketizer();
    expect(d.push(pkt(1, '06 05 01'))).toEqual([]);
    const [u] = d.push(pkt(2, '65 88 84', true));
    expect(u).toEqual({ timestamp: TS, data: [hex('060501'), hex('658884')], keyframe: true, complete: true });
  });

  it('ends an access unit when the timestamp changes without a marker', () => {
    const d = new H264Depacketizer();
    d.push(pkt(1, '41 01'));
    const out = d.push(pkt(2, '41 02', false, TS + 3000));
    expect(out.map((u) => [u.timestamp, nalHex(u), u.complete])).toEqual([[TS, ['4101'], true]]);
    expect(d.flush().map((u) => [u.timestamp, u.complete])).toEqual([[TS + 3000, false]]); // no marker: end unsure
  });

  it('splits a STAP-A into its units', () => {
    const d = new H264Depacketizer();
    // STAP-A hdr 0x78 | 0004 SPS | 0002 PPS
    const [u] = d.push(pkt(1, '78 | 0004 67640028 | 0002 68ee', true));
    expect(nalHex(u!)).toEqual(['67640028', '68ee']);
    expect(u!.complete).toBe(true);
  });

  it.each([
    ['size runs past the end', '78 | 0004 67640028 | 0005 68ee'],
    ['zero size', '78 | 0000 | 0002 68ee'],
    ['half a size field', '78 | 0002 68ee | 00'],
    ['no units', '78'],
  ])('drops a malformed STAP-A whole (%s) and marks the unit incomplete', (_name, payload) => {
    const d = new H264Depacketizer();
    d.push(pkt(1, '06 01'));
    const [u] = d.push(pkt(2, payload, true));
    expect(nalHex(u!)).toEqual(['0601']);
    expect(u!.complete).toBe(false);
    expect(d.stats.malformed).toBe(1);
  });

  it('reassembles FU-A fragments into a new buffer', () => {
    const d = new H264Depacketizer();
    d.push(pkt(1, '7c85 0102')); // S=1 type=5
    d.push(pkt(2, '7c05 0304')); // middle
    const [u] = d.push(pkt(3, '7c45 05', true)); // E=1
    expect(nalHex(u!)).toEqual(['650102030405']); // header = F|NRI of the indicator + type of the FU header
    expect(u!).toMatchObject({ keyframe: true, complete: true });
  });

  it.each([
    ['STAP-B', '19 0000 0002 4101'],
    ['MTAP16', '1a 0000 0000'],
    ['MTAP24', '1b 0000 0000'],
    ['FU-B', '1d 85 0000 01'],
  ])('counts %s as unsupported and marks the unit incomplete', (_name, payload) => {
    const d = new H264Depacketizer();
    const [u] = d.push(pkt(1, payload, true));
    expect(u).toMatchObject({ data: [], complete: false });
    expect(d.stats.unsupported).toBe(1);
  });

  it('ignores NAL types 0, 30 and 31 (RFC 6184 §5.4)', () => {
    const d = new H264Depacketizer();
    d.push(pkt(1, '00 11'));
    d.push(pkt(2, '1e 11'));
    d.push(pkt(3, '1f 11'));
    const [u] = d.push(pkt(4, '41 01', true));
    expect(u).toMatchObject({ data: [hex('4101')], complete: true });
    expect(d.stats.ignored).toBe(3);
  });
});

describe('H264Depacketizer: loss, duplicates, reordering', () => {
  it('drops a FU-A with a missing middle fragment (sequence gap) and keeps the other NALs', () => {
    const d = new H264Depacketizer();
    d.push(pkt(10, '06 01'));
    d.push(pkt(11, '7c85 01'));
    // seq 12 (middle) lost
    const [u] = d.push(pkt(13, '7c45 03', true));
    expect(u).toMatchObject({ data: [hex('0601')], complete: false, keyframe: false });
    expect(d.stats).toMatchObject({ lostPackets: 1, droppedNalus: 1, incompleteUnits: 1 });
  });

  it('drops fragments without their start', () => {
    const d = new H264Depacketizer();
    d.push(pkt(1, '41 aa', true)); // previous AU, complete
    // seq 2 (FU start) lost
    d.push(pkt(3, '7c05 02', false, TS + 3000));
    const [u] = d.push(pkt(4, '7c45 03', true, TS + 3000));
    expect(u).toMatchObject({ timestamp: TS + 3000, data: [], complete: false });
  });

  it('drops fragments without their start even without a sequence gap (first packet)', () => {
    const d = new H264Depacketizer();
    d.push(pkt(5, '7c05 02'));
    const [u] = d.push(pkt(6, '7c45 03', true));
    expect(u).toMatchObject({ data: [], complete: false });
  });

  it('drops a FU-A whose end is missing when the next access unit begins', () => {
    const d = new H264Depacketizer();
    d.push(pkt(1, '06 01'));
    d.push(pkt(2, '7c85 01'));
    // seq 3 (FU end, with the marker) lost
    const out = d.push(pkt(4, '41 02', true, TS + 3000));
    expect(out.map((u) => [u.timestamp, nalHex(u), u.complete])).toEqual([
      [TS, ['0601'], false],
      [TS + 3000, ['4102'], false], // it starts after a gap: its head may be lost too
    ]);
  });

  it('drops a FU-A when the timestamp changes mid-fragment without a gap', () => {
    const d = new H264Depacketizer();
    d.push(pkt(1, '7c85 01'));
    const out = d.push(pkt(2, '7c45 02', true, TS + 1)); // an end fragment of another timestamp
    expect(out.map((u) => [u.timestamp, u.data.length, u.complete])).toEqual([
      [TS, 0, false],
      [TS + 1, 0, false],
    ]);
  });

  it('drops a FU-A interrupted by another packet, or restarted by a new start', () => {
    const d = new H264Depacketizer();
    d.push(pkt(1, '7c85 01'));
    d.push(pkt(2, '06 01')); // not a fragment: the FU-A is broken
    d.push(pkt(3, '7c81 aa')); // a new start (type 1)
    d.push(pkt(4, '7c85 bb')); // another start: the type-1 NAL lost its end
    const [u] = d.push(pkt(5, '7c45 cc', true));
    expect(nalHex(u!)).toEqual(['0601', '65bbcc']);
    expect(u!.complete).toBe(false);
    expect(d.stats.droppedNalus).toBe(2);
  });

  it('ignores a duplicated packet', () => {
    const d = new H264Depacketizer();
    d.push(pkt(1, '7c85 01'));
    d.push(pkt(1, '7c85 01'));
    const [u] = d.push(pkt(2, '7c45 02', true));
    expect(u).toMatchObject({ data: [hex('650102')], complete: true });
    expect(d.stats.stale).toBe(1);
  });

  it('treats a reordered packet as lost: the gap breaks the unit, the late packet is discarded', () => {
    const d = new H264Depacketizer();
    d.push(pkt(1, '7c85 01'));
    const a = d.push(pkt(3, '7c45 03', true)); // 2 is late
    const b = d.push(pkt(2, '7c05 02'));
    expect(a).toEqual([{ timestamp: TS, data: [], keyframe: false, complete: false }]);
    expect(b).toEqual([]);
    expect(d.stats).toMatchObject({ lostPackets: 1, stale: 1 });
  });

  it('works across the 16-bit wrap with extended sequence numbers', () => {
    const d = new H264Depacketizer();
    d.push(pkt(0xffff, '7c85 01'));
    const [u] = d.push(pkt(0x10000, '7c45 02', true));
    expect(u).toMatchObject({ data: [hex('650102')], complete: true });
  });
});

describe('H264Depacketizer: caps', () => {
  it('drops a NAL over maxNalSize', () => {
    const d = new H264Depacketizer({ maxNalSize: 4 });
    d.push(pkt(1, '7c85 0102'));
    d.push(pkt(2, '7c05 0304')); // 5 bytes with the header: over
    d.push(pkt(3, '7c45 05'));
    const [u] = d.push(pkt(4, '41 01', true));
    expect(u).toMatchObject({ data: [hex('4101')], complete: false });
    expect(d.stats.overCap).toBe(1);
  });

  it('keeps at most maxNalusPerAccessUnit NAL units and maxAccessUnitSize bytes', () => {
    const d = new H264Depacketizer({ maxNalusPerAccessUnit: 2 });
    const [u] = d.push(pkt(1, '78 | 0002 4101 | 0002 4102 | 0002 4103', true));
    expect(u).toMatchObject({ data: [hex('4101'), hex('4102')], complete: false });
    const e = new H264Depacketizer({ maxAccessUnitSize: 5 });
    const [v] = e.push(pkt(1, '78 | 0002 4101 | 0002 4102 | 0002 4103', true));
    expect(v).toMatchObject({ data: [hex('4101'), hex('4102')], complete: false });
  });
});

describe('H264Depacketizer: properties', () => {
  it('never throws on random payloads, and hands on only whole units it was given', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            payload: fc.uint8Array({ maxLength: 64 }),
            marker: fc.boolean(),
            dseq: fc.integer({ min: -2, max: 3 }),
            dts: fc.integer({ min: 0, max: 2 }),
          }),
          { maxLength: 60 },
        ),
        (items) => {
          const d = new H264Depacketizer();
          let seq = 100;
          let ts = 0;
          for (const it of items) {
            seq += it.dseq;
            ts += it.dts;
            for (const u of d.push({ payload: Buffer.from(it.payload), marker: it.marker, sequence: seq, timestamp: ts })) {
              for (const n of u.data) expect(n.length).toBeGreaterThan(0);
            }
          }
          d.flush();
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('under loss, duplication and reordering: complete units are exact, incomplete ones hold only whole input NALs', () => {
    const nalArb = fc
      .tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom(1, 5, 6, 7, 8), fc.uint8Array({ maxLength: 1200 }))
      .map(([nri, type, body]) => Buffer.concat([Buffer.of((nri << 5) | type), body]));
    const auArb = fc.array(nalArb, { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(
        fc.array(auArb, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 100, max: 1500 }),
        fc.array(fc.constantFrom('keep', 'keep', 'keep', 'keep', 'drop', 'dup', 'swap'), { maxLength: 200 }),
        (aus, max, fate) => {
          const sent: RtpPayloadInput[] = [];
          let seq = 65530;
          aus.forEach((au, i) => {
            for (const p of packetizeH264(au, { maxPayloadSize: max })) sent.push({ ...p, sequence: seq++, timestamp: i * 3000 });
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
          const d = new H264Depacketizer();
          const units = run(d, received);
          const anyLoss = received.length !== sent.length || fate.slice(0, sent.length).some((f) => f !== 'keep');
          for (const u of units) {
            const au = aus[u.timestamp / 3000]!.map((n) => n.toString('hex'));
            const got = nalHex(u);
            if (u.complete) expect(got).toEqual(au);
            // every NAL handed on is one of the access unit's NALs, in order
            let k = 0;
            for (const n of got) {
              while (k < au.length && au[k] !== n) k++;
              expect(k).toBeLessThan(au.length);
              k++;
            }
          }
          if (!anyLoss) {
            expect(units.map((u) => u.complete)).toEqual(aus.map(() => true));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
