/**
 * RFC 6184 depacketizer (packetization-mode 0 and 1): single NAL unit packets (§5.6), STAP-A
 * (§5.7.1) and FU-A (§5.8) in, access units of whole NAL units out.
 *
 * Input must be in sequence order (the jitter buffer's job): a packet whose sequence number is not
 * above the last one is a duplicate or came too late, and is discarded (`stats.stale`); a gap in the
 * sequence means lost packets. An access unit ends at the marker bit or when the timestamp changes.
 * A unit is handed on with `complete: false` when anything of it may be missing: a sequence gap
 * inside it or at its edges, a FU-A without its start or end, a malformed or unsupported packet, a
 * NAL over a cap. A broken FU-A is dropped whole, so `data` never holds a partial NAL unit.
 *
 * NAL units are views into the pushed payloads (reassembled FU-A units are new Buffers): do not
 * reuse a pushed payload's memory before the unit that holds it has been handed on.
 */
import type { DepacketizedUnit, Depacketizer, RtpPayloadInput } from '../types.ts';
import { NalType } from './nal.ts';

/** Largest NAL unit reassembled from FU-A or accepted whole. */
export const H264_DEFAULT_MAX_NAL_SIZE = 4 * 1024 * 1024;
/** Most NAL units kept in one access unit (slices, SEI, parameter sets). */
export const H264_DEFAULT_MAX_NALUS_PER_ACCESS_UNIT = 1024;
/** Most bytes kept in one access unit. */
export const H264_DEFAULT_MAX_ACCESS_UNIT_SIZE = 8 * 1024 * 1024;

export interface H264DepacketizerOptions {
  maxNalSize?: number;
  maxNalusPerAccessUnit?: number;
  maxAccessUnitSize?: number;
}

export interface H264DepacketizerStats {
  /** Packets pushed. */
  packets: number;
  /** Packets discarded because their sequence number was not above the last (duplicate or late). */
  stale: number;
  /** Sum of sequence gaps. */
  lostPackets: number;
  /** Packets that did not parse: empty, FU-A shorter than 2 bytes, STAP-A sizes not adding up. */
  malformed: number;
  /** STAP-B, MTAP16, MTAP24 and FU-B packets (interleaved mode is not supported). */
  unsupported: number;
  /** Packets of NAL type 0, 30 or 31, which RFC 6184 §5.4 says to ignore. */
  ignored: number;
  /** NAL units dropped: broken FU-A reassemblies, orphan FU-A ends, units over a cap. */
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
  /** The reconstructed NAL header: F and NRI from the FU indicator, type from the FU header. */
  header: number;
  parts: Buffer[];
  bytes: number;
}

export class H264Depacketizer implements Depacketizer {
  readonly stats: H264DepacketizerStats = {
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
  /** Set when a FU-A was dropped: its remaining fragments are not counted as another lost NAL. */
  private skippingFu = false;

  constructor(opts: H264DepacketizerOptions = {}) {
    this.maxNalSize = opts.maxNalSize ?? H264_DEFAULT_MAX_NAL_SIZE;
    this.maxNalus = opts.maxNalusPerAccessUnit ?? H264_DEFAULT_MAX_NALUS_PER_ACCESS_UNIT;
    this.maxAuSize = opts.maxAccessUnitSize ?? H264_DEFAULT_MAX_ACCESS_UNIT_SIZE;
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

  private handlePayload(payload: Buffer, au: PendingAu): void {
    if (payload.length === 0) {
      this.stats.malformed++;
      au.complete = false;
      return;
    }
    const type = payload[0]! & 0x1f;
    if (type === NalType.FU_A) {
      this.handleFuA(payload, au);
      return;
    }
    // Fragments of a NAL unit are sent back to back: anything else in between breaks it.
    this.dropFu();
    this.skippingFu = false;
    if (type >= 1 && type <= 23) {
      this.addNal(au, payload);
    } else if (type === NalType.STAP_A) {
      this.handleStapA(payload, au);
    } else if (type === NalType.STAP_B || type === NalType.MTAP16 || type === NalType.MTAP24 || type === NalType.FU_B) {
      this.stats.unsupported++;
      au.complete = false;
    } else {
      this.stats.ignored++;
    }
  }

  private handleStapA(payload: Buffer, au: PendingAu): void {
    const units: Buffer[] = [];
    let off = 1;
    while (off < payload.length) {
      if (off + 2 > payload.length) break;
      const size = payload.readUInt16BE(off);
      off += 2;
      if (size === 0 || off + size > payload.length) {
        off = -1;
        break;
      }
      units.push(payload.subarray(off, off + size));
      off += size;
    }
    if (off !== payload.length || units.length === 0) {
      this.stats.malformed++;
      au.complete = false;
      return;
    }
    for (const u of units) this.addNal(au, u);
  }

  private handleFuA(payload: Buffer, au: PendingAu): void {
    if (payload.length < 2) {
      this.dropFu();
      this.stats.malformed++;
      au.complete = false;
      return;
    }
    const indicator = payload[0]!;
    const fuHeader = payload[1]!;
    const start = (fuHeader & 0x80) !== 0;
    const end = (fuHeader & 0x40) !== 0;
    const header = (indicator & 0xe0) | (fuHeader & 0x1f);
    const fragment = payload.subarray(2);
    if (start) {
      this.dropFu(); // a new start while one is pending: the pending one lost its end
      this.skippingFu = false;
      this.fu = { header, parts: [fragment], bytes: 1 + fragment.length };
    } else {
      const fu = this.fu;
      if (!fu) {
        // A middle or end fragment without its start (counted once per NAL).
        if (!this.skippingFu) this.stats.droppedNalus++;
        this.skippingFu = !end;
        au.complete = false;
        return;
      }
      if ((fu.header & 0x1f) !== (header & 0x1f)) {
        this.dropFu();
        this.stats.malformed++;
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
      this.addNal(au, Buffer.concat([Buffer.of(fu.header), ...fu.parts], fu.bytes));
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
    if ((nal[0]! & 0x1f) === NalType.IDR_SLICE) au.keyframe = true;
  }
}
