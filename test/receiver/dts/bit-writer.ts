/** Bit writer for parameter-set tests: MSB first, ue/se Exp-Golomb, NAL framing with emulation prevention. */
export class BitWriter {
  private bits: number[] = [];
  u(n: number, v: number): this {
    for (let i = n - 1; i >= 0; i--) this.bits.push(Math.floor(v / 2 ** i) % 2);
    return this;
  }
  ue(v: number): this {
    const len = Math.floor(Math.log2(v + 1));
    return this.u(len, 0).u(len + 1, v + 1);
  }
  se(v: number): this {
    return this.ue(v > 0 ? 2 * v - 1 : -2 * v);
  }
  /** rbsp_trailing_bits, then emulation prevention (00 00 0x with x <= 3 -> 00 00 03 0x). */
  nal(...header: number[]): Buffer {
    this.bits.push(1);
    while (this.bits.length % 8) this.bits.push(0);
    const rbsp: number[] = [];
    for (let i = 0; i < this.bits.length; i += 8) rbsp.push(parseInt(this.bits.slice(i, i + 8).join(''), 2));
    const out = [...header];
    let zeros = 0;
    for (const b of rbsp) {
      if (zeros >= 2 && b <= 3) {
        out.push(3);
        zeros = 0;
      }
      out.push(b);
      zeros = b === 0 ? zeros + 1 : 0;
    }
    return Buffer.from(out);
  }
}
