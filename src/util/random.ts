/**
 * Randomness is injected like the clock: everything that draws an id, an SSRC, a first sequence
 * number or an RTCP interval takes a Random. `cryptoRandom` (the default) draws from the OS CSPRNG,
 * so session ids and publish keys stay unguessable; `seededRandom(seed)` is xoshiro128** (prng.ts)
 * for tests and the lab, where the same seed must give the same run. This module and prng.ts are
 * the only places outside the composition root that read randomness.
 */

import { randomBytes, randomInt } from 'node:crypto';
import { createPrng } from './prng.ts';

export interface Random {
  /** Uniform integer in [0, 2^32). */
  uint32(): number;
  /** Uniform integer in [0, 2^16). */
  uint16(): number;
  /** Uniform double in [0, 1). */
  float(): number;
  /** `bytes` random bytes as lowercase hex (2 * bytes characters), e.g. for ids and keys. */
  hex(bytes: number): string;
}

class CryptoRandom implements Random {
  uint32(): number {
    return randomBytes(4).readUInt32BE(0);
  }

  uint16(): number {
    return randomInt(0, 0x1_0000);
  }

  float(): number {
    // 53 random bits, like Math.random's precision.
    const b = randomBytes(7);
    const hi = b.readUIntBE(0, 3) & 0x1f_ffff; // 21 bits
    return (hi * 0x1_0000_0000 + b.readUInt32BE(3)) / 2 ** 53;
  }

  hex(bytes: number): string {
    return randomBytes(bytes).toString('hex');
  }
}

/** The default: the OS CSPRNG (node:crypto). */
export const cryptoRandom: Random = new CryptoRandom();

/** A deterministic Random from a 32-bit seed (xoshiro128**): same seed, same draws. Not for secrets. */
export function seededRandom(seed: number): Random {
  const prng = createPrng(seed);
  return {
    uint32: () => prng.nextUint32(),
    uint16: () => prng.nextUint32() >>> 16,
    float: () => prng.next(),
    hex: (bytes: number) => {
      let s = '';
      for (let i = 0; i < bytes; i++) s += (prng.nextUint32() >>> 24).toString(16).padStart(2, '0');
      return s;
    },
  };
}
