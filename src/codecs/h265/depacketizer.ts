/**
 * RFC 7798 depacketizer without DONL (sprop-max-don-diff = 0): single NAL unit packets (§4.4.1),
 * Aggregation Packets (§4.4.2) and Fragmentation Units (§4.4.3) in, access units of whole NAL
 * units out. The same contract as H264Depacketizer.
 *
 * Input must be in sequence order (the jitter buffer's job): a packet whose sequence number is not
 * above the last one is a duplicate or came too late, and is discarded (`stats.stale`); a gap in the
 * sequence means lost packets. An access unit ends at the marker bit or when the timestamp changes.
 * A unit is handed on with `complete: false` when anything of it may be missing: a sequence gap
 * inside it or at its edges, a FU without its start or end, a malformed or unsupported packet
 * (PACI), a NAL over a cap. A broken FU is dropped whole, so `data` never holds a partial NAL unit.
 *
 * NAL units are views into the pushed payloads (reassembled FU units are new Buffers): do not
 * reuse a pushed payload's memory before the unit that holds it has been handed on.
 */
import type { DepacketizedUnit, Depacketizer, RtpPayloadInput } from '../types.ts';
import { H265NalType, isH265Keyframe } from './nal.ts';

/** Largest NAL unit reassembled from FUs or accepted whole. */
export const H265_DEFAULT_MAX_NAL_SIZE = 4 * 1024 * 1024;
/** Most NAL units kept in one access unit (slices, SEI, parameter sets). */
export const H265_DEFAULT_MAX_NALUS_PER_ACCESS_UNIT = 1024;
/** Most bytes kept in one access unit. */
export const H265_DEFAULT_MAX_ACCESS_UNIT_SIZE = 8 * 1024 * 1024;

export interface H265DepacketizerOptions {
  maxNalSize?: number;
  maxNalusPerAccessUnit?: number;
  maxAccessUnitSize?: number;
}

export interface H265DepacketizerStats {
  /** Packets pushed. */
  packets: number;
  /** Packets discarded because their sequence number was not above the last (duplicate or late). */
  stale: number;
  /** Sum of sequence gaps. */
  lostPackets: number;
  /** Packets that did not parse: under 2 bytes, FU under 3 bytes or with S and E both set or an
   * AP/FU/PACI FuType, AP sizes not adding up or fewer than 2 units in it. */
  malformed: number;
  /** PACI packets (type 50). */
  unsupported: number;
  /** Packets of the unspecified types 51..63, ignored. */
  ignored: number;
  /** NAL units dropped: broken FU reassemblies, orphan FU ends, units over a cap. */
  droppedNalus: number;
  /** NAL units or access units that went over maxNalSize, maxNalusPerAccessUnit or maxAccessUnitSize. */
  overCap: number;
  /** Units handed on, and how many of them with complete = false. */
  units: number;
  incompleteUnits: number;
}

interface PendingAu {
  timestamp: number;
  nalus: Buffer[];
  bytes: number;
  keyframe: boolean;
  complete: boolean;
}

interface PendingFu {
  /** The reconstructed 2-byte NAL header: F, LayerId, TID of the PayloadHdr, type = FuType. */
  header: Buffer;
  parts: Buffer[];
  bytes: number;
}

const PAYLOAD_HDR = 2;
const FU_HEADERS = 3;

export class H265Depacketizer implements Depacketizer {
  readonly stats: H265DepacketizerStats = {
    packets: 0,
    stale: 0,
    lostPackets: 0,
    malformed: 0,
    unsupported: 0,
    ignored: 0,
    droppedNalus: 0,
    overCap: 0,
    units: 0,
    incompleteUnits: 0,
  };
  private readonly maxNalSize: number;
  private readonly maxNalus: number;
  private readonly maxAuSize: number;
  private au: PendingAu | undefined;
  private fu: PendingFu | undefined;
  private lastSequence: number | undefined;
  /** Set when a FU was dropped: its remaining fragments are not counted as another lost NAL. */
  private skippingFu = false;

  constructor(opts: H265DepacketizerOptions = {}) {
    this.maxNalSize = opts.maxNalSize ?? H265_DEFAULT_MAX_NAL_SIZE;
    this.maxNalus = opts.maxNalusPerAccessUnit ?? H265_DEFAULT_MAX_NALUS_PER_ACCESS_UNIT;
    this.maxAuSize = opts.maxAccessUnitSize ?? H265_DEFAULT_MAX_ACCESS_UNIT_SIZE;
  }

  push(p: RtpPayloadInput): DepacketizedUnit[] {
    const out: DepacketizedUnit[] = [];
    this.stats.packets++;
    let lost = false;
    if (this.lastSequence !== undefined) {
      if (p.sequence <= this.lastSequence) {
        this.stats.stale++;
        return out;
      }
      const gap = p.sequence - this.lastSequence - 1;
      if (gap > 0) {
        this.stats.lostPackets += gap;
        lost = true;
      }
    }
    this.lastSequence = p.sequence;
    if (lost) {
      // The missing packets may be the rest of the pending unit (no marker seen yet) or its middle.
      this.dropFu();
      if (this.au) this.au.complete = false;
    }
    if (this.au && this.au.timestamp !== p.timestamp) this.finishAu(out);
    // A unit that starts after a gap may have lost its first packets.
    this.au ??= { timestamp: p.timestamp, nalus: [], bytes: 0, keyframe: false, complete: !lost };
    this.handlePayload(p.payload, this.au);
    if (p.marker) this.finishAu(out);
    return out;
  }

