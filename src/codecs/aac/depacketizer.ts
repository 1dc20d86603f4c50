/**
 * RFC 3640 depacketizer for AAC (mode AAC-hbr by default; any sizelength/indexlength/
 * indexdeltalength without interleaving). One unit per AU, timestamped packet timestamp +
 * i × frameLength for the i-th AU of a packet (§3.2.2: AUs in a packet are consecutive).
 *
 * Fragmented AUs (§3.2.3: one AU-header with the whole AU size, data shorter than that, marker 0
 * until the last fragment) are reassembled. A fragmented AU with a fragment missing (sequence gap,
 * a length that does not add up, a new timestamp before the end) is handed on as
 * `{ data: [], complete: false }` at its timestamp, so the decoder can conceal it; AUs of lost
 * unfragmented packets simply do not appear (the timestamps show the hole).
 *
 * Input must be in sequence order; a packet whose sequence number is not above the last is
 * discarded (`stats.stale`). Complete AUs are views of the pushed payloads.
 */
import { BitReader } from '../bit-reader.ts';
import type { DepacketizedUnit, Depacketizer, RtpPayloadInput } from '../types.ts';
import { emitAudioUnit, emitFragments, frameTimestamp } from '../audio-units.ts';
import type { FrameFragments } from '../audio-units.ts';
import { SequenceGap } from '../sequence-gap.ts';

/** Largest AU reassembled from fragments. */
export const AAC_DEFAULT_MAX_AU_SIZE = 64 * 1024;

export interface AacDepacketizerOptions {
  /** fmtp sizelength (13 for AAC-hbr). */
  sizeLength?: number;
  /** fmtp indexlength (3 for AAC-hbr). */
  indexLength?: number;
  /** fmtp indexdeltalength (3 for AAC-hbr). */
  indexDeltaLength?: number;
  /** Samples per AU in RTP clock units (AudioSpecificConfig frameLength): 1024 or 960. */
  frameLength?: number;
  maxAuSize?: number;
}

export interface AacDepacketizerStats {
  packets: number;
  /** Discarded: sequence number not above the last one (duplicate or late). */
  stale: number;
  lostPackets: number;
  /** AU header section or AU sizes that do not fit the packet, fragments that do not add up. */
  malformed: number;
  /** Packets with a non-zero AU-Index or AU-Index-delta (interleaving is not supported). */
  unsupported: number;
  /** AUs over maxAuSize. */
  overCap: number;
  units: number;
  /** Units handed on with complete = false (a fragmented AU with a piece missing). */
  incompleteUnits: number;
}

interface PendingFragment extends FrameFragments {
  auSize: number;
}

export class AacDepacketizer implements Depacketizer {
  readonly stats: AacDepacketizerStats = {
    packets: 0,
    stale: 0,
    lostPackets: 0,
    malformed: 0,
    unsupported: 0,
    overCap: 0,
    units: 0,
    incompleteUnits: 0,
  };
  private readonly sizeLength: number;
  private readonly indexLength: number;
  private readonly indexDeltaLength: number;
  private readonly frameLength: number;
  private readonly maxAuSize: number;
  private frag: PendingFragment | undefined;
  private readonly sequence = new SequenceGap();

  constructor(opts: AacDepacketizerOptions = {}) {
    this.sizeLength = opts.sizeLength ?? 13;
    this.indexLength = opts.indexLength ?? 3;
    this.indexDeltaLength = opts.indexDeltaLength ?? 3;
    this.frameLength = opts.frameLength ?? 1024;
    this.maxAuSize = opts.maxAuSize ?? AAC_DEFAULT_MAX_AU_SIZE;
    const bad = (n: number, lo: number): boolean => !Number.isInteger(n) || n < lo || n > 32;
    if (bad(this.sizeLength, 1) || bad(this.indexLength, 0) || bad(this.indexDeltaLength, 0)) {
      throw new RangeError('AacDepacketizer: sizeLength must be 1..32, index lengths 0..32');
    }
    if (!Number.isInteger(this.frameLength) || this.frameLength <= 0) throw new RangeError('frameLength must be > 0');
  }

