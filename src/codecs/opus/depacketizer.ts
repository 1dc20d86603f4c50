/**
 * RFC 7587 depacketizer: each payload is one Opus packet and becomes one unit at the packet's
 * timestamp. Lost packets show as timestamp holes (Opus decoders conceal them, or use in-band FEC
 * of the next packet); empty payloads are malformed. See whole-payload.ts for order and buffering.
 */
import { WholePayloadDepacketizer } from '../whole-payload.ts';
import type { WholePayloadStats } from '../whole-payload.ts';

export type OpusDepacketizerStats = WholePayloadStats;

export class OpusDepacketizer extends WholePayloadDepacketizer<OpusDepacketizerStats> {
  constructor() {
    super({ packets: 0, stale: 0, lostPackets: 0, malformed: 0, units: 0 }, (payload) => payload.length > 0);
  }
}
