import { describe, expect, it } from 'vitest';
import { at } from '../../src/util/narrow.ts';
import { createPrng, createPrngFromState } from '../../src/util/prng.ts';

describe('xoshiro128**', () => {
  it('matches the reference sequence for state {1, 2, 3, 4}', () => {
    // Outputs of the authors' C code (xoshiro128starstar.c) from s = {1, 2, 3, 4}.
    const p = createPrngFromState(1, 2, 3, 4);
    const got = Array.from({ length: 8 }, () => p.nextUint32());
    expect(got).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849]);
  });

  it.each([
    // seed, first six outputs (computed with an independent Python implementation of
    // splitmix32-seeded xoshiro128**)
    [0, [3809008728, 1133695204, 53579671, 2891528803, 139681546, 2203266335]],
    [42, [2837322924, 544945897, 479756282, 3500138142, 339756180, 113173290]],
    [0xdeadbeef, [2306529437, 2576298207, 1250671110, 2699168992, 2319502352, 3183738783]],
  ])('createPrng(%i) exact sequence', (seed, want) => {
    const p = createPrng(seed);
    expect(Array.from({ length: 6 }, () => p.nextUint32())).toEqual(want);
  });

  it('next() is nextUint32() / 2^32', () => {
    const p = createPrngFromState(1, 2, 3, 4);
    expect(p.next()).toBe(11520 / 2 ** 32);
    expect(p.next()).toBe(0);
    expect(p.next()).toBe(5927040 / 2 ** 32);
  });

  it('same seed, same sequence; different seeds differ', () => {
    const a = createPrng(7);
    const b = createPrng(7);
    const c = createPrng(8);
    const sa = Array.from({ length: 20 }, () => a.next());
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.next())).not.toEqual(sa);
  });

  it('next() stays in [0, 1) with mean ~0.5; nextInt is in range and roughly uniform', () => {
    const p = createPrng(123);
    let sum = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const x = p.next();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.01); // σ of the mean ≈ 0.002
    const counts = [0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 6000; i++) {
      const k = p.nextInt(6);
      counts[k] = at(counts, k) + 1; // at() also fails the test if nextInt leaves [0, 6)
    }
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150); // σ ≈ 29
  });

  it('rejects an all-zero state and bad bounds (programmer errors)', () => {
    expect(() => createPrngFromState(0, 0, 0, 0)).toThrow(RangeError);
    expect(() => createPrng(1).nextInt(0)).toThrow(RangeError);
  });
});
