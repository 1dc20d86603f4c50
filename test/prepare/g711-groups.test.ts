/**
 * G.711 grouping (src/server/sample-groups.ts): one-byte samples cut into 20 ms groups of at most
 * 160 bytes, contiguous in the file and in time, each with the dts of its first byte.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SampleTable } from '../../src/media/index.ts';
import { groupSampleTable } from '../../src/server/sample-groups.ts';

function table(rows: { offset: number; size: number; dts: number }[]): SampleTable {
  const dts = Float64Array.from(rows.map((r) => r.dts));
  return {
    count: rows.length,
    offsets: Float64Array.from(rows.map((r) => r.offset)),
    sizes: Uint32Array.from(rows.map((r) => r.size)),
    dts,
    pts: dts,
    keyframe: new Uint8Array(rows.length).fill(1),
  };
}

/** n one-byte samples from file offset `at`, dts from `t`. */
const bytes = (n: number, at: number, t: number) => Array.from({ length: n }, (_, i) => ({ offset: at + i, size: 1, dts: t + i }));

const rows = (g: ReturnType<typeof groupSampleTable>) =>
  [...g.table.offsets].map((o, i) => [o, g.table.sizes[i], g.table.dts[i], g.firstSample[i], g.lastSample[i]]);

describe('G.711 grouping, exact', () => {
  it('400 contiguous one-byte samples: 160, 160, 80 with their dts', () => {
    const g = groupSampleTable(table(bytes(400, 1000, 0)), 160, 1);
    // [offset, size, dts, first sample, last sample]
    expect(rows(g)).toEqual([
      [1000, 160, 0, 0, 159],
      [1160, 160, 160, 160, 319],
      [1320, 80, 320, 320, 399],
    ]);
  });

  it('breaks where the file jumps (a new chunk elsewhere) and where time jumps', () => {
    const t = table([...bytes(200, 0, 0), ...bytes(100, 5000, 200), ...bytes(50, 5100, 1000)]);
    expect(rows(groupSampleTable(t, 160, 1))).toEqual([
      [0, 160, 0, 0, 159],
      [160, 40, 160, 160, 199],
      [5000, 100, 200, 200, 299], // file jump
      [5100, 50, 1000, 300, 349], // contiguous in the file, but 800 ticks of time missing
    ]);
  });

  it('cuts a large sample too, each part with its own dts (ticks per byte 2: a 16 kHz timescale)', () => {
    const t = table([
      { offset: 0, size: 500, dts: 0 },
      { offset: 500, size: 10, dts: 1000 },
    ]);
    expect(rows(groupSampleTable(t, 160, 2))).toEqual([
      [0, 160, 0, 0, 0],
      [160, 160, 320, 0, 0],
      [320, 160, 640, 0, 0],
      [480, 30, 960, 0, 1],
    ]);
  });

  it('skips empty samples and refuses a bad group size', () => {
    const t = table([{ offset: 0, size: 0, dts: 0 }, ...bytes(3, 0, 0)]);
    expect(rows(groupSampleTable(t, 160, 1))).toEqual([[0, 3, 0, 1, 3]]);
    expect(() => groupSampleTable(t, 0, 1)).toThrow(RangeError);
  });
});

describe('G.711 grouping, generated tables', () => {
  const run = fc.record({
    n: fc.integer({ min: 1, max: 10 }),
    size: fc.integer({ min: 1, max: 60 }),
    fileGap: fc.boolean(),
    timeGap: fc.boolean(),
  });

  it('every byte lands in exactly one group, in order, groups ≤ max, contiguous, timed by their first byte', () => {
    fc.assert(
      fc.property(fc.array(run, { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 200 }), (runs, max) => {
        const samples: { offset: number; size: number; dts: number }[] = [];
        let off = 0;
        let t = 0;
        for (const r of runs) {
          if (r.fileGap) off += 777;
          if (r.timeGap) t += 333;
          for (let i = 0; i < r.n; i++) {
            samples.push({ offset: off, size: r.size, dts: t });
            off += r.size;
            t += r.size;
          }
        }
        const g = groupSampleTable(table(samples), max, 1);
        // Byte positions (file offset, time) of the samples and of the groups are the same list.
        const want: number[] = [];
        for (const s of samples) for (let b = 0; b < s.size; b++) want.push(s.offset + b, s.dts + b);
        const got: number[] = [];
        for (let i = 0; i < g.table.count; i++) {
          const size = g.table.sizes[i]!;
          if (size < 1 || size > max) return false;
          for (let b = 0; b < size; b++) got.push(g.table.offsets[i]! + b, g.table.dts[i]! + b);
          // The samples named as first and last hold the group's first and last byte.
          const f = samples[g.firstSample[i]!]!;
          const l = samples[g.lastSample[i]!]!;
          expect(g.table.offsets[i]!).toBeGreaterThanOrEqual(f.offset);
          expect(g.table.offsets[i]!).toBeLessThan(f.offset + f.size);
          expect(g.table.offsets[i]! + size).toBeGreaterThan(l.offset);
          expect(g.table.offsets[i]! + size).toBeLessThanOrEqual(l.offset + l.size);
        }
        expect(got).toEqual(want);
        return true;
      }),
      { numRuns: 300 },
    );
  });
});
