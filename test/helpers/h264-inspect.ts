/**
 * Reads H.264 RTP payloads (RFC 6184) just far enough to say which NAL units they carry, written
 * independently of src/codecs so that it can check the packetizer: single NAL unit packets (types
 * 1-23), STAP-A (24: u16 size + NAL, repeated) and FU-A (28: indicator, header with S/E bits).
 */

import type { ReceivedRtp } from './rtsp-client.ts';

export interface NalInPacket {
  type: number;
  /** The whole NAL (single NAL and STAP-A only; FU-A fragments give undefined). */
  nal: Buffer | undefined;
  /** 'single' | 'stap-a' | 'fu-a' */
  via: 'single' | 'stap-a' | 'fu-a';
}

/** NAL units that START in this payload (FU-A: only the fragment with the S bit). */
export function nalsInPayload(payload: Buffer): NalInPacket[] {
  const type = payload[0]! & 0x1f;
  if (type >= 1 && type <= 23) return [{ type, nal: payload, via: 'single' }];
  if (type === 24) {
    const out: NalInPacket[] = [];
    let p = 1;
    while (p + 2 <= payload.length) {
      const size = payload.readUInt16BE(p);
      const nal = payload.subarray(p + 2, p + 2 + size);
      if (nal.length < size || size === 0) throw new Error(`STAP-A: truncated NAL at ${p}`);
      out.push({ type: nal[0]! & 0x1f, nal, via: 'stap-a' });
      p += 2 + size;
    }
    return out;
  }
  if (type === 28) return payload[1]! & 0x80 ? [{ type: payload[1]! & 0x1f, nal: undefined, via: 'fu-a' }] : [];
  throw new Error(`unexpected H.264 payload type ${type}`);
}

/** Packets of the first access unit: from the first packet up to and including the first marker. */
export function firstAccessUnit(packets: readonly ReceivedRtp[]): ReceivedRtp[] {
  const end = packets.findIndex((p) => p.marker);
  if (end < 0) throw new Error('no marker bit yet: the first access unit is incomplete');
  return packets.slice(0, end + 1);
}

/**
 * Splits packets into access units by timestamp change (the marker bit ends each one too).
 * Returns the timestamp of each unit in arrival order.
 */
export function accessUnitTimestamps(packets: readonly ReceivedRtp[]): number[] {
  const out: number[] = [];
  let open = false;
  for (const p of packets) {
    if (!open || p.timestamp !== out[out.length - 1]) out.push(p.timestamp);
    open = !p.marker;
    if (p.marker) open = false;
  }
  return out;
}
