import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/util/prng.ts';
import { cryptoRandom, seededRandom } from '../../src/util/random.ts';
import type { Random } from '../../src/util/random.ts';

function inRange(r: Random): void {
  for (let i = 0; i < 200; i++) {
    const u32 = r.uint32();
    expect(Number.isInteger(u32) && u32 >= 0 && u32 < 2 ** 32).toBe(true);
    const u16 = r.uint16();
    expect(Number.isInteger(u16) && u16 >= 0 && u16 < 2 ** 16).toBe(true);
    const f = r.float();
    expect(f >= 0 && f < 1).toBe(true);
  }
  expect(r.hex(12)).toMatch(/^[0-9a-f]{24}$/);
  expect(r.hex(0)).toBe('');
}

describe('Random (issue 10)', () => {
  it('cryptoRandom and seededRandom draw within their ranges', () => {
    inRange(cryptoRandom);
    inRange(seededRandom(7));
  });

  it('seededRandom: the same seed gives the same draws, another seed others', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (seed) => {
        const draw = (r: Random) => [r.uint32(), r.uint16(), r.float(), r.hex(6)];
        const a = draw(seededRandom(seed));
        expect(draw(seededRandom(seed))).toEqual(a);
        expect(draw(seededRandom((seed + 1) >>> 0))).not.toEqual(a);
      }),
    );
  });

  it('seededRandom is the xoshiro128** stream of prng.ts (uint32 byte-exact, uint16 its top half)', () => {
    const p = createPrng(42);
    const expected = [p.nextUint32(), p.nextUint32() >>> 16, p.nextUint32() / 2 ** 32];
    const r = seededRandom(42);
    expect([r.uint32(), r.uint16(), r.float()]).toEqual(expected);
    const q = createPrng(42);
    const hex = [q.nextUint32(), q.nextUint32()].map((x) => (x >>> 24).toString(16).padStart(2, '0')).join('');
    expect(seededRandom(42).hex(2)).toBe(hex);
  });

  it('cryptoRandom draws from a pool refilled every 4 KB: across many refills, in range and not repeating', () => {
    // 3000 uint32 + 3000 float (7 bytes) + 3000 uint16 cross the 4096-byte pool about 8 times.
    const u32 = new Set<number>();
    const floats = new Set<number>();
    let zeros16 = 0;
    for (let i = 0; i < 3000; i++) {
      u32.add(cryptoRandom.uint32());
      const f = cryptoRandom.float();
      expect(f >= 0 && f < 1).toBe(true);
      floats.add(f);
      const u16 = cryptoRandom.uint16();
      expect(Number.isInteger(u16) && u16 >= 0 && u16 < 2 ** 16).toBe(true);
      if (u16 === 0) zeros16++;
    }
    // A byte handed out twice (an offset not moved on, a pool not refilled) repeats values.
    expect(u32.size).toBeGreaterThan(2995);
    expect(floats.size).toBe(3000);
    expect(zeros16).toBeLessThan(5);
  });

  it('cryptoRandom ids do not repeat (96-bit session ids), across pool refills, mixed with numbers', () => {
    // 1000 ids of 12 bytes and a number between each: the 4 KB pool is refilled several times, at
    // every alignment; an id taken from bytes already handed out would repeat (or be a prefix).
    const ids = new Set(
      Array.from({ length: 1000 }, (_, i) => {
        if (i % 3 === 0) cryptoRandom.uint16();
        else cryptoRandom.uint32();
        return cryptoRandom.hex(12);
      }),
    );
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{24}$/);
    // Larger than the pool: drawn on its own.
    expect(cryptoRandom.hex(5000)).toMatch(/^[0-9a-f]{10000}$/);
    expect(cryptoRandom.hex(0)).toBe('');
  });
});
