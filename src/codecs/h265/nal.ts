/**
 * H.265 NAL units (ITU-T H.265 §7.3.1.2, RFC 7798 §1.1.4): the 2-byte header, type constants and
 * the IRAP (keyframe) test. Splitting and joining samples is the same as for H.264 (length-prefixed
 * or Annex B): use `splitLengthPrefixed`, `splitAnnexB`, `toAnnexB`, `toLengthPrefixed` from h264/.
 *
 *   +---------------+---------------+
 *   |0|1|2|3|4|5|6|7|0|1|2|3|4|5|6|7|
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |F|   Type    |  LayerId  | TID |
 *   +-------------+-----------------+
 */

import { at } from '../../util/narrow.ts';

/** nal_unit_type values (6 bits), H.265 Table 7-1; 48..50 are RTP packet types (RFC 7798 §4.4). */
export const H265NalType = {
  TRAIL_N: 0,
  TRAIL_R: 1,
  TSA_N: 2,
  TSA_R: 3,
  STSA_N: 4,
  STSA_R: 5,
  RADL_N: 6,
  RADL_R: 7,
  RASL_N: 8,
  RASL_R: 9,
  BLA_W_LP: 16,
  BLA_W_RADL: 17,
  BLA_N_LP: 18,
  IDR_W_RADL: 19,
  IDR_N_LP: 20,
  CRA_NUT: 21,
  RSV_IRAP_22: 22,
  RSV_IRAP_23: 23,
  VPS: 32,
  SPS: 33,
  PPS: 34,
  AUD: 35,
  EOS: 36,
  EOB: 37,
  FD: 38,
  PREFIX_SEI: 39,
  SUFFIX_SEI: 40,
  /** Aggregation Packet (RFC 7798 §4.4.2). */
  AP: 48,
  /** Fragmentation Unit (RFC 7798 §4.4.3). */
  FU: 49,
  /** PACI packet (RFC 7798 §4.4.4). */
  PACI: 50,
} as const;

/** The fields of the 2-byte NAL unit header (also the RTP PayloadHdr, RFC 7798 §4.2). */
export interface H265NalHeader {
  /** forbidden_zero_bit. */
  f: number;
  type: number;
  /** nuh_layer_id. */
  layerId: number;
  /** nuh_temporal_id_plus1 (1..7 in a valid stream). */
  tid: number;
}

/** nal_unit_type of a NAL unit (bits 1..6 of its first byte); -1 for an empty buffer. */
export function h265NalType(nal: Uint8Array): number {
  return nal.length === 0 ? -1 : (at(nal, 0) >> 1) & 0x3f;
}

/** The header fields; undefined when fewer than 2 bytes. */
export function parseH265NalHeader(nal: Uint8Array): H265NalHeader | undefined {
  if (nal.length < 2) return undefined;
  const b0 = at(nal, 0);
  const b1 = at(nal, 1);
  return { f: b0 >> 7, type: (b0 >> 1) & 0x3f, layerId: ((b0 & 1) << 5) | (b1 >> 3), tid: b1 & 0x07 };
}

/** Writes the 2-byte header at `offset`. Throws RangeError on out-of-range fields. */
export function writeH265NalHeader(h: H265NalHeader, buf: Buffer, offset = 0): void {
  if (h.f >>> 0 > 1 || h.type >>> 0 > 63 || h.layerId >>> 0 > 63 || h.tid >>> 0 > 7) {
    throw new RangeError(`bad H.265 NAL header ${JSON.stringify(h)}`);
  }
  buf[offset] = (h.f << 7) | (h.type << 1) | (h.layerId >> 5);
  buf[offset + 1] = ((h.layerId & 0x1f) << 3) | h.tid;
}

/** True for an IRAP picture's NAL (types 16..23: BLA, IDR, CRA): a decoder can start here. */
export function isH265Keyframe(nal: Uint8Array): boolean {
  const t = h265NalType(nal);
  return t >= H265NalType.BLA_W_LP && t <= H265NalType.RSV_IRAP_23;
}
