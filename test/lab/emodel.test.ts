import { describe, expect, it } from 'vitest';
import { G113, emodel, gilbertEstimate, mosFromR } from '../../src/lab/index.ts';

describe('E-model (G.107 with G.113 planning values)', () => {
  // LAB.md: G.711 with PLC (Ie 0, Bpl 25.1), random loss: 1 % → R 89.6 / MOS 4.33; 5 % → 77.4 / 3.92;
  // 10 % → 66.1 / 3.41 (figures computed by hand from the G.107 formulas, rounded as published).
  it.each([
    [1, 89.6, 4.33],
    [5, 77.4, 3.92],
    [10, 66.1, 3.41],
  ])('G.711 PLC, %d %% random loss → R %d, MOS %d', (ppl, r, mos) => {
    const e = emodel(G113.g711Plc, ppl, 1);
    expect(e.r).toBeCloseTo(r, 1);
    expect(e.mos).toBeCloseTo(mos, 2);
  });

  it('no loss gives the default R 93.2 and MOS 4.41', () => {
    const e = emodel(G113.g711Plc, 0);
    expect(e.r).toBeCloseTo(93.2, 6);
    // 1 + 0.035·93.2 + 7e-6·93.2·33.2·6.8 = 4.4090...
    expect(e.mos).toBeCloseTo(4.409, 3);
  });

  it('bursty loss hurts more than random loss at the same rate (BurstR > 1)', () => {
    const random = emodel(G113.g711Plc, 5, 1);
    const bursty = emodel(G113.g711Plc, 5, 2);
    // Ie,eff = 95·5/(5/2 + 25.1) = 17.21 → R 75.99
    expect(bursty.ieEff).toBeCloseTo((95 * 5) / (2.5 + 25.1), 6);
    expect(bursty.r).toBeLessThan(random.r);
  });

  it('MOS mapping is clamped at the ends', () => {
    expect(mosFromR(-5)).toBe(1);
    expect(mosFromR(120)).toBe(4.5);
  });

  it('refuses a loss outside 0..100 %', () => {
    expect(() => emodel(G113.g711Plc, 101)).toThrow(RangeError);
  });

  it('Gilbert estimate from a loss sequence: BurstR = 1/(p + r)', () => {
    // good→bad transitions: 2 of 7 from good; bad→good: 2 of 4 from bad.
    const seq = [0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 0].map((x) => x === 1);
    const g = gilbertEstimate(seq);
    // pairs: gg: (0,1)(1,2)(6,7)(7,8)(10,11) = 5, gb: (2,3)(8,9) = 2, bb: (3,4)(4,5) = 2, bg: (5,6)(9,10) = 2
    expect(g.p).toBeCloseTo(2 / 7, 9);
    expect(g.r).toBeCloseTo(2 / 4, 9);
    expect(g.burstR).toBeCloseTo(1 / (2 / 7 + 0.5), 9);
  });
});