  push(p: RtpPayloadInput): DepacketizedUnit[] {
    const out: DepacketizedUnit[] = [];
    this.stats.packets++;
    const gap = this.sequence.advance(p.sequence, this.stats);
    if (gap === 'stale') return out;
    if (gap > 0 && this.frag) this.frag.broken = true;
    const sizes = this.readHeaders(p.payload);
    if (!sizes) {
      // A fragment that cannot be read breaks the AU it belongs to.
      if (this.frag) this.frag.broken = true;
      return out;
    }
    const dataOff = 2 + ((p.payload.readUInt16BE(0) + 7) >> 3);
    const data = p.payload.subarray(dataOff);
    const frag = this.frag;
    if (frag && (frag.timestamp !== p.timestamp || sizes.length !== 1 || sizes[0] !== frag.auSize)) {
      this.finishFragment(out, true); // a new AU began before this one ended
    }
    if (this.frag) {
      this.addFragment(data, p.marker, out);
      return out;
    }
    const [auSize] = sizes;
    if (sizes.length === 1 && auSize !== undefined && auSize > data.length) {
      // The first fragment of an AU (or, after a loss, a later one: the byte count will tell).
      const overCap = auSize > this.maxAuSize;
      if (overCap) this.stats.overCap++;
      this.frag = { timestamp: p.timestamp, auSize, parts: [], bytes: 0, broken: overCap };
      this.addFragment(data, p.marker, out);
      return out;
    }
    let total = 0;
    for (const s of sizes) total += s;
    if (total > data.length) {
      this.stats.malformed++;
      return out;
    }
    let off = 0;
    for (const [i, size] of sizes.entries()) {
      const au = data.subarray(off, off + size);
      off += size;
      if (size > this.maxAuSize) {
        this.stats.overCap++;
        continue;
      }
      emitAudioUnit(out, this.stats, frameTimestamp(p.timestamp, i * this.frameLength), [au], true);
    }
    return out;
  }

  flush(): DepacketizedUnit[] {
    const out: DepacketizedUnit[] = [];
    if (this.frag) this.finishFragment(out, true);
    return out;
  }

  /** Forgets all state, including the last sequence number. */
  reset(): void {
    this.frag = undefined;
    this.sequence.reset();
  }

  /** AU sizes from the AU header section, or undefined (counted) when it does not parse. */
  private readHeaders(payload: Buffer): number[] | undefined {
    if (payload.length < 2) {
      this.stats.malformed++;
      return undefined;
    }
    const bits = payload.readUInt16BE(0);
    const bytes = (bits + 7) >> 3;
    if (bits === 0 || 2 + bytes > payload.length) {
      this.stats.malformed++;
      return undefined;
    }
    const r = new BitReader(payload.subarray(2, 2 + bytes), bits);
    const sizes: number[] = [];
    while (r.bitsLeft > 0) {
      const indexBits = sizes.length === 0 ? this.indexLength : this.indexDeltaLength;
      if (r.bitsLeft < this.sizeLength + indexBits) {
        this.stats.malformed++;
        return undefined;
      }
      const size = r.read(this.sizeLength);
      if (size === 0) {
        this.stats.malformed++;
        return undefined;
      }
      if (r.read(indexBits) !== 0) {
        this.stats.unsupported++;
        return undefined;
      }
      sizes.push(size);
    }
    return sizes;
  }

  private addFragment(data: Buffer, marker: boolean, out: DepacketizedUnit[]): void {
    const frag = this.frag;
    if (frag === undefined) return;
    if (!frag.broken) frag.parts.push(data); // a broken AU is only counted through to its end
    frag.bytes += data.length;
    if (frag.bytes > frag.auSize) {
      this.stats.malformed++;
      this.finishFragment(out, true);
    } else if (frag.bytes === frag.auSize) {
      this.finishFragment(out, frag.broken);
    } else if (marker) {
      this.finishFragment(out, true); // the last fragment came, but bytes are missing
    }
  }

  private finishFragment(out: DepacketizedUnit[], broken: boolean): void {
    const frag = this.frag;
    if (frag === undefined) return;
    this.frag = undefined;
    emitFragments(out, this.stats, frag, broken);
  }
}
