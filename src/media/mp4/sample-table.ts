/**
 * Builds per-sample typed arrays (offset, size, dts, pts, keyframe) from the stbl boxes. Times are
 * raw media ticks here (dts of sample 0 is 0); the edit list shift is applied by the caller.
 * Every loop is bounded by an entry count (checked against the box payload) or by the sample
 * count (checked against MAX_SAMPLES_PER_TRACK), so a malicious table cannot run away.
 *
 * @see ISO/IEC 14496-12 §8.6.1.2 (stts), §8.6.1.3 (ctts), §8.6.2 (stss), §8.7.3 (stsz, stz2),
 *      §8.7.4 (stsc), §8.7.5 (stco, co64)
 */

import { MediaError } from '../errors.ts';
import { MAX_SAMPLES_PER_TRACK } from '../limits.ts';
import type { SampleTable } from '../types.ts';
import { type Box, boxReader, children } from './boxes.ts';
import { at } from '../../util/narrow.ts';

export interface SampleTableContext {
  fileSize: number;
  /** Samples already allocated for earlier tracks (for MAX_TOTAL_SAMPLES). */
  budget: number;
}

export interface BuiltSampleTable {
  table: SampleTable;
  /** Sum of all stts deltas: the media duration in ticks as the samples say. */
  sttsDuration: number;
}

function bad(what: string, at: number): MediaError {
  return new MediaError('MEDIA_ERR_BAD_SAMPLE_TABLE', what, at);
}

export function emptySampleTable(): SampleTable {
  return {
    count: 0,
    offsets: new Float64Array(0),
    sizes: new Uint32Array(0),
    dts: new Float64Array(0),
    pts: new Float64Array(0),
    keyframe: new Uint8Array(0),
  };
}

export function buildSampleTable(stbl: Box, ctx: SampleTableContext): BuiltSampleTable {
  const kids = children(stbl);
  const find = (t: string) => kids.find((b) => b.type === t);
  const sizeBox = find('stsz') ?? find('stz2');
  if (!sizeBox) throw bad('stbl: no stsz/stz2', stbl.at);
  const sizes = readSizes(sizeBox, ctx);
  const count = sizes.length;
  if (count === 0) return { table: emptySampleTable(), sttsDuration: 0 };

  const offsets = readOffsets(find('stco') ?? find('co64'), find('stsc'), sizes, stbl);
  const dts = new Float64Array(count);
  const sttsDuration = readStts(find('stts'), dts, stbl);
  const pts = new Float64Array(dts);
  const ctts = find('ctts');
  if (ctts) applyCtts(ctts, pts);
  const keyframe = new Uint8Array(count);
  const stss = find('stss');
  if (stss) readStss(stss, keyframe);
  else keyframe.fill(1);
  return { table: { count, offsets, sizes, dts, pts, keyframe }, sttsDuration };
}

function checkCount(count: number, ctx: SampleTableContext, at: number): void {
  if (count > MAX_SAMPLES_PER_TRACK || count > ctx.budget) {
    throw new MediaError('MEDIA_ERR_TOO_LARGE', `sample count ${count} over the cap`, at);
  }
}

function readSizes(box: Box, ctx: SampleTableContext): Uint32Array {
  const r = boxReader(box);
  r.fullBox();
  if (box.type === 'stsz') {
    const constant = r.u32();
    const count = r.u32();
    checkCount(count, ctx, box.at);
    if (constant !== 0) {
      // Samples of one size need no table: bound the count by the file before allocating.
      if (count * constant > ctx.fileSize) {
        throw new MediaError('MEDIA_ERR_TRUNCATED', `stsz: ${count} samples of ${constant} bytes exceed the file`, box.at);
      }
      return new Uint32Array(count).fill(constant);
    }
    if (count * 4 > r.remaining) throw new MediaError('MEDIA_ERR_BAD_BOX', 'stsz: table past its box', box.at);
    const sizes = new Uint32Array(count);
    for (let i = 0, p = r.pos; i < count; i++, p += 4) sizes[i] = r.buf.readUInt32BE(p);
    return sizes;
  }
  // stz2: reserved(24) field_size(8) sample_count(32), then packed 4/8/16-bit entries.
  r.skip(3);
  const fieldSize = r.u8();
  const count = r.u32();
  if (fieldSize !== 4 && fieldSize !== 8 && fieldSize !== 16) throw new MediaError('MEDIA_ERR_BAD_BOX', `stz2: field_size ${fieldSize}`, box.at);
  checkCount(count, ctx, box.at);
  if (Math.ceil((count * fieldSize) / 8) > r.remaining) throw new MediaError('MEDIA_ERR_BAD_BOX', 'stz2: table past its box', box.at);
  const sizes = new Uint32Array(count);
  const b = r.buf;
  for (let i = 0; i < count; i++) {
    if (fieldSize === 16) sizes[i] = b.readUInt16BE(r.pos + 2 * i);
    else if (fieldSize === 8) sizes[i] = b.readUInt8(r.pos + i);
    else sizes[i] = (b.readUInt8(r.pos + (i >> 1)) >> (i & 1 ? 0 : 4)) & 0x0f;
  }
  return sizes;
}

