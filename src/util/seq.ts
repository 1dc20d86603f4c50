/**
 * 16-bit RTP sequence-number and 32-bit RTP timestamp arithmetic (RFC 3550 §5.1, RFC 1982 serial
 * number style). Every wrap-around computation in the project goes through here: masks are
 * `& 0xffff` and `>>> 0`, never `% 65535`.
 */

/** Number of distinct sequence numbers (2^16). */
export const SEQ_MOD = 0x10000;
/** Number of distinct RTP timestamps (2^32). */
export const TS_MOD = 0x1_0000_0000;

/** (a + n) mod 2^16; n may be negative. */
export function seqAdd(a: number, n: number): number {
  return (a + n) & 0xffff;
}

/** Signed shortest distance a - b in [-32768, 32767] (a is "after" b when positive). */
export function seqDiff(a: number, b: number): number {
  const d = (a - b) & 0xffff;
  return d >= 0x8000 ? d - SEQ_MOD : d;
}

/** True when a comes before b on the 16-bit circle (seqDiff(a, b) < 0). */
export function seqLessThan(a: number, b: number): boolean {
  return seqDiff(a, b) < 0;
}

/** True when a comes after b on the 16-bit circle. */
export function seqGreaterThan(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}

/** (a + n) mod 2^32; n may be negative (integers of magnitude below 2^53). */
export function tsAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** Signed 32-bit difference a - b in [-2^31, 2^31 - 1]. */
export function tsDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** True when timestamp a comes before b on the 32-bit circle. */
export function tsLessThan(a: number, b: number): boolean {
  return tsDiff(a, b) < 0;
}

/**
 * Unwraps 16-bit sequence numbers into a monotonic-ish extended counter: each value is placed at
 * the extended number nearest to the previous one. The first value maps to itself (0..65535).
 * A small stateful helper for jitter buffers and loss detectors; returns plain numbers (< 2^53).
 */
export class SeqUnwrapper {
  private last: number | undefined;

  /** Extended sequence number for `seq` (may be below the previous one for late packets). */
  unwrap(seq: number): number {
    if (this.last === undefined) {
      this.last = seq & 0xffff;
      return this.last;
    }
    const ext = this.last + seqDiff(seq, this.last & 0xffff);
    if (ext > this.last) this.last = ext;
    return ext;
  }

  reset(): void {
    this.last = undefined;
  }
}
