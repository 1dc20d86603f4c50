import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeqUnwrapper, seqAdd, seqDiff, seqGreaterThan, seqLessThan, tsAdd, tsDiff, tsLessThan } from '../../src/util/seq.ts';

describe('16-bit sequence arithmetic', () => {
  it.each([
    // a, n, expected
    [0, 1, 1],
    [65534, 1, 65535], // 65535 is a real sequence number (the % 65535 bug would skip it)
    [65535, 1, 0], // wraps to 0
    [65535, 2, 1],
    [0, -1, 65535],
    [100, -101, 65535],
    [40000, 30000, 4464], // 70000 - 65536
    [1, 65536, 1], // a full cycle is the identity
  ])('seqAdd(%i, %i) = %i', (a, n, want) => {
    expect(seqAdd(a, n)).toBe(want);
  });

  it.each([
    // a, b, a - b
    [1, 0, 1],
    [0, 65535, 1], // across the wrap
    [65535, 0, -1],
    [10, 65530, 16],
    [65530, 10, -16],
    [32767, 0, 32767], // largest positive distance
    [32768, 0, -32768], // half-way is taken as negative
    [0, 32768, -32768],
    [5, 5, 0],
  ])('seqDiff(%i, %i) = %i', (a, b, want) => {
    expect(seqDiff(a, b)).toBe(want);
  });

  it('seqLessThan / seqGreaterThan across 65535 -> 0', () => {
    expect(seqLessThan(65535, 0)).toBe(true);
    expect(seqLessThan(0, 65535)).toBe(false);
    expect(seqGreaterThan(0, 65535)).toBe(true);
    expect(seqLessThan(7, 7)).toBe(false);
    expect(seqLessThan(65000, 200)).toBe(true);
  });

  it('property: seqAdd(b, seqDiff(a, b)) === a and the diff is in range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }), (a, b) => {
        const d = seqDiff(a, b);
        expect(d).toBeGreaterThanOrEqual(-32768);
        expect(d).toBeLessThanOrEqual(32767);
        expect(seqAdd(b, d)).toBe(a);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('32-bit timestamp arithmetic', () => {
  it.each([
    // a, n, expected
    [0, 1, 1],
    [0xffffffff, 1, 0], // 2^32 - 1 + 1 wraps to 0
    [0xfffffff0, 0x20, 0x10],
    [0, -1, 0xffffffff],
    [3000, -3001, 0xffffffff],
    [0x80000000, 0x80000000, 0],
  ])('tsAdd(%i, %i) = %i', (a, n, want) => {
    expect(tsAdd(a, n)).toBe(want);
  });

  it.each([
    // a, b, a - b (signed 32-bit)
    [1, 0, 1],
    [0, 0xffffffff, 1], // across the wrap
    [0xffffffff, 0, -1],
    [0x10, 0xfffffff0, 0x20],
    [0x7fffffff, 0, 0x7fffffff],
    [0x80000000, 0, -0x80000000],
    [90000, 0, 90000],
  ])('tsDiff(%i, %i) = %i', (a, b, want) => {
    expect(tsDiff(a, b)).toBe(want);
  });

  it('tsLessThan across 2^32 -> 0', () => {
    expect(tsLessThan(0xffffff00, 0x100)).toBe(true);
    expect(tsLessThan(0x100, 0xffffff00)).toBe(false);
  });

  it('property: tsAdd(b, tsDiff(a, b)) === a', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), (a, b) => {
        expect(tsAdd(b, tsDiff(a, b))).toBe(a);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('SeqUnwrapper', () => {
  it('extends across several wraps and places late packets behind', () => {
    const u = new SeqUnwrapper();
    expect(u.unwrap(65534)).toBe(65534);
    expect(u.unwrap(65535)).toBe(65535);
    expect(u.unwrap(0)).toBe(65536);
    expect(u.unwrap(65535)).toBe(65535); // late, before the wrap
    expect(u.unwrap(2)).toBe(65538);
    expect(u.unwrap(30000)).toBe(65536 + 30000);
    expect(u.unwrap(60000)).toBe(65536 + 60000);
    expect(u.unwrap(10)).toBe(2 * 65536 + 10);
    u.reset();
    expect(u.unwrap(5)).toBe(5);
  });
});
