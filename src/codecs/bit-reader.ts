/**
 * MSB-first bit reader over a Buffer. Reading past the end never throws: it returns 0 and sets
 * `overrun`, so a parser reads a whole structure and checks once.
 */
export class BitReader {
  private pos = 0;
  overrun = false;

  constructor(
    private readonly buf: Uint8Array,
    private readonly endBit = buf.length * 8,
  ) {}

  get bitPosition(): number {
    return this.pos;
  }

  get bitsLeft(): number {
    return Math.max(0, this.endBit - this.pos);
  }

  /** Reads `n` bits (0..32) as an unsigned number. */
  read(n: number): number {
    if (n === 0) return 0;
    if (this.pos + n > this.endBit) {
      this.pos = this.endBit;
      this.overrun = true;
      return 0;
    }
    let v = 0;
    for (let i = 0; i < n; i++) {
      // pos < endBit was checked above; an endBit given past the buffer reads zeros, as before.
      const bit = ((this.buf[this.pos >> 3] ?? 0) >> (7 - (this.pos & 7))) & 1;
      v = v * 2 + bit;
      this.pos++;
    }
    return v;
  }

  skip(n: number): void {
    if (this.pos + n > this.endBit) {
      this.pos = this.endBit;
      this.overrun = true;
    } else {
      this.pos += n;
    }
  }
}
