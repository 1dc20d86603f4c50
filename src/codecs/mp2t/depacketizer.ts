/**
 * RFC 2250 §2 depacketizer for MPEG-2 transport streams: each payload must be whole 188-byte TS
 * packets starting with 0x47; it becomes one unit at the packet's timestamp (`data` = [the payload
 * view], complete true; keyframe true, meaning only "whole input for the TS demuxer": random access
 * points are the demuxer's business). A payload that is misaligned or lacks a sync byte is dropped
 * whole and counted as malformed. Lost packets do not appear (the TS continuity counters show the
 * hole to the demuxer) and are counted in `stats.lostPackets`.
 *
 * Input must be in sequence order; a packet whose sequence number is not above the last is
 * discarded (`stats.stale`). Nothing is buffered: flush() returns [].
 */
import type { DepacketizedUnit, Depacketizer, RtpPayloadInput } from '../types.ts';
import { checkMp2tPackets } from './ts-packets.ts';

export interface Mp2tDepacketizerStats {
  packets: number;
  /** Discarded: sequence number not above the last one (duplicate or late). */
  stale: number;
  lostPackets: number;
  /** Empty, misaligned, or without a sync byte. */
  malformed: number;
  units: number;
  /** TS packets handed on. */
  tsPackets: number;
}

export class Mp2tDepacketizer implements Depacketizer {
  readonly stats: Mp2tDepacketizerStats = { packets: 0, stale: 0, lostPackets: 0, malformed: 0, units: 0, tsPackets: 0 };
  private lastSequence: number | undefined;

  push(p: RtpPayloadInput): DepacketizedUnit[] {
    this.stats.packets++;
    if (this.lastSequence !== undefined) {
      if (p.sequence <= this.lastSequence) {
        this.stats.stale++;
        return [];
      }
      this.stats.lostPackets += p.sequence - this.lastSequence - 1;
    }
    this.lastSequence = p.sequence;
    const check = checkMp2tPackets(p.payload);
    if (!check.ok || check.value === 0) {
      this.stats.malformed++;
      return [];
    }
    this.stats.units++;
    this.stats.tsPackets += check.value;
    return [{ timestamp: p.timestamp, data: [p.payload], keyframe: true, complete: true }];
  }

  flush(): DepacketizedUnit[] {
    return [];
  }

  /** Forgets the last sequence number. */
  reset(): void {
    this.lastSequence = undefined;
  }
}
