/**
 * The packetizing loop H.264 (RFC 6184 mode 1) and H.265 (RFC 7798) share: a NAL unit larger than
 * a payload is fragmented; runs of two or more that fit together are aggregated (STAP-A, AP);
 * any other goes alone. The marker bit is set on the last payload of the access unit only.
 */
import type { RtpPayload } from './types.ts';
import { at } from '../util/narrow.ts';

export interface NalPacketizing {
  /** Bytes of the aggregation packet's own header (STAP-A 1, AP 2). */
  aggregateHeader: number;
  /** Largest unit an aggregation may carry (its 16-bit size field). */
  maxAggregatedUnit: number;
  buildAggregate(units: Buffer[], size: number): Buffer;
  fragment(nal: Buffer, maxPayloadSize: number, out: RtpPayload[]): void;
}

/** Bytes of each aggregated unit's size field. */
const SIZE_FIELD = 2;

export function packetizeNalUnits(units: readonly Buffer[], max: number, f: NalPacketizing): RtpPayload[] {
  const out: RtpPayload[] = [];
  let i = 0;
  while (i < units.length) {
    const nal = at(units, i);
    if (nal.length > max) {
      f.fragment(nal, max, out);
      i++;
      continue;
    }
    let size = f.aggregateHeader;
    let j = i;
    while (j < units.length) {
      const u = at(units, j);
      if (u.length > f.maxAggregatedUnit || size + SIZE_FIELD + u.length > max) break;
      size += SIZE_FIELD + u.length;
      j++;
    }
    if (j - i >= 2) {
      out.push({ payload: f.buildAggregate(units.slice(i, j), size), marker: false });
      i = j;
    } else {
      out.push({ payload: nal, marker: false });
      i++;
    }
  }
  const lastPayload = out[out.length - 1];
  if (lastPayload !== undefined) lastPayload.marker = true;
  return out;
}
