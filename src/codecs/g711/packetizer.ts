/**
 * G.711 (PCMU/PCMA, RFC 3551 §4.5.14) packetizer: one byte per sample at 8000 Hz, mono; the bytes
 * are cut into packets of `samplesPerPacket` samples (default 160 = 20 ms, RFC 3551 §4.2's default
 * packetization interval), the last packet taking what remains. Pure and stateless; payloads are
 * views of the input, not copies.
 *
 * Each payload carries `timestampOffset`: its first sample's index in the input, which for G.711
 * (one byte per sample, clock 8000) is also its RTP timestamp offset from the first packet's. The
 * marker bit is always 0 (a continuous stream without silence suppression, §4.1).
 */
import type { RtpPayload } from '../types.ts';

/** 20 ms at 8000 Hz. */
export const G711_DEFAULT_SAMPLES_PER_PACKET = 160;

export interface G711PacketizeOptions {
  /** Largest RTP payload in bytes: at least samplesPerPacket. */
  maxPayloadSize: number;
  /** Samples (= bytes) per packet; default 160 (20 ms). */
  samplesPerPacket?: number;
}

export interface G711Payload extends RtpPayload {
  /** RTP timestamp of this packet minus the first packet's (= index of its first sample). */
  timestampOffset: number;
}

/** Throws a RangeError when samplesPerPacket is not a positive integer or exceeds maxPayloadSize. */
export function packetizeG711(samples: Buffer, opts: G711PacketizeOptions): G711Payload[] {
  const max = opts.maxPayloadSize;
  const n = opts.samplesPerPacket ?? G711_DEFAULT_SAMPLES_PER_PACKET;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`samplesPerPacket must be an integer >= 1, got ${n}`);
  if (!Number.isInteger(max) || max < n) throw new RangeError(`maxPayloadSize ${max} is below samplesPerPacket ${n}`);
  const out: G711Payload[] = [];
  for (let off = 0; off < samples.length; off += n) {
    out.push({ payload: samples.subarray(off, Math.min(samples.length, off + n)), marker: false, timestampOffset: off });
  }
  return out;
}
