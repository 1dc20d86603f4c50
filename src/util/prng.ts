/**
 * A small seeded PRNG for experiments and tests: xoshiro128** 1.1 (Blackman & Vigna), its 128-bit
 * state filled from the 32-bit seed by splitmix32. Deterministic across platforms; not for secrets
 * (SSRCs and other identifiers use crypto randomness elsewhere).
 */

export interface Prng {
  /** Uniform double in [0, 1) with 32 bits of randomness. */
  next(): number;
  /** Uniform unsigned 32-bit integer. */
  nextUint32(): number;
  /** Uniform integer in [0, maxExclusive), 1 <= maxExclusive <= 2^32 (rejection sampling). */
  nextInt(maxExclusive: number): number;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** One step of splitmix32 (the 32-bit variant of splitmix64 used for seeding). */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) >>> 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** xoshiro128** from an explicit 128-bit state (not all zero). Exposed for reference-vector tests. */
export function createPrngFromState(s0: number, s1: number, s2: number, s3: number): Prng {
  let a = s0 >>> 0;
  let b = s1 >>> 0;
  let c = s2 >>> 0;
  let d = s3 >>> 0;
  if ((a | b | c | d) === 0) throw new RangeError('xoshiro128** state must not be all zero');
  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d >>> 0, 11);
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    return result;
  };
  const nextInt = (maxExclusive: number): number => {
    if (!Number.isInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > 0x1_0000_0000) {
      throw new RangeError(`nextInt: bad bound ${maxExclusive}`);
    }
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % maxExclusive);
    for (;;) {
      const x = nextUint32();
      if (x < limit) return x % maxExclusive;
    }
  };
  return { nextUint32, next: () => nextUint32() / 0x1_0000_0000, nextInt };
}

/** Seeded generator: the state is four splitmix32 outputs of the seed (any 32-bit value). */
export function createPrng(seed: number): Prng {
  const st = { s: seed >>> 0 };
  const s0 = splitmix32(st);
  const s1 = splitmix32(st);
  const s2 = splitmix32(st);
  const s3 = splitmix32(st);
  // splitmix32 is a bijection of distinct counters, so four zero outputs cannot happen.
  return createPrngFromState(s0, s1, s2, s3);
}
