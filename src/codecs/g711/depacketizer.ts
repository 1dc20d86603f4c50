/**
 * G.711 depacketizer: each payload is one unit of samples at the packet's RTP timestamp; empty
 * payloads are malformed. See whole-payload.ts for loss, order and buffering.
 */
import { WholePayloadDepacketizer } from '../whole-payload.ts';
import type { WholePayloadStats } from '../whole-payload.ts';

export interface G711DepacketizerStats extends WholePayloadStats {
  /** Samples handed on (= payload bytes). */
  samples: number;
}

export class G711Depacketizer extends WholePayloadDepacketizer<G711DepacketizerStats> {
  constructor() {
    super({ packets: 0, stale: 0, lostPackets: 0, malformed: 0, units: 0, samples: 0 }, (payload, stats) => {
      if (payload.length === 0) return false;
      stats.samples += payload.length;
      return true;
    });
  }
}
