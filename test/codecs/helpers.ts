/** Test helpers for the codecs tests: hex and bit-string literals, RTP header stripping. */
import type { RtpPayloadInput } from '../../src/codecs/index.ts';

/** Bytes from hex text; whitespace and `|` separators are ignored. */
export function hex(...rows: string[]): Buffer {
  const s = rows.join('').replace(/[\s|]/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(s)) throw new Error(`bad hex: ${s}`);
  return Buffer.from(s, 'hex');
}

/** Bytes from a bit string like '00010 0011 0010' (spaces ignored, zero-padded to a whole byte). */
export function bits(s: string): Buffer {
  const b = s.replace(/\s/g, '');
  if (!/^[01]*$/.test(b)) throw new Error(`bad bits: ${s}`);
  const padded = b.padEnd(Math.ceil(b.length / 8) * 8, '0');
  const out = Buffer.alloc(padded.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(padded.slice(i * 8, i * 8 + 8), 2);
  return out;
}

/** A whole RTP packet with a plain 12-byte header (as in the GStreamer vectors) → depacketizer input. */
export function fromRtp(packetHex: string): RtpPayloadInput {
  const p = Buffer.from(packetHex, 'hex');
  if (p[0] !== 0x80) throw new Error('fixture packets have v=2 and no padding, extension or CSRC');
  return {
    payload: p.subarray(12),
    marker: (p[1]! & 0x80) !== 0,
    sequence: p.readUInt16BE(2),
    timestamp: p.readUInt32BE(4),
  };
}

/** Independent of the code under test: splits 4-byte length-prefixed NAL units. */
export function split4(sample: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < sample.length;) {
    const len = sample.readUInt32BE(off);
    out.push(sample.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  return out;
}

/** Numbers packets from `firstSequence`, one timestamp for all. */
export function inputs(payloads: { payload: Buffer; marker: boolean }[], timestamp: number, firstSequence: number): RtpPayloadInput[] {
  return payloads.map((p, i) => ({ payload: p.payload, marker: p.marker, sequence: firstSequence + i, timestamp }));
}
