/**
 * The depacketizer of payload formats where one RTP payload is one unit (Opus, G.711, MP2T): each
 * payload is handed on at the packet's timestamp (`data` = [the payload view], keyframe and
 * complete true). Lost packets do not appear (the timestamps show the hole) and are counted in
 * `stats.lostPackets`; a payload the format's check refuses is counted as malformed.
 *
 * Input must be in sequence order; a packet whose sequence number is not above the last is
 * discarded (`stats.stale`). Nothing is buffered: flush() returns [].
 */
import type { DepacketizedUnit, Depacketizer, RtpPayloadInput } from './types.ts';
import { SequenceGap } from './sequence-gap.ts';

export interface WholePayloadStats {
  packets: number;
  /** Discarded: sequence number not above the last one (duplicate or late). */
  stale: number;
  lostPackets: number;
  /** Payloads the format's check refused (empty, misaligned, ...). */
  malformed: number;
  units: number;
}

export class WholePayloadDepacketizer<S extends WholePayloadStats> implements Depacketizer {
  private readonly sequence = new SequenceGap();

  /** `accept` checks a payload (and may add to the format's own counters); false = malformed. */
  constructor(
    readonly stats: S,
    private readonly accept: (payload: Buffer, stats: S) => boolean,
  ) {}

  push(p: RtpPayloadInput): DepacketizedUnit[] {
    this.stats.packets++;
    if (this.sequence.advance(p.sequence, this.stats) === 'stale') return [];
    if (!this.accept(p.payload, this.stats)) {
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
    this.sequence.reset();
  }
}
