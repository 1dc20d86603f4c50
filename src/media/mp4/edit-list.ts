/**
 * Edit lists (edts/elst): parsed entries and the one shift we honour. Leading empty edits delay
 * the track; the first non-empty edit maps its media_time to that presentation time:
 *
 *     presentation ticks = media ticks + shift,  shift = round(emptyMovieTicks * trackTs / movieTs) - media_time
 *
 * (ffmpeg's mov demuxer does the same for these cases: sc->time_offset = media_time - empty.)
 * Anything beyond that (further non-empty edits, media_rate != 1, empty edits after media) is
 * not honoured and reported in `note`.
 *
 * @see ISO/IEC 14496-12 §8.6.6 (EditListBox)
 */

import { MAX_EDITS } from '../limits.ts';
import { type Box, boxReader } from './boxes.ts';
import { at } from '../../util/narrow.ts';

export interface EditEntry {
  /** Segment duration in movie (mvhd) timescale ticks. */
  duration: number;
  /** Start in media (track) ticks; -1 for an empty edit. */
  mediaTime: number;
  /** media_rate_integer + media_rate_fraction / 65536. */
  rate: number;
}

export interface EditShift {
  shiftTicks: number;
  /** Sum of the non-empty edits' durations in movie ticks: how long the track plays. */
  totalDuration: number;
  note?: string;
}

export function parseElst(elst: Box): EditEntry[] {
  const r = boxReader(elst);
  const { version } = r.fullBox();
  const entrySize = version === 1 ? 20 : 12;
  const n = Math.min(r.count(entrySize), MAX_EDITS);
  const out: EditEntry[] = [];
  for (let i = 0; i < n; i++) {
    const duration = version === 1 ? r.u64() : r.u32();
    const mediaTime = version === 1 ? r.i64() : r.i32();
    const rate = r.i16() + r.u16() / 65536;
    out.push({ duration, mediaTime, rate });
  }
  return out;
}

export function editShift(edits: readonly EditEntry[], movieTimescale: number, trackTimescale: number): EditShift {
  let i = 0;
  let empty = 0;
  let totalDuration = 0;
  for (const e of edits) if (e.mediaTime !== -1) totalDuration += e.duration;
  for (const e of edits) {
    if (e.mediaTime !== -1) break;
    empty += e.duration;
    i++;
  }
  const delay = Math.round((empty * trackTimescale) / movieTimescale);
  if (i === edits.length) {
    return edits.length === 0 ? { shiftTicks: 0, totalDuration } : { shiftTicks: delay, totalDuration, note: 'edit list has only empty edits' };
  }
  const first = at(edits, i);
  const notes: string[] = [];
  if (first.mediaTime < -1) notes.push(`negative media_time ${first.mediaTime} treated as 0`);
  if (first.rate !== 1) notes.push(`media_rate ${first.rate} not honoured (played at rate 1)`);
  const rest = edits.slice(i + 1);
  const more = rest.filter((e) => e.mediaTime !== -1).length;
  if (more > 0) notes.push(`${more} further non-empty edit(s) not honoured (only the first is applied)`);
  if (rest.length > more) notes.push(`${rest.length - more} empty edit(s) after media not honoured`);
  const mediaTime = Math.max(0, first.mediaTime);
  const result: EditShift = { shiftTicks: delay - mediaTime, totalDuration };
  if (notes.length > 0) result.note = notes.join('; ');
  return result;
}
