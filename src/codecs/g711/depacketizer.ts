/**
 * G.711 depacketizer: each payload is handed on as one unit of samples at the packet's RTP
 * timestamp (`data` = [the payload view], keyframe and complete true). Lost packets do not appear
 * (the timestamps show the hole) and are counted in `stats.lostPackets`; an empty payload is
 * counted as malformed.
 *
 * Input must be in sequence order; a packet whose sequence number is not above the last is
 * discarded (`stats.stale`). Nothing is buffered: flush() returns [].
 */
import type { DepacketizedUnit, Depacketizer, RtpPayloadInput } from '../types.ts';

export interface G711DepacketizerStats {
  packets: number;
  /** Discarded: sequence number not above the last one (duplicate or late). */
  stale: number;
  lostPackets: number;
  /** Empty payloads. */
  malformed: number;
  units: number;
  /** Samples handed on (= payload bytes). */
  samples: number;
}

export class G711Depacketizer implements Depacketizer {
  readonly stats: G711DepacketizerStats = { packets: 0, stale: 0, lostPackets: 0, malformed: 0, units: 0, samples: 0 };
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
    this.stats.samples += p.payload.length;
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
