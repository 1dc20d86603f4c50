import { at } from '../../src/util/narrow.ts';
/**
 * Test-only ISO BMFF helpers, written apart from src/media: build boxes from bytes, list boxes,
 * and rewrite files (stco → co64, 64-bit mdat header, mdat size 0) to make fixtures that ffmpeg
 * does not produce on its own.
 */

export function u8(v: number): Buffer {
  return Buffer.from([v & 0xff]);
}
export function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}
export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}
export function i32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
}
export function u64(v: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(v));
  return b;
}
export function i64(v: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(v));
  return b;
}
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

/** size(32) type(4cc) payload. */
export function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  return Buffer.concat([u32(8 + body.length), Buffer.from(type, 'latin1'), body]);
}

/** box with version(8) flags(24) first. */
export function fullBox(type: string, version: number, flags: number, ...payload: Buffer[]): Buffer {
  return box(type, u8(version), u32(flags).subarray(1), ...payload);
}

export interface TBox {
  type: string;
  start: number;
  header: number;
  size: number;
}

/** Boxes directly inside buf[start, end). */
export function listBoxes(buf: Buffer, start = 0, end = buf.length): TBox[] {
  const out: TBox[] = [];
  let p = start;
  while (p + 8 <= end) {
    let size = buf.readUInt32BE(p);
    let header = 8;
    if (size === 1) {
      size = Number(buf.readBigUInt64BE(p + 8));
      header = 16;
    } else if (size === 0) size = end - p;
    out.push({ type: buf.toString('latin1', p + 4, p + 8), start: p, header, size });
    p += size;
  }
  return out;
}

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'edts']);

/**
 * Rebuilds a container payload, letting `fn` replace any leaf box (return a whole new box, or
 * undefined to keep it). Container sizes are recomputed.
 */
export function rewrite(buf: Buffer, start: number, end: number, fn: (t: TBox, payload: Buffer) => Buffer | undefined): Buffer {
  const parts: Buffer[] = [];
  for (const b of listBoxes(buf, start, end)) {
    const payloadStart = b.start + b.header;
    const payloadEnd = b.start + b.size;
    if (CONTAINERS.has(b.type)) {
      parts.push(box(b.type, rewrite(buf, payloadStart, payloadEnd, fn)));
    } else {
      parts.push(fn(b, buf.subarray(payloadStart, payloadEnd)) ?? buf.subarray(b.start, payloadEnd));
    }
  }
  return Buffer.concat(parts);
}

/** stco payload → co64 box with every offset + delta. */
export function stcoToCo64(stcoPayload: Buffer, delta: number): Buffer {
  const n = stcoPayload.readUInt32BE(4);
  const entries: Buffer[] = [];
  for (let i = 0; i < n; i++) entries.push(u64(stcoPayload.readUInt32BE(8 + 4 * i) + delta));
  return fullBox('co64', 0, 0, u32(n), ...entries);
}

/**
 * For an ffmpeg file laid out ftyp, free(8), mdat, moov (no faststart): turns free+mdat header
 * into one 16-byte 64-bit mdat header (the data does not move) and stco into co64.
 */
export function toLargeMdatCo64(file: Buffer): Buffer {
  const top = listBoxes(file);
  const types = top.map((b) => b.type).join(',');
  if (types !== 'ftyp,free,mdat,moov' || at(top, 1).size !== 8) throw new Error(`unexpected layout ${types}`);
  const [ftyp, , mdat, moov] = top;
  const mdatHeader = Buffer.concat([u32(1), Buffer.from('mdat'), u64(mdat!.size + 8)]);
  const newMoov = box(
    'moov',
    rewrite(file, moov!.start + 8, moov!.start + moov!.size, (b, p) => (b.type === 'stco' ? stcoToCo64(p, 0) : undefined)),
  );
  return Buffer.concat([file.subarray(0, ftyp!.size), mdatHeader, file.subarray(mdat!.start + 8, mdat!.start + mdat!.size), newMoov]);
}

// ---- A minimal hand-built movie, one box per helper, fields spelled out. ----

