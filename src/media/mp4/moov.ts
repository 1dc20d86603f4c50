/**
 * Pure moov parsing: mvhd, and per trak tkhd / edts / mdia (mdhd, hdlr, minf/stbl) into Track
 * objects with their sample tables, edit list applied. Never throws on input bytes: malformed
 * boxes come back as { ok: false, error: MediaError }.
 *
 * @see ISO/IEC 14496-12 §8.2.2 (mvhd), §8.3.2 (tkhd), §8.4.2 (mdhd), §8.4.3 (hdlr)
 */

import { MediaError, type MediaResult } from '../errors.ts';
import { MAX_TOTAL_SAMPLES, MAX_TRACKS } from '../limits.ts';
import type { Track, TrackKind } from '../types.ts';
import { type Box, type Reader, boxReader, child, childBoxes, descend, requireChild } from './boxes.ts';
import { editShift, parseElst } from './edit-list.ts';
import { parseStsd } from './sample-entry.ts';
import { buildSampleTable, emptySampleTable } from './sample-table.ts';
import { at } from '../../util/narrow.ts';

export interface Movie {
  /** mvhd timescale (ticks per second of edit list durations). */
  timescale: number;
  durationSec: number;
  tracks: Track[];
}

export interface MoovContext {
  /** Size of the whole file: every sample must end within it. */
  fileSize: number;
  /** Offset of the moov payload in the file (error context only). */
  at?: number;
}

/** A 32- or 64-bit duration; all ones ("unknown") and values past 2^53 read as 0. */
function readDuration(r: Reader, version: number): number {
  if (version !== 1) {
    const d = r.u32();
    return d === 0xffffffff ? 0 : d;
  }
  const d = r.bytes(8).readBigUInt64BE(0);
  return d > BigInt(Number.MAX_SAFE_INTEGER) ? 0 : Number(d);
}

/** Parses a moov payload (the bytes after the moov box header). */
export function parseMoov(payload: Buffer, ctx: MoovContext): MediaResult<Movie> {
  try {
    return { ok: true, value: parseMoovOrThrow(payload, ctx) };
  } catch (e) {
    if (e instanceof MediaError) return { ok: false, error: e };
    throw e; // a programmer error: let it surface
  }
}

function parseMoovOrThrow(payload: Buffer, ctx: MoovContext): Movie {
  const moov: Box = { type: 'moov', data: payload, at: ctx.at ?? 0 };
  const kids = childBoxes(payload, moov.at + 8);
  if (kids.some((b) => b.type === 'mvex')) {
    throw new MediaError('MEDIA_ERR_FRAGMENTED', 'fragmented MP4 (mvex/moof) is not supported', moov.at);
  }
  const mvhd = kids.find((b) => b.type === 'mvhd');
  if (!mvhd) throw new MediaError('MEDIA_ERR_BAD_BOX', 'moov: missing mvhd', moov.at);
  const r = boxReader(mvhd);
  const { version } = r.fullBox();
  r.skip(version === 1 ? 16 : 8); // creation_time, modification_time
  const timescale = r.u32();
  const duration = readDuration(r, version);
  if (timescale === 0) throw new MediaError('MEDIA_ERR_BAD_TIMESCALE', 'mvhd timescale is 0', mvhd.at);

  const traks = kids.filter((b) => b.type === 'trak');
  if (traks.length > MAX_TRACKS) throw new MediaError('MEDIA_ERR_TOO_LARGE', `${traks.length} tracks`, moov.at);
  const budget = { fileSize: ctx.fileSize, budget: MAX_TOTAL_SAMPLES };
  const tracks: Track[] = [];
  for (const trak of traks) {
    const t = parseTrak(trak, timescale, budget);
    budget.budget -= t.sampleCount;
    tracks.push(t);
  }
  let durationSec = duration / timescale;
  if (durationSec === 0) for (const t of tracks) durationSec = Math.max(durationSec, t.durationSec);
  return { timescale, durationSec, tracks };
}

function handlerKind(handler: string): TrackKind {
  if (handler === 'vide') return 'video';
  if (handler === 'soun') return 'audio';
  return 'other';
}

function parseTrak(trak: Box, movieTimescale: number, ctx: { fileSize: number; budget: number }): Track {
  const tkhd = requireChild(trak, 'tkhd');
  const tr = boxReader(tkhd);
  const tv = tr.fullBox().version;
  tr.skip(tv === 1 ? 16 : 8);
  const id = tr.u32();

  const mdia = requireChild(trak, 'mdia');
  const mdhd = requireChild(mdia, 'mdhd');
  const mr = boxReader(mdhd);
  const mv = mr.fullBox().version;
  mr.skip(mv === 1 ? 16 : 8);
  const timescale = mr.u32();
  const mediaDuration = readDuration(mr, mv);
  if (timescale === 0) throw new MediaError('MEDIA_ERR_BAD_TIMESCALE', `track ${id}: mdhd timescale is 0`, mdhd.at);

  const hdlr = child(mdia, 'hdlr');
  let handler = '';
  if (hdlr) {
    const hr = boxReader(hdlr);
    hr.skip(8); // version/flags, pre_defined
    handler = hr.bytes(4).toString('latin1');
  }
  const kind = handlerKind(handler);

  const stbl = descend(mdia, ['minf', 'stbl']);
  if (!stbl && kind !== 'other') throw new MediaError('MEDIA_ERR_BAD_BOX', `track ${id}: missing minf/stbl`, mdia.at);
  const stsd = stbl ? child(stbl, 'stsd') : undefined;
  const entry = stsd ? parseStsd(stsd, kind) : undefined;
  const built = stbl ? buildSampleTable(stbl, ctx) : { table: emptySampleTable(), sttsDuration: 0 };
  const samples = built.table;
  for (let i = 0; i < samples.count; i++) {
    if (at(samples.offsets, i) + at(samples.sizes, i) > ctx.fileSize) {
      throw new MediaError('MEDIA_ERR_TRUNCATED', `track ${id}: sample ${i} ends past the end of the file`, stbl?.at);
    }
  }

  const elst = descend(trak, ['edts', 'elst']);
  const shift = editShift(elst ? parseElst(elst) : [], movieTimescale, timescale);
  if (shift.shiftTicks !== 0) {
    for (let i = 0; i < samples.count; i++) {
      samples.dts[i] = at(samples.dts, i) + shift.shiftTicks;
      samples.pts[i] = at(samples.pts, i) + shift.shiftTicks;
    }
  }
  const mediaTicks = mediaDuration || built.sttsDuration;
  const durationSec = shift.totalDuration > 0 ? shift.totalDuration / movieTimescale : mediaTicks / timescale;

  const track: Track = {
    id,
    kind,
    codec: entry?.codec ?? '',
    fourcc: entry?.fourcc ?? '',
    timescale,
    durationSec,
    sampleCount: samples.count,
    samples,
    editShiftTicks: shift.shiftTicks,
  };
  if (entry?.width !== undefined) track.width = entry.width;
  if (entry?.height !== undefined) track.height = entry.height;
  if (entry?.sampleRate !== undefined) track.sampleRate = entry.sampleRate;
  if (entry?.channels !== undefined) track.channels = entry.channels;
  if (entry?.objectTypeIndication !== undefined) track.objectTypeIndication = entry.objectTypeIndication;
  // Copied so the track does not keep the whole moov buffer alive.
  if (entry?.codecConfig) track.codecConfig = Buffer.from(entry.codecConfig);
  if (shift.note) track.editListNote = shift.note;
  return track;
}
