/**
 * What the H.264 (RFC 6184) and H.265 (RFC 7798) depacketizers share: access units of whole NAL
 * units assembled from single-NAL, aggregation and fragmentation packets, with the same loss rules.
 *
 * Input must be in sequence order (the jitter buffer's job): a packet whose sequence number is not
 * above the last one is a duplicate or came too late, and is discarded (`stats.stale`); a gap in the
 * sequence means lost packets. An access unit ends at the marker bit or when the timestamp changes.
 * A unit is handed on with `complete: false` when anything of it may be missing: a sequence gap
 * inside it or at its edges, a fragmented NAL without its start or end, a malformed or unsupported
 * packet, a NAL over a cap. A broken fragmented NAL is dropped whole, so `data` never holds a
 * partial NAL unit. NAL units are views into the pushed payloads (reassembled ones are new
 * Buffers): do not reuse a pushed payload's memory before its unit has been handed on.
 */
import type { DepacketizedUnit, Depacketizer, RtpPayloadInput } from './types.ts';
import { SequenceGap } from './sequence-gap.ts';

export interface NalDepacketizerOptions {
  maxNalSize?: number;
  maxNalusPerAccessUnit?: number;
  maxAccessUnitSize?: number;
}

export interface NalDepacketizerStats {
  /** Packets pushed. */
  packets: number;
  /** Packets discarded because their sequence number was not above the last (duplicate or late). */
  stale: number;
  /** Sum of sequence gaps. */
  lostPackets: number;
  /** Packets that did not parse (see each format for the cases). */
  malformed: number;
  /** Packet types of modes we do not support (H.264 STAP-B/MTAP/FU-B, H.265 PACI). */
  unsupported: number;
  /** Packet types the RFC says to ignore. */
  ignored: number;
  /** NAL units dropped: broken reassemblies, orphan fragment ends, units over a cap. */
  droppedNalus: number;
  /** NAL units or access units that went over maxNalSize, maxNalusPerAccessUnit or maxAccessUnitSize. */
  overCap: number;
  /** Units handed on, and how many of them with complete = false. */
  units: number;
  incompleteUnits: number;
}

export interface PendingAu {
  timestamp: number;
  nalus: Buffer[];
  bytes: number;
  keyframe: boolean;
  complete: boolean;
}

interface PendingFragments {
  /** The reconstructed NAL header (1 byte for H.264, 2 for H.265). */
  header: Buffer;
  type: number;
  parts: Buffer[];
  bytes: number;
}

/** One fragment of a fragmented NAL unit (FU-A, FU), already split from its headers. */
export interface Fragment {
  start: boolean;
  end: boolean;
  /** The NAL header to rebuild (used at the start fragment). */
  header: Buffer;
  /** NAL type carried in the fragment header: must not change within one NAL unit. */
  type: number;
  data: Buffer;
}

export abstract class NalDepacketizer implements Depacketizer {
  readonly stats: NalDepacketizerStats = {
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
  private fu: PendingFragments | undefined;
  private readonly sequence = new SequenceGap();
  /** Set when a fragmented NAL was dropped: its remaining fragments are not counted again. */
  private skippingFu = false;

  protected constructor(opts: NalDepacketizerOptions, defaults: Required<NalDepacketizerOptions>) {
    this.maxNalSize = opts.maxNalSize ?? defaults.maxNalSize;
    this.maxNalus = opts.maxNalusPerAccessUnit ?? defaults.maxNalusPerAccessUnit;
    this.maxAuSize = opts.maxAccessUnitSize ?? defaults.maxAccessUnitSize;
  }

  /** Hands one payload's NAL units to addNal / fragment / aggregate. */
  protected abstract handlePayload(payload: Buffer, au: PendingAu): void;

  protected abstract isKeyframe(nal: Buffer): boolean;

  push(p: RtpPayloadInput): DepacketizedUnit[] {
    const out: DepacketizedUnit[] = [];
    this.stats.packets++;
    const gap = this.sequence.advance(p.sequence, this.stats);
    if (gap === 'stale') return out;
    if (gap > 0) {
      // The missing packets may be the rest of the pending unit (no marker seen yet) or its middle.
      this.dropFu();
      if (this.au) this.au.complete = false;
    }
    if (this.au && this.au.timestamp !== p.timestamp) this.finishAu(out);
    // A unit that starts after a gap may have lost its first packets.
    this.au ??= { timestamp: p.timestamp, nalus: [], bytes: 0, keyframe: false, complete: gap === 0 };
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
    this.sequence.reset();
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

  protected dropFu(): void {
    if (!this.fu) return;
    this.fu = undefined;
    this.skippingFu = true;
    this.stats.droppedNalus++;
    if (this.au) this.au.complete = false;
  }

  /** A packet that is not a fragment: fragments of a NAL unit are sent back to back, so it ends any. */
  protected notFragment(): void {
    this.dropFu();
    this.skippingFu = false;
  }

  protected malformed(au: PendingAu): void {
    this.stats.malformed++;
    au.complete = false;
  }

  protected unsupported(au: PendingAu): void {
    this.stats.unsupported++;
    au.complete = false;
  }

  /**
   * An aggregation packet (STAP-A, AP): after `headerBytes`, 16-bit sizes each followed by a NAL
   * unit. False when the sizes do not add up, a unit is shorter than `minNalBytes`, or fewer than
   * `minUnits` are there; the caller counts that as malformed.
   */
  protected aggregate(payload: Buffer, headerBytes: number, minNalBytes: number, minUnits: number, au: PendingAu): boolean {
    const units: Buffer[] = [];
    let off = headerBytes;
    while (off < payload.length) {
      if (off + 2 > payload.length) break;
      const size = payload.readUInt16BE(off);
      off += 2;
      if (size < minNalBytes || off + size > payload.length) {
        off = -1;
        break;
      }
      units.push(payload.subarray(off, off + size));
      off += size;
    }
    if (off !== payload.length || units.length < minUnits) return false;
    for (const u of units) this.addNal(au, u);
    return true;
  }

  /** One fragment of a fragmented NAL unit: reassembled, or dropped whole when anything is off. */
  protected fragment(f: Fragment, au: PendingAu): void {
    let fu: PendingFragments;
    if (f.start) {
      this.dropFu(); // a new start while one is pending: the pending one lost its end
      this.skippingFu = false;
      fu = { header: f.header, type: f.type, parts: [f.data], bytes: f.header.length + f.data.length };
      this.fu = fu;
    } else {
      const pending = this.fu;
      if (!pending) {
        // A middle or end fragment without its start (counted once per NAL).
        if (!this.skippingFu) this.stats.droppedNalus++;
        this.skippingFu = !f.end;
        au.complete = false;
        return;
      }
      if (pending.type !== f.type) {
        this.dropFu();
        this.malformed(au);
        return;
      }
      pending.parts.push(f.data);
      pending.bytes += f.data.length;
      fu = pending;
    }
    if (fu.bytes > this.maxNalSize) {
      this.stats.overCap++;
      this.dropFu();
      return;
    }
    if (f.end) {
      this.fu = undefined;
      this.addNal(au, Buffer.concat([fu.header, ...fu.parts], fu.bytes));
    }
  }

  protected addNal(au: PendingAu, nal: Buffer): void {
    if (nal.length > this.maxNalSize || au.nalus.length >= this.maxNalus || au.bytes + nal.length > this.maxAuSize) {
      this.stats.overCap++;
      this.stats.droppedNalus++;
      au.complete = false;
      return;
    }
    au.nalus.push(nal);
    au.bytes += nal.length;
    if (this.isKeyframe(nal)) au.keyframe = true;
  }
}