function readOffsets(chunkBox: Box | undefined, stsc: Box | undefined, sizes: Uint32Array, stbl: Box): Float64Array {
  if (!chunkBox) throw bad('stbl: no stco/co64', stbl.at);
  if (!stsc) throw bad('stbl: no stsc', stbl.at);
  const cr = boxReader(chunkBox);
  cr.fullBox();
  const wide = chunkBox.type === 'co64';
  const chunkCount = cr.count(wide ? 8 : 4);
  const chunks = new Float64Array(chunkCount);
  for (let i = 0; i < chunkCount; i++) chunks[i] = wide ? cr.u64() : cr.u32();

  const sr = boxReader(stsc);
  sr.fullBox();
  const entries = sr.count(12);
  const count = sizes.length;
  const offsets = new Float64Array(count);
  let s = 0;
  let prevFirst = 0;
  for (let e = 0; e < entries; e++) {
    const p = sr.pos + 12 * e;
    const first = sr.buf.readUInt32BE(p);
    const perChunk = sr.buf.readUInt32BE(p + 4);
    if (first <= prevFirst) throw bad(`stsc: first_chunk ${first} not increasing`, stsc.at);
    prevFirst = first;
    if (first > chunkCount) break;
    const next = e + 1 < entries ? sr.buf.readUInt32BE(p + 12) : chunkCount + 1;
    const last = Math.min(next - 1, chunkCount);
    for (let c = first; c <= last; c++) {
      if (perChunk > count - s) throw bad('stsc: chunks hold more samples than stsz has', stsc.at);
      let off = at(chunks, c - 1);
      for (let k = 0; k < perChunk; k++, s++) {
        offsets[s] = off;
        off += at(sizes, s);
      }
    }
  }
  if (s < count) throw bad(`stsc/stco place ${s} of ${count} samples`, stsc.at);
  return offsets;
}

/** Fills dts from stts; samples past the table repeat the last delta. Returns the total duration. */
function readStts(stts: Box | undefined, dts: Float64Array, stbl: Box): number {
  if (!stts) throw bad('stbl: no stts', stbl.at);
  const r = boxReader(stts);
  r.fullBox();
  const entries = r.count(8);
  const count = dts.length;
  let s = 0;
  let t = 0;
  let delta = 0;
  for (let e = 0; e < entries && s < count; e++) {
    const n = r.u32();
    delta = r.u32();
    for (let k = 0; k < n && s < count; k++, s++) {
      dts[s] = t;
      t += delta;
    }
  }
  for (; s < count; s++) {
    dts[s] = t;
    t += delta;
  }
  return t;
}

/** Adds composition offsets. Read as signed in both versions, as ffmpeg and most readers do. */
function applyCtts(ctts: Box, pts: Float64Array): void {
  const r = boxReader(ctts);
  r.fullBox();
  const entries = r.count(8);
  const count = pts.length;
  let s = 0;
  for (let e = 0; e < entries && s < count; e++) {
    const n = r.u32();
    const off = r.i32();
    for (let k = 0; k < n && s < count; k++, s++) pts[s] = at(pts, s) + off;
  }
}

function readStss(stss: Box, keyframe: Uint8Array): void {
  const r = boxReader(stss);
  r.fullBox();
  const entries = r.count(4);
  for (let e = 0; e < entries; e++) {
    const n = r.u32();
    if (n >= 1 && n <= keyframe.length) keyframe[n - 1] = 1;
  }
}
