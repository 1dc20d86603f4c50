/**
 * Randomness is injected like the clock: everything that draws an id, an SSRC, a first sequence
 * number or an RTCP interval takes a Random. `cryptoRandom` (the default) draws from the OS CSPRNG,
 * so session ids and publish keys stay unguessable; `seededRandom(seed)` is xoshiro128** (prng.ts)
 * for tests and the lab, where the same seed must give the same run. This module and prng.ts are
 * the only places outside the composition root that read randomness.
 */

import { randomBytes, randomFillSync } from 'node:crypto';
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

/** Bytes drawn from the CSPRNG at once: one randomFillSync per 4 KB instead of one per draw. */
const POOL_BYTES = 4096;

class CryptoRandom implements Random {
  private readonly pool = Buffer.allocUnsafeSlow(POOL_BYTES);
  private at = POOL_BYTES;

  /** The offset of `n` fresh bytes in the pool (each byte is handed out once). */
  private take(n: number): number {
    if (this.at + n > POOL_BYTES) {
      randomFillSync(this.pool);
      this.at = 0;
    }
    const at = this.at;
    this.at += n;
    return at;
  }

  uint32(): number {
    return this.pool.readUInt32BE(this.take(4));
  }

  uint16(): number {
    return this.pool.readUInt16BE(this.take(2));
  }

  float(): number {
    // 53 random bits, like Math.random's precision.
    const at = this.take(7);
    const hi = this.pool.readUIntBE(at, 3) & 0x1f_ffff; // 21 bits
    return (hi * 0x1_0000_0000 + this.pool.readUInt32BE(at + 3)) / 2 ** 53;
  }

  hex(bytes: number): string {
    // From the pool like the numbers (a Buffer and a CSPRNG call per id cost more than the id).
    if (bytes > POOL_BYTES) return randomBytes(bytes).toString('hex');
    const at = this.take(bytes);
    return this.pool.toString('hex', at, at + bytes);
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
