/**
 * RBSP bit reading for parameter sets: emulation-prevention removal (H.264 §7.4.1: 00 00 03 →
 * 00 00) and an MSB-first reader with ue(v)/se(v) Exp-Golomb codes (§9.1). Reading past the end
 * never throws: it returns 0 and sets `overrun`; a code longer than 32 bits sets `invalid`.
 */

/** The RBSP of a NAL unit payload: every 0x03 that follows two zero bytes removed (a copy). */
export function unescapeRbsp(nal: Uint8Array): Uint8Array {
  const out = new Uint8Array(nal.length);
  let n = 0;
  let zeros = 0;
  for (const b of nal) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}

export class RbspReader {
  private pos = 0;
  overrun = false;
  invalid = false;

  constructor(private readonly buf: Uint8Array) {}

  /** Reads n (0..32) bits. */
  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      if (this.pos >= this.buf.length * 8) {
        this.overrun = true;
        return 0;
      }
      v = v * 2 + ((this.buf[this.pos >> 3]! >> (7 - (this.pos & 7))) & 1);
      this.pos++;
    }
    return v;
  }

  flag(): boolean {
    return this.u(1) === 1;
  }

  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) {
      if (this.overrun) return 0;
      if (++zeros > 32) {
        this.invalid = true;
        return 0;
      }
    }
    return 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}