  flush(): DepacketizedUnit[] {
    const out: DepacketizedUnit[] = [];
    if (this.au) {
      // No marker seen: the end of this unit may be missing.
      this.au.complete = false;
      this.finishAu(out);
    }
    return out;
  }

  /** Forgets all state, including the last sequence number (after a seek or an SSRC change). */
  reset(): void {
    this.au = undefined;
    this.fu = undefined;
    this.lastSequence = undefined;
    this.skippingFu = false;
  }

  private finishAu(out: DepacketizedUnit[]): void {
    const au = this.au;
    if (!au) return;
    this.dropFu();
    this.au = undefined;
    this.stats.units++;
    if (!au.complete) this.stats.incompleteUnits++;
    out.push({ timestamp: au.timestamp, data: au.nalus, keyframe: au.keyframe, complete: au.complete });
  }

  private dropFu(): void {
    if (!this.fu) return;
    this.fu = undefined;
    this.skippingFu = true;
    this.stats.droppedNalus++;
    if (this.au) this.au.complete = false;
  }

  private malformed(au: PendingAu): void {
    this.stats.malformed++;
    au.complete = false;
  }

  private handlePayload(payload: Buffer, au: PendingAu): void {
    if (payload.length < PAYLOAD_HDR) {
      this.dropFu();
      this.malformed(au);
      return;
    }
    const type = (payload[0]! >> 1) & 0x3f;
    if (type === H265NalType.FU) {
      this.handleFu(payload, au);
      return;
    }
    // Fragments of a NAL unit are sent back to back: anything else in between breaks it.
    this.dropFu();
    this.skippingFu = false;
    if (type < H265NalType.AP) {
      this.addNal(au, payload);
    } else if (type === H265NalType.AP) {
      this.handleAp(payload, au);
    } else if (type === H265NalType.PACI) {
      this.stats.unsupported++;
      au.complete = false;
    } else {
      this.stats.ignored++;
    }
  }

  private handleAp(payload: Buffer, au: PendingAu): void {
    const units: Buffer[] = [];
    let off = PAYLOAD_HDR;
    while (off < payload.length) {
      if (off + 2 > payload.length) break;
      const size = payload.readUInt16BE(off);
      off += 2;
      if (size < 2 || off + size > payload.length) {
        off = -1;
        break;
      }
      units.push(payload.subarray(off, off + size));
      off += size;
    }
    // An AP carries at least two aggregation units (§4.4.2).
    if (off !== payload.length || units.length < 2) {
      this.malformed(au);
      return;
    }
    for (const u of units) this.addNal(au, u);
  }

  private handleFu(payload: Buffer, au: PendingAu): void {
    const fuHeader = payload[2];
    const fuType = (fuHeader ?? 0) & 0x3f;
    const start = ((fuHeader ?? 0) & 0x80) !== 0;
    const end = ((fuHeader ?? 0) & 0x40) !== 0;
    // S and E both set, or a FuType that cannot be fragmented (AP, FU, PACI, unspecified 51..63).
    if (payload.length <= FU_HEADERS || (start && end) || fuType >= H265NalType.AP) {
      this.dropFu();
      this.skippingFu = false;
      this.malformed(au);
      return;
    }
    const fragment = payload.subarray(FU_HEADERS);
    if (start) {
      this.dropFu(); // a new start while one is pending: the pending one lost its end
      this.skippingFu = false;
      const header = Buffer.of((payload[0]! & 0x81) | (fuType << 1), payload[1]!);
      this.fu = { header, parts: [fragment], bytes: PAYLOAD_HDR + fragment.length };
    } else {
      const fu = this.fu;
      if (!fu) {
        // A middle or end fragment without its start (counted once per NAL).
        if (!this.skippingFu) this.stats.droppedNalus++;
        this.skippingFu = !end;
        au.complete = false;
        return;
      }
      if (((fu.header[0]! >> 1) & 0x3f) !== fuType) {
        this.dropFu();
        this.malformed(au);
        return;
      }
      fu.parts.push(fragment);
      fu.bytes += fragment.length;
    }
    const fu = this.fu!;
    if (fu.bytes > this.maxNalSize) {
      this.stats.overCap++;
      this.dropFu();
      return;
    }
    if (end) {
      this.fu = undefined;
      this.addNal(au, Buffer.concat([fu.header, ...fu.parts], fu.bytes));
    }
  }

  private addNal(au: PendingAu, nal: Buffer): void {
    if (nal.length > this.maxNalSize || au.nalus.length >= this.maxNalus || au.bytes + nal.length > this.maxAuSize) {
      this.stats.overCap++;
      this.stats.droppedNalus++;
      au.complete = false;
      return;
    }
    au.nalus.push(nal);
    au.bytes += nal.length;
    if (isH265Keyframe(nal)) au.keyframe = true;
  }
}