/** mvhd v0: creation(4) modification(4) timescale(4) duration(4) rate volume reserved matrix pre_defined next_track_ID. */
export function mvhd(timescale: number, duration: number): Buffer {
  return fullBox('mvhd', 0, 0, u32(0), u32(0), u32(timescale), u32(duration), u32(0x00010000), u16(0x0100), Buffer.alloc(10), Buffer.alloc(36), Buffer.alloc(24), u32(2));
}

/** tkhd v0: creation modification track_ID reserved duration reserved(8) layer alt volume reserved matrix width height. */
export function tkhd(id: number, duration = 0): Buffer {
  return fullBox('tkhd', 0, 3, u32(0), u32(0), u32(id), u32(0), u32(duration), Buffer.alloc(16), Buffer.alloc(36), u32(0), u32(0));
}

/** mdhd v0: creation modification timescale duration language pre_defined. */
export function mdhd(timescale: number, duration: number): Buffer {
  return fullBox('mdhd', 0, 0, u32(0), u32(0), u32(timescale), u32(duration), u16(0x55c4), u16(0));
}

export function hdlr(handler: string): Buffer {
  return fullBox('hdlr', 0, 0, u32(0), Buffer.from(handler, 'latin1'), Buffer.alloc(12), Buffer.from([0]));
}

/** VisualSampleEntry: reserved(6) dri(2) pre_defined/reserved(16) w h hres vres reserved frame_count compressorname(32) depth pre_defined, then children. */
export function visualEntry(type: string, width: number, height: number, ...kids: Buffer[]): Buffer {
  return box(type, Buffer.alloc(6), u16(1), Buffer.alloc(16), u16(width), u16(height), u32(0x480000), u32(0x480000), u32(0), u16(1), Buffer.alloc(32), u16(0x18), u16(0xffff), ...kids);
}

/** AudioSampleEntry (version 0): reserved(6) dri(2) reserved(8) channels samplesize pre_defined reserved samplerate(16.16), then children. */
export function audioEntry(type: string, channels: number, rate: number, ...kids: Buffer[]): Buffer {
  return box(type, Buffer.alloc(6), u16(1), Buffer.alloc(8), u16(channels), u16(16), u16(0), u16(0), u32(rate * 65536), ...kids);
}

export function stsd(entry: Buffer): Buffer {
  return fullBox('stsd', 0, 0, u32(1), entry);
}

/** A table box: fullbox, entry_count, then each row's fields as u32. */
export function table(type: string, rows: number[][], version = 0): Buffer {
  return fullBox(type, version, 0, u32(rows.length), ...rows.flat().map((v) => (v < 0 ? i32(v) : u32(v))));
}

/** stsz with per-sample sizes (sample_size 0). */
export function stsz(sizes: number[]): Buffer {
  return fullBox('stsz', 0, 0, u32(0), u32(sizes.length), ...sizes.map(u32));
}

export interface TrakSpec {
  id?: number;
  handler?: string;
  timescale?: number;
  duration?: number;
  entry?: Buffer;
  /** Extra/replacement boxes for stbl; when given, these are the stbl children. */
  stbl: Buffer[];
  edts?: Buffer;
}

export function trak(s: TrakSpec): Buffer {
  const handler = s.handler ?? 'vide';
  const entry = s.entry ?? visualEntry('avc1', 64, 64);
  return box(
    'trak',
    tkhd(s.id ?? 1),
    ...(s.edts ? [s.edts] : []),
    box('mdia', mdhd(s.timescale ?? 1000, s.duration ?? 0), hdlr(handler), box('minf', box('stbl', stsd(entry), ...s.stbl))),
  );
}

/** The moov payload (what parseMoov takes): mvhd + traks. */
export function moovPayload(movieTimescale: number, ...traks: Buffer[]): Buffer {
  return Buffer.concat([mvhd(movieTimescale, 0), ...traks]);
}

/** elst v0 rows [duration, media_time, rate_int, rate_frac] or v1 (64-bit duration/time). */
export function elst(version: 0 | 1, rows: [number, number, number, number][]): Buffer {
  const body = rows.map(([d, t, ri, rf]) =>
    Buffer.concat(version === 1 ? [u64(d), i64(t), u16(ri), u16(rf)] : [u32(d), i32(t), u16(ri), u16(rf)]),
  );
  return box('edts', fullBox('elst', version, 0, u32(rows.length), ...body));
}
