import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chiSquareSf, geometricGoodnessOfFit, lossEventCounts, pairedDifference, runsForHalfWidth } from '../../src/lab/paired-stats.ts';
import { tQuantile975 } from '../../src/lab/stats.ts';

describe('paired comparisons over common seeds', () => {
  it('mean and CI of b − a over the shared seeds only', () => {
    const a = new Map([
      [1, 10],
      [2, 12],
      [3, 11],
    ]);
    const b = new Map([
      [1, 12],
      [2, 15],
      [3, 13],
      [4, 99],
    ]);
    const d = pairedDifference(a, b)!;
    // d = 2, 3, 2: mean 7/3, s = √(1/3), half-width 4.303 · s / √3 = 4.303 / 3.
    expect(d.seeds).toEqual([1, 2, 3]);
    expect(d.mean).toBeCloseTo(7 / 3, 12);
    expect(d.sd).toBeCloseTo(Math.sqrt(1 / 3), 12);
    expect(d.ci95).toBeCloseTo(4.303 / 3, 12);
    expect(pairedDifference(new Map([[1, 1]]), new Map([[2, 1]]))).toBeUndefined();
  });
});

describe('loss events and runs', () => {
  it('counts events (runs) and packets', () => {
    expect(
      lossEventCounts([
        { length: 1, count: 3 },
        { length: 4, count: 2 },
      ]),
    ).toEqual({ events: 5, packets: 11 });
  });
});

describe('chi-square', () => {
  it('tail probabilities from closed forms', () => {
    expect(chiSquareSf(3.841458820694124, 1)).toBeCloseTo(0.05, 9);
    expect(chiSquareSf(5, 2)).toBeCloseTo(Math.exp(-2.5), 12);
    expect(chiSquareSf(0.04, 4)).toBeCloseTo(Math.exp(-0.02) * 1.02, 12);
    expect(chiSquareSf(40, 4)).toBeCloseTo(Math.exp(-20) * 21, 15);
  });

  it('geometric fit by hand: r = 0.5, 100 runs', () => {
    const hist = [
      { length: 1, count: 50 },
      { length: 2, count: 25 },
      { length: 3, count: 13 },
      { length: 4, count: 6 },
      { length: 5, count: 3 },
      { length: 6, count: 3 },
    ];
    const g = geometricGoodnessOfFit(hist, 0.5)!;
    // Bins 1, 2, 3, 4 and ≥ 5 (expected 50, 25, 12.5, 6.25, 6.25): no run is dropped.
    expect(g.bins.map((b) => [b.from, b.to, b.observed])).toEqual([
      [1, 1, 50],
      [2, 2, 25],
      [3, 3, 13],
      [4, 4, 6],
      [5, Infinity, 6],
    ]);
    expect(g.bins.map((b) => b.expected)).toEqual([50, 25, 12.5, 6.25, 6.25]);
    // χ² = 0.25/12.5 + 0.0625/6.25 + 0.0625/6.25 = 0.04, df 4.
    expect(g.chiSquare).toBeCloseTo(0.04, 12);
    expect(g.df).toBe(4);
    expect(g.pValue).toBeCloseTo(Math.exp(-0.02) * 1.02, 12);
  });

  it('random loss measured against a bursty model is rejected', () => {
    const hist = [{ length: 1, count: 200 }];
    const g = geometricGoodnessOfFit(hist, 1 / 3)!;
    expect(g.pValue).toBeLessThan(1e-6);
  });

  it('every run is in a bin, and every bin expects at least 5 (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ length: fc.integer({ min: 1, max: 60 }), count: fc.integer({ min: 1, max: 50 }) }), {
          minLength: 1,
          maxLength: 20,
        }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        (hist, r) => {
          const g = geometricGoodnessOfFit(hist, r);
          const runs = hist.reduce((a, h) => a + h.count, 0);
          if (!g) return;
          expect(g.bins.reduce((a, b) => a + b.observed, 0)).toBe(runs);
          expect(g.bins.reduce((a, b) => a + b.expected, 0)).toBeCloseTo(runs, 6);
          for (const b of g.bins) expect(b.expected).toBeGreaterThanOrEqual(5 - 1e-9);
        },
      ),
    );
  });
});

describe('runs needed for a CI half-width', () => {
  it('by hand: sd 1, half-width 1 needs 7 (t₆ 2.447 / √7 = 0.925; t₅ 2.571 / √6 = 1.05)', () => {
    expect(runsForHalfWidth(1, 1)).toBe(7);
    expect(runsForHalfWidth(0, 1)).toBe(2);
  });
  it('is the smallest n that reaches the width (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 10, noNaN: true }), fc.double({ min: 0.05, max: 10, noNaN: true }), (sd, w) => {
        const n = runsForHalfWidth(sd, w);
        expect((tQuantile975(n - 1) * sd) / Math.sqrt(n)).toBeLessThanOrEqual(w);
        if (n > 2) expect((tQuantile975(n - 2) * sd) / Math.sqrt(n - 1)).toBeGreaterThan(w);
      }),
    );
  });
});
