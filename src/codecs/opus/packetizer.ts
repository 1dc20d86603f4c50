/**
 * RFC 7587 §4.2 packetizer: exactly one Opus packet per RTP payload, the payload being the Opus
 * packet itself (no payload header, no aggregation, no fragmentation). Pure and stateless; the
 * payloads are the caller's buffers (views, not copies), shared by all sessions.
 *
 * The marker bit is always 0: §4.2 allows setting it on the first packet after a DTX silence, which
 * this server does not signal. Each packet's RTP timestamp is the caller's (48 kHz clock; the
 * previous packet's timestamp + `opusPacketDurationSamples`).
 */
import type { RtpPayload } from '../types.ts';
import { opusError, type OpusResult } from './errors.ts';

export interface OpusPacketizeOptions {
  /** Largest RTP payload in bytes (at least 1). */
  maxPayloadSize: number;
}

/**
 * One payload per Opus packet, in order. Fails with CODEC_ERR_TRUNCATED for an empty packet and
 * CODEC_ERR_OPUS_PACKET_TOO_LARGE for one over maxPayloadSize (`offset` = its index). Throws a
 * RangeError on a bad maxPayloadSize.
 */
export function packetizeOpus(packets: readonly Buffer[], opts: OpusPacketizeOptions): OpusResult<RtpPayload[]> {
  const max = opts.maxPayloadSize;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxPayloadSize must be an integer >= 1, got ${max}`);
  const out: RtpPayload[] = [];
  for (const [i, p] of packets.entries()) {
    if (p.length === 0) return opusError('CODEC_ERR_TRUNCATED', `Opus packet ${i} is empty`, i);
    if (p.length > max) {
      return opusError('CODEC_ERR_OPUS_PACKET_TOO_LARGE', `Opus packet ${i} of ${p.length} bytes, limit ${max}`, i);
    }
    out.push({ payload: p, marker: false });
  }
  return { ok: true, value: out };
}
