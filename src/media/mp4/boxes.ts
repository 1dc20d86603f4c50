/**
 * Pure ISO BMFF box walking over an in-memory buffer (the moov payload). Boxes are views, never
 * copies. Malformed input throws MediaError (caught at the parseMoov boundary and returned as a
 * result); no other exception escapes these helpers.
 *
 * @see ISO/IEC 14496-12 §4.2 (Box: size, type, largesize, size 0 = to the end of the container)
 */

import { MediaError } from '../errors.ts';
import { MAX_BOX_DEPTH } from '../limits.ts';

export interface Box {
  type: string;
  /** Payload after the (8 or 16 byte) header: a view into the parent buffer. */
  data: Buffer;
  /** Offset of the box start within the buffer handed to parseMoov (for error context). */
  at: number;
}

export function fourcc(buf: Buffer, pos: number): string {
  return buf.toString('latin1', pos, pos + 4);
}

/** Splits a container payload into child boxes. `at` is the payload's offset in moov. */
export function childBoxes(buf: Buffer, at: number, maxBoxes = 1_000_000): Box[] {
  const out: Box[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf.length - pos < 8) {
      // Trailing bytes shorter than a header: tolerated when zero padding (QuickTime writes 4
      // zero bytes as a terminator in some containers), otherwise malformed.
      if (buf.subarray(pos).every((b) => b === 0)) break;
      throw new MediaError('MEDIA_ERR_BAD_BOX', 'trailing bytes shorter than a box header', at + pos);
    }
    let size = buf.readUInt32BE(pos);
    const type = fourcc(buf, pos + 4);
    let header = 8;
    if (size === 1) {
      if (buf.length - pos < 16) throw new MediaError('MEDIA_ERR_BAD_BOX', `${type}: short largesize`, at + pos);
      const big = buf.readBigUInt64BE(pos + 8);
      if (big > BigInt(buf.length - pos)) throw new MediaError('MEDIA_ERR_BAD_BOX', `${type}: size past its parent`, at + pos);
      size = Number(big);
      header = 16;
    } else if (size === 0) {
      size = buf.length - pos;
    }
    if (size < header) throw new MediaError('MEDIA_ERR_BAD_BOX', `${type}: size ${size} smaller than its header`, at + pos);
    if (size > buf.length - pos) throw new MediaError('MEDIA_ERR_BAD_BOX', `${type}: size past its parent`, at + pos);
    if (out.length >= maxBoxes) throw new MediaError('MEDIA_ERR_TOO_LARGE', 'too many child boxes', at + pos);
    out.push({ type, data: buf.subarray(pos + header, pos + size), at: at + pos });
    pos += size;
  }
  return out;
}

export function children(box: Box): Box[] {
  return childBoxes(box.data, box.at + 8);
}

export function child(box: Box, type: string): Box | undefined {
  return children(box).find((b) => b.type === type);
}

export function requireChild(box: Box, type: string): Box {
  const c = child(box, type);
  if (!c) throw new MediaError('MEDIA_ERR_BAD_BOX', `${box.type}: missing ${type}`, box.at);
  return c;
}

/** Follows a path of container types, e.g. ['mdia', 'minf', 'stbl']. */
export function descend(box: Box, path: readonly string[]): Box | undefined {
  if (path.length > MAX_BOX_DEPTH) throw new Error('descend: path too deep');
  let cur: Box | undefined = box;
  for (const t of path) {
    if (!cur) return undefined;
    cur = child(cur, t);
  }
  return cur;
}

/** Bounds-checked big-endian reader over a box payload; short reads throw MEDIA_ERR_BAD_BOX. */
export class Reader {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    readonly what: string,
    readonly at = 0,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  need(n: number): void {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw new MediaError('MEDIA_ERR_BAD_BOX', `${this.what}: payload too short`, this.at);
    }
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.pos++);
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  i16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u24(): number {
    this.need(3);
    const v = this.buf.readUIntBE(this.pos, 3);
    this.pos += 3;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  /** 64-bit unsigned; values past 2^53 are rejected (no file offset or duration is that big). */
  u64(): number {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new MediaError('MEDIA_ERR_BAD_BOX', `${this.what}: 64-bit value out of range`, this.at);
    }
    return Number(v);
  }

  i64(): number {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new MediaError('MEDIA_ERR_BAD_BOX', `${this.what}: 64-bit value out of range`, this.at);
    }
    return Number(v);
  }

  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** FullBox header: returns { version, flags }. */
  fullBox(): { version: number; flags: number } {
    const version = this.u8();
    const flags = this.u24();
    return { version, flags };
  }

  /** An entry count, checked against the bytes left for `entryBytes`-sized entries. */
  count(entryBytes: number): number {
    const n = this.u32();
    if (n * entryBytes > this.remaining) {
      throw new MediaError('MEDIA_ERR_BAD_BOX', `${this.what}: entry count ${n} exceeds the payload`, this.at);
    }
    return n;
  }
}

export function boxReader(box: Box): Reader {
  return new Reader(box.data, box.type, box.at);
}
