/**
 * The index of a transport stream still being written (TsIndexBuilder.stable): after any prefix of
 * the file, in any chunking, the stable index is a prefix of the index of the whole file, unit for
 * unit (first packet, packet count, time to the bit, random access flag), and its duration is the
 * time where the next unit of the whole file starts. Generated streams with PAT/PMT in front of
 * keyframes, sparse PCRs and audio in between (fast-check), plus one byte-exact case.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { indexTs, TsIndexBuilder, TS_PACKET_SIZE } from '../../src/media/ts-file/index.ts';
import type { TsIndex } from '../../src/media/ts-file/index.ts';

import { AUDIO, PCR_HZ, VIDEO, packet, pat, pmt } from './ts-fixture.ts';

function units(ix: TsIndex): [number, number, number, number][] {
  return [...ix.unitFirstPacket].map((f, u) => [f, ix.unitPackets[u]!, ix.unitTimeSec[u]!, ix.unitRap[u]!]);
}

/** The stable index must be a unit-for-unit prefix of the whole file's index. */
function expectPrefix(part: TsIndex, whole: TsIndex): void {
  const p = units(part);
  const w = units(whole);
  expect(p.length).toBeLessThanOrEqual(w.length);
  expect(p).toEqual(w.slice(0, p.length));
  const end = p.length === 0 ? 0 : p[p.length - 1]![0] + p[p.length - 1]![1];
  expect(part.packetCount).toBe(end);
  // Duration: the time of the next unit of the whole file (or its end).
  if (p.length > 0) expect(part.durationSec).toBe(p.length < w.length ? w[p.length]![2] : whole.durationSec);
}

describe('TS index of a growing file', () => {
  it('byte-exact: nothing before two PCRs, then units up to the last PCR and 17 packets back from the end', () => {
    // 0 PAT, 1 PMT, 2 video RAI+PCR 0, 3..29 video (PCR at 20: 0.5 s), 30 video PCR 1 s, 31..49 video.
    const packets = [pat(), pmt(), packet({ pid: VIDEO, pusi: true, rai: true, pcr: 0 })];
    for (let i = 3; i < 50; i++) packets.push(packet({ pid: VIDEO, ...(i === 20 ? { pcr: PCR_HZ / 2 } : i === 30 ? { pcr: PCR_HZ } : {}) }));
    const ts = Buffer.concat(packets);
    const b = new TsIndexBuilder();
    b.push(ts.subarray(0, 15 * TS_PACKET_SIZE));
    expect(b.stable().unitFirstPacket.length).toBe(0); // one PCR: no clock yet
    b.push(ts.subarray(15 * TS_PACKET_SIZE, 40 * TS_PACKET_SIZE));
    // 40 packets pushed: limit = min(last PCR 30, 40 - 17 = 23) → units [0,7) [7,14) [14,21).
    expect([...b.stable().unitFirstPacket]).toEqual([0, 7, 14]);
    b.push(ts.subarray(40 * TS_PACKET_SIZE));
    // 50 packets: limit = min(30, 33) = 30 → [21,28) too; [28,35) ends past the last PCR.
    const s = b.stable();
    expect([...s.unitFirstPacket]).toEqual([0, 7, 14, 21]);
    expect(s.durationSec).toBeCloseTo(0.5 + (0.5 * 8) / 10, 12);
    expectPrefix(s, indexTs(ts));
  });

  const step = fc.record({
    kind: fc.constantFrom('video', 'video', 'video', 'audio', 'pat'),
    rai: fc.boolean(),
    pcrStep: fc.option(fc.integer({ min: 0, max: PCR_HZ }), { nil: undefined }),
  });

  it('appended in any pieces, every stable index (whole or taken incrementally) is a prefix of the whole index and finish() equals it', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 300 }), fc.array(fc.integer({ min: 1, max: 4000 }), { maxLength: 30 }), (steps, cuts) => {
        let pcr = 1000;
        const packets = [pat(), pmt()];
        for (const s of steps) {
          if (s.kind === 'pat') {
            packets.push(pat(), pmt());
            continue;
          }
          if (s.pcrStep !== undefined) pcr += s.pcrStep;
          packets.push(packet({ pid: s.kind === 'video' ? VIDEO : AUDIO, rai: s.rai, pusi: s.rai, ...(s.pcrStep !== undefined && s.kind === 'video' ? { pcr } : {}) }));
        }
        const ts = Buffer.concat(packets);
        const whole = indexTs(ts);
        const b = new TsIndexBuilder();
        let at = 0;
        let before = 0;
        const taken: [number, number, number, number][] = [];
        for (const c of [...cuts, ts.length]) {
          const to = Math.min(ts.length, at + c);
          b.push(ts.subarray(at, to));
          at = to;
          const s = b.stable();
          expectPrefix(s, whole);
          // The incremental form adds exactly the new units of stable(), with the same times.
          const add = b.takeStableUnits();
          for (let i = 0; i < add.first.length; i++) taken.push([add.first[i]!, add.packets[i]!, add.timeSec[i]!, add.rap[i]!]);
          expect(taken).toEqual(units(s));
          if (taken.length > 0) expect(add.endSec).toBe(s.durationSec);
          // It only grows.
          expect(s.unitFirstPacket.length).toBeGreaterThanOrEqual(before);
          before = s.unitFirstPacket.length;
        }
        expect(units(b.finish())).toEqual(units(whole));
      }),
      { numRuns: 300 },
    );
  });
});
