/**
 * RFC 7587 depacketizer: each payload is one Opus packet and becomes one unit at the packet's
 * timestamp (`data` = [the payload view], keyframe and complete true). Lost packets do not appear
 * (the timestamps show the hole; Opus decoders conceal them, or use in-band FEC of the next packet)
 * and are counted in `stats.lostPackets`. An empty payload is counted as malformed.
 *
 * Input must be in sequence order; a packet whose sequence number is not above the last is
 * discarded (`stats.stale`). Nothing is buffered: flush() returns [].
 */
import type { DepacketizedUnit, Depacketizer, RtpPayloadInput } from '../types.ts';

export interface OpusDepacketizerStats {
  packets: number;
  /** Discarded: sequence number not above the last one (duplicate or late). */
  stale: number;
  lostPackets: number;
  /** Empty payloads. */
  malformed: number;
  units: number;
}

export class OpusDepacketizer implements Depacketizer {
  readonly stats: OpusDepacketizerStats = { packets: 0, stale: 0, lostPackets: 0, malformed: 0, units: 0 };
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
    if (p.payload.length === 0) {
      this.stats.malformed++;
      return [];
    }
    this.stats.units++;
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
