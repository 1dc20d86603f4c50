/**
 * RFC 2250 §2 packetizer for MPEG-2 transport streams: each RTP payload is a whole number of
 * 188-byte TS packets (7 = 1316 bytes by default, fewer when maxPayloadSize is smaller), with no
 * payload header. Pure and stateless; payloads are views of the input, not copies.
 *
 * Timestamps are the caller's: a 90 kHz clock giving the target transmission time of the first
 * byte of the payload (§2.1), typically derived from the PCRs. The marker bit is always 0 (§2.1
 * sets it only on a timestamp discontinuity, which the caller signals itself if it needs to).
 */
import type { RtpPayload } from '../types.ts';
import { type Mp2tResult } from './errors.ts';
import { checkMp2tPackets, MP2T_PACKET_SIZE } from './ts-packets.ts';

export const MP2T_DEFAULT_PACKETS_PER_PAYLOAD = 7;

export interface Mp2tPacketizeOptions {
  /** Largest RTP payload in bytes: at least 188. */
  maxPayloadSize: number;
  /** TS packets per payload at most (default 7); the limit from maxPayloadSize also applies. */
  packetsPerPayload?: number;
}

export interface Mp2tPayload extends RtpPayload {
  /** Byte offset of this payload in the input (for the caller's send-time stamping). */
  byteOffset: number;
}

/**
 * Cuts whole TS packets into payloads. Fails with CODEC_ERR_MP2T_MISALIGNED or
 * CODEC_ERR_MP2T_NO_SYNC (nothing is packetized then); throws a RangeError on bad options.
 */
export function packetizeMp2t(ts: Buffer, opts: Mp2tPacketizeOptions): Mp2tResult<Mp2tPayload[]> {
  const max = opts.maxPayloadSize;
  const per = opts.packetsPerPayload ?? MP2T_DEFAULT_PACKETS_PER_PAYLOAD;
  if (!Number.isInteger(max) || max < MP2T_PACKET_SIZE) throw new RangeError(`maxPayloadSize must be an integer >= 188, got ${max}`);
  if (!Number.isInteger(per) || per < 1) throw new RangeError(`packetsPerPayload must be an integer >= 1, got ${per}`);
  const check = checkMp2tPackets(ts);
  if (!check.ok) return check;
  const step = Math.min(per, Math.floor(max / MP2T_PACKET_SIZE)) * MP2T_PACKET_SIZE;
  const out: Mp2tPayload[] = [];
  for (let off = 0; off < ts.length; off += step) {
    out.push({ payload: ts.subarray(off, Math.min(ts.length, off + step)), marker: false, byteOffset: off });
  }
  return { ok: true, value: out };
}
