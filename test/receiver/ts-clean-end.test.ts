/**
 * TsCleanEnd: TS packets held back to whole PES packets. Any chunking of the input gives the same
 * packets in the same order; a cut drops exactly each PID's open PES, nothing else.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { TsCleanEnd } from '../../src/receiver/sinks/ts-clean-end.ts';

/** A TS packet: PID, PUSI, a PES start (00 00 01 E0) or a section (00 00 B0) when PUSI, tag byte. */
function ts(pid: number, pusi: boolean, tag: number, pes = true): Buffer {
  const p = Buffer.alloc(188, 0xff);
  p[0] = 0x47;
  p[1] = (pusi ? 0x40 : 0) | (pid >> 8);
  p[2] = pid & 0xff;
  p[3] = 0x10;
  if (pusi) Buffer.from(pes ? [0, 0, 1, 0xe0] : [0, 0, 0xb0, 0x0d]).copy(p, 4);
  p[10] = tag;
  return p;
}

it("holds back from the earliest open PES, and a cut drops each PID's open PES only", () => {
  const c = new TsCleanEnd();
  const pat = ts(0, true, 0, false);
  const v1 = ts(0x100, true, 1);
  const v1b = ts(0x100, false, 2);
  const a1 = ts(0x101, true, 3);
  const v2 = ts(0x100, true, 4);
  const a2 = ts(0x101, true, 5);
  const v2b = ts(0x100, false, 6);
  expect(c.push(Buffer.concat([pat, v1, v1b]))).toEqual([pat]); // v1 open
  expect(c.push(a1)).toEqual([]); // v1 still open, a1 open
  expect(c.push(v2)).toEqual([v1, v1b]); // v1 complete; a1 still open
  expect(c.push(Buffer.concat([a2, v2b.subarray(0, 100)]))).toEqual([a1]);
  expect(c.push(v2b.subarray(100))).toEqual([]);
  // Cut: v2 (v2, v2b) and a2 are open and dropped.
  expect(c.finish(true)).toEqual([]);
  expect(c.dropped).toBe(3);
});

it('any chunking: the same packets in order (end of stream), a cut keeps a prefix of each PID', () => {
  const packet = fc.record({ pid: fc.constantFrom(0, 0x100, 0x101, 0x1ff), pusi: fc.boolean() });
  fc.assert(
    fc.property(
      fc.array(packet, { maxLength: 60 }),
      fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 20 }),
      fc.boolean(),
      (spec, cuts, cut) => {
        const packets = spec.map((s, i) => ts(s.pid, s.pusi, i & 0xff, s.pid !== 0));
        const all = Buffer.concat(packets);
        const c = new TsCleanEnd();
        const out: Buffer[] = [];
        let off = 0;
        for (let i = 0; off < all.length; i++) {
          const n = cuts[i % cuts.length]!;
          out.push(...c.push(all.subarray(off, off + n)));
          off += n;
        }
        out.push(...c.finish(cut));
        if (!cut) {
          expect(Buffer.concat(out).equals(all)).toBe(true);
          return;
        }
        // Expected: drop, per PID with a PES start, the packets from its last PES start on.
        const lastStart = new Map<number, number>();
        spec.forEach((s, i) => s.pusi && s.pid !== 0 && lastStart.set(s.pid, i));
        const want = packets.filter((_, i) => !(lastStart.has(spec[i]!.pid) && i >= lastStart.get(spec[i]!.pid)!));
        expect(Buffer.concat(out).equals(Buffer.concat(want))).toBe(true);
        expect(c.dropped).toBe(packets.length - want.length);
      },
    ),
    { seed: 2250, numRuns: 300 },
  );
});
