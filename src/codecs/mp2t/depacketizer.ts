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
import { WholePayloadDepacketizer } from '../whole-payload.ts';
import type { WholePayloadStats } from '../whole-payload.ts';
import { checkMp2tPackets } from './ts-packets.ts';

export interface Mp2tDepacketizerStats extends WholePayloadStats {
  /** TS packets handed on. */
  tsPackets: number;
}

/** Empty, misaligned or unsynced payloads are malformed (dropped whole). */
export class Mp2tDepacketizer extends WholePayloadDepacketizer<Mp2tDepacketizerStats> {
  constructor() {
    super({ packets: 0, stale: 0, lostPackets: 0, malformed: 0, units: 0, tsPackets: 0 }, (payload, stats) => {
      const check = checkMp2tPackets(payload);
      if (!check.ok || check.value === 0) return false;
      stats.tsPackets += check.value;
      return true;
    });
  }
}
