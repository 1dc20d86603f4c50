/**
 * G.711 tracks of MOV/WAV-derived files have one-byte samples (8000 a second); RTP wants 20 ms
 * packets. This is a grouped view of such a track: its sample table cut into byte ranges of at
 * most 160 bytes (RFC 3551 §4.2's 20 ms at 8 kHz), each contiguous in the file and in time, with
 * the dts of its first byte. Larger samples are cut too, so every group has its own timestamp.
 * The view is an ordinary Track, so packetizing, sharing chunks and seeking (Range) work on groups
 * unchanged; reading a group reads the samples under it.
 */
import type { MediaFile, SampleTable, Track } from '../media/index.ts';

export interface GroupedTable {
  table: SampleTable;
  /** Per group: the first and last original sample it takes bytes from. */
  firstSample: Uint32Array;
  lastSample: Uint32Array;
}

/**
 * Groups consecutive samples into ranges of at most `maxBytes`, breaking where the next sample is
 * not right after the previous one in the file, or not right after it in time (`ticksPerByte`:
 * track ticks per byte, timescale / 8000 for G.711). Pure.
 */
export function groupSampleTable(t: SampleTable, maxBytes: number, ticksPerByte: number): GroupedTable {
  if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
  const offsets: number[] = [];
  const sizes: number[] = [];
  const dts: number[] = [];
  const first: number[] = [];
  const last: number[] = [];
  let open = false;
  let gOff = 0;
  let gSize = 0;
  let gDts = 0;
  const close = () => {
    if (open && gSize > 0) {
      offsets.push(gOff);
      sizes.push(gSize);
      dts.push(gDts);
    } else if (open) {
      first.pop();
      last.pop();
    }
    open = false;
  };
  const start = (off: number, d: number, sample: number) => {
    open = true;
    gOff = off;
    gSize = 0;
    gDts = d;
    first.push(sample);
    last.push(sample);
  };
  for (let i = 0; i < t.count; i++) {
    const o = t.offsets[i]!;
    const s = t.sizes[i]!;
    const d = t.dts[i]!;
    if (s === 0) continue;
    const continues = open && o === gOff + gSize && d === gDts + gSize * ticksPerByte;
    if (!continues) {
      close();
      start(o, d, i);
    }
    let pos = 0;
    while (pos < s) {
      if (gSize === maxBytes) {
        close();
        start(o + pos, d + pos * ticksPerByte, i);
      }
      const take = Math.min(maxBytes - gSize, s - pos);
      gSize += take;
      pos += take;
      last[last.length - 1] = i;
    }
  }
  close();
  const n = offsets.length;
  const d = Float64Array.from(dts);
  return {
    table: {
      count: n,
      offsets: Float64Array.from(offsets),
      sizes: Uint32Array.from(sizes),
      dts: d,
      pts: d,
      keyframe: new Uint8Array(n).fill(1),
    },
    firstSample: Uint32Array.from(first),
    lastSample: Uint32Array.from(last),
  };
}

/** Bytes [off, off+size) of the file out of the original samples' buffers (a view when one sample holds them). */
function cut(orig: SampleTable, views: Buffer[], base: number, from: number, to: number, off: number, size: number): Buffer {
  const parts: Buffer[] = [];
  for (let k = from; k <= to; k++) {
    const so = orig.offsets[k]!;
    const a = Math.max(off, so);
    const b = Math.min(off + size, so + orig.sizes[k]!);
    if (b > a) parts.push(views[k - base]!.subarray(a - so, b - so));
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** 20 ms at 8 kHz, one byte per sample. */
export const G711_GROUP_BYTES = 160;

/**
 * The file with every G.711 track (pcmu/pcma) replaced by its grouped view; other tracks and files
 * without G.711 are returned as they are.
 */
export function groupG711Tracks(file: MediaFile): MediaFile {
  const views = new Map<Track, { orig: Track; g: GroupedTable }>();
  const tracks = file.tracks.map((t) => {
    if (t.codec !== 'pcmu' && t.codec !== 'pcma') return t;
    const g = groupSampleTable(t.samples, G711_GROUP_BYTES, t.timescale / 8000);
    const grouped: Track = { ...t, samples: g.table, sampleCount: g.table.count };
    views.set(grouped, { orig: t, g });
    return grouped;
  });
  if (views.size === 0) return file;
  const readSamples = async (track: Track, from: number, to: number): Promise<Buffer[]> => {
    const v = views.get(track);
    if (!v) return file.readSamples(track, from, to);
    if (from >= to) return [];
    const base = v.g.firstSample[from]!;
    const raw = await file.readSamples(v.orig, base, v.g.lastSample[to - 1]! + 1);
    const out: Buffer[] = [];
    for (let i = from; i < to; i++) {
      out.push(cut(v.orig.samples, raw, base, v.g.firstSample[i]!, v.g.lastSample[i]!, v.g.table.offsets[i]!, v.g.table.sizes[i]!));
    }
    return out;
  };
  return {
    path: file.path,
    durationSec: file.durationSec,
    tracks,
    ...(file.brand !== undefined ? { brand: file.brand } : {}),
    readSample: async (track, index) => (await readSamples(track, index, index + 1))[0]!,
    readSamples,
    close: () => file.close(),
  };
}
