/**
 * H.264 NAL units: type constants (ITU-T H.264 Table 7-1, RFC 6184 Table 1), splitting samples in
 * length-prefixed (MP4) and Annex B (start code) form into views, and joining them back.
 */
import { codecError, type ParseResult } from '../errors.ts';
import { at } from '../../util/narrow.ts';

/** nal_unit_type values (5 bits). 24..29 are RTP packet types from RFC 6184 §5.4. */
export const NalType = {
  NON_IDR_SLICE: 1,
  PARTITION_A: 2,
  PARTITION_B: 3,
  PARTITION_C: 4,
  IDR_SLICE: 5,
  SEI: 6,
  SPS: 7,
  PPS: 8,
  AUD: 9,
  END_OF_SEQUENCE: 10,
  END_OF_STREAM: 11,
  FILLER: 12,
  SPS_EXT: 13,
  PREFIX: 14,
  SUBSET_SPS: 15,
  STAP_A: 24,
  STAP_B: 25,
  MTAP16: 26,
  MTAP24: 27,
  FU_A: 28,
  FU_B: 29,
} as const;

/** nal_unit_type of a NAL unit (its first byte's low 5 bits); -1 for an empty buffer. */
export function nalType(nal: Uint8Array): number {
  return nal.length === 0 ? -1 : at(nal, 0) & 0x1f;
}

/** True for an IDR slice: a decoder can start here (with the SPS/PPS). */
export function isKeyframeNal(nal: Uint8Array): boolean {
  return nalType(nal) === NalType.IDR_SLICE;
}

/**
 * Splits an MP4 sample (NAL units each preceded by a big-endian length of `lengthSize` bytes,
 * ISO/IEC 14496-15 §5.3.3) into views. Zero-length entries are skipped.
 */
export function splitLengthPrefixed(sample: Buffer, lengthSize: number): ParseResult<Buffer[]> {
  if (!Number.isInteger(lengthSize) || lengthSize < 1 || lengthSize > 4) {
    throw new RangeError(`lengthSize must be 1..4, got ${lengthSize}`);
  }
  const out: Buffer[] = [];
  let off = 0;
  while (off < sample.length) {
    if (off + lengthSize > sample.length) {
      return codecError('CODEC_ERR_TRUNCATED', `NAL length field cut at byte ${off}`, off);
    }
    const len = sample.readUIntBE(off, lengthSize);
    off += lengthSize;
    if (len > sample.length - off) {
      return codecError('CODEC_ERR_NAL_LENGTH_OVERRUN', `NAL of ${len} bytes at ${off} runs past the sample`, off);
    }
    if (len > 0) out.push(sample.subarray(off, off + len));
    off += len;
  }
  return { ok: true, value: out };
}

/** Index of the next 00 00 01 at or after `from`, or -1. */
function findStartCode(buf: Buffer, from: number): number {
  for (let i = from; i + 2 < buf.length; i++) {
    if (buf.readUInt8(i + 2) > 1) {
      i += 2; // no start code can begin at i, i+1 or i+2 ends with a byte > 1
      continue;
    }
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) return i;
  }
  return -1;
}

/**
 * Splits an Annex B byte stream (H.264 Annex B: 3- or 4-byte start codes) into NAL unit views.
 * Zero bytes before a start code (trailing_zero_8bits, the 4-byte form) are not part of a NAL;
 * empty NAL units are skipped. The input must begin with (zero bytes and) a start code.
 */
export function splitAnnexB(buf: Buffer): ParseResult<Buffer[]> {
  let lead = 0;
  while (lead < buf.length && buf[lead] === 0) lead++;
  if (buf.length === 0) return { ok: true, value: [] };
  if (lead < 2 || lead >= buf.length || buf[lead] !== 1) {
    return codecError('CODEC_ERR_ANNEXB_NO_START_CODE', 'Annex B data must begin with a start code', 0);
  }
  const out: Buffer[] = [];
  let start = lead + 1;
  for (;;) {
    const next = findStartCode(buf, start);
    let end = next < 0 ? buf.length : next;
    while (end > start && buf[end - 1] === 0) end--;
    if (end > start) out.push(buf.subarray(start, end));
    if (next < 0) break;
    start = next + 3;
  }
  return { ok: true, value: out };
}

/** Joins NAL units into Annex B form with 4-byte start codes (a new Buffer). */
export function toAnnexB(nalus: readonly Uint8Array[]): Buffer {
  let size = 0;
  for (const n of nalus) size += 4 + n.length;
  const out = Buffer.allocUnsafe(size);
  let off = 0;
  for (const n of nalus) {
    out.writeUInt32BE(1, off);
    out.set(n, off + 4);
    off += 4 + n.length;
  }
  return out;
}

/** Joins NAL units into MP4 sample form, each preceded by a `lengthSize`-byte length. */
export function toLengthPrefixed(nalus: readonly Uint8Array[], lengthSize: 1 | 2 | 3 | 4 = 4): Buffer {
  if (![1, 2, 3, 4].includes(lengthSize)) throw new RangeError(`lengthSize must be 1..4, got ${lengthSize}`);
  const max = 2 ** (8 * lengthSize) - 1;
  let size = 0;
  for (const n of nalus) {
    if (n.length > max) throw new RangeError(`NAL of ${n.length} bytes does not fit a ${lengthSize}-byte length`);
    size += lengthSize + n.length;
  }
  const out = Buffer.allocUnsafe(size);
  let off = 0;
  for (const n of nalus) {
    out.writeUIntBE(n.length, off, lengthSize);
    out.set(n, off + lengthSize);
    off += lengthSize + n.length;
  }
  return out;
}
