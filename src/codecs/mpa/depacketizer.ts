/**
 * RFC 2250 §3.5 depacketizer for MPEG audio: one unit per frame (`data` = [the frame, header
 * included]). A payload with Frag_offset 0 holds whole frames, split by their headers' lengths, or
 * the first fragment of a frame longer than the payload; fragments with Frag_offset > 0 continue
 * it and the frame is complete when the header's length is reached. The i-th frame of a payload is
 * timed at timestamp + round(i × samplesPerFrame × 90000 / sampleRate).
 *
 * A fragmented frame with a piece missing (sequence gap, an offset that does not match, a new frame
 * before the end, the end of the stream) is handed on as `{ data: [], complete: false }` at its
 * timestamp; frames of lost unfragmented packets simply do not appear. Bytes that do not parse
 * (no sync, reserved values, free format, trailing bytes) are counted as malformed and the frames
 * before them are kept. The MBZ field is ignored.
 *
 * Input must be in sequence order; a packet whose sequence number is not above the last is
 * discarded (`stats.stale`). Whole frames are views of the pushed payloads; the reassembly buffer
 * is bounded by the frame length, itself at most MPA_MAX_FRAME_LENGTH.
 */
import type { DepacketizedUnit, Depacketizer, RtpPayloadInput } from '../types.ts';
import { parseMpegAudioHeader } from './frame-header.ts';
import { emitAudioUnit, emitFragments, frameTimestamp } from '../audio-units.ts';
import type { FrameFragments } from '../audio-units.ts';
import { SequenceGap } from '../sequence-gap.ts';

/** The RTP clock of MPEG audio over RFC 2250. */
export const MPA_CLOCK_RATE = 90000;

export interface MpaDepacketizerStats {
  packets: number;
  /** Discarded: sequence number not above the last one (duplicate or late). */
  stale: number;
  lostPackets: number;
  /** Payloads shorter than 5 bytes, frames that do not parse, fragments that do not add up. */
  malformed: number;
  units: number;
  /** Units handed on with complete = false (a fragmented frame with a piece missing). */
  incompleteUnits: number;
}

interface PendingFrame extends FrameFragments {
  /** Expected frame length; Infinity when the first fragment was lost (unknown). */
  frameLength: number;
}

const HEADER = 4;

export class MpaDepacketizer implements Depacketizer {
  readonly stats: MpaDepacketizerStats = { packets: 0, stale: 0, lostPackets: 0, malformed: 0, units: 0, incompleteUnits: 0 };
  private frag: PendingFrame | undefined;
  private readonly sequence = new SequenceGap();

  push(p: RtpPayloadInput): DepacketizedUnit[] {
    const out: DepacketizedUnit[] = [];
    this.stats.packets++;
    const gap = this.sequence.advance(p.sequence, this.stats);
    if (gap === 'stale') return out;
    if (gap > 0 && this.frag) this.frag.broken = true;
    if (p.payload.length <= HEADER) {
      this.stats.malformed++;
      if (this.frag) this.frag.broken = true;
      return out;
    }
    const fragOffset = p.payload.readUInt16BE(2);
    const data = p.payload.subarray(HEADER);
    if (fragOffset > 0) {
      this.continueFragment(p.timestamp, fragOffset, data, out);
      return out;
    }
    if (this.frag) this.finishFragment(out, true); // a new frame began before the last one ended
    this.wholeFrames(p.timestamp, data, out);
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

  private wholeFrames(timestamp: number, data: Buffer, out: DepacketizedUnit[]): void {
    let off = 0;
    let ticks = 0;
    for (let i = 0; off < data.length; i++) {
      const h = parseMpegAudioHeader(data, off);
      if (!h.ok) {
        this.stats.malformed++;
        return;
      }
      const len = h.value.frameLength;
      const ts = frameTimestamp(timestamp, Math.round((ticks * MPA_CLOCK_RATE) / h.value.sampleRate));
      if (off + len > data.length) {
        if (i > 0) {
          this.stats.malformed++; // only a payload's single frame may be fragmented
          return;
        }
        this.frag = { timestamp: ts, frameLength: len, parts: [data], bytes: data.length, broken: false };
        return;
      }
      emitAudioUnit(out, this.stats, ts, [data.subarray(off, off + len)], true);
      off += len;
      ticks += h.value.samplesPerFrame;
    }
  }

  private continueFragment(timestamp: number, fragOffset: number, data: Buffer, out: DepacketizedUnit[]): void {
    let frag = this.frag;
    if (frag && frag.timestamp !== timestamp) {
      this.finishFragment(out, true);
      frag = undefined;
    }
    if (!frag) {
      // The first fragment was lost: follow the frame through to its end, then report it.
      this.frag = { timestamp, frameLength: Infinity, parts: [], bytes: fragOffset + data.length, broken: true };
      return;
    }
    if (frag.bytes !== fragOffset) {
      if (!frag.broken) this.stats.malformed++;
      frag.broken = true;
    }
    if (!frag.broken) frag.parts.push(data);
    frag.bytes = fragOffset + data.length;
    if (frag.bytes > frag.frameLength) {
      this.stats.malformed++;
      this.finishFragment(out, true);
    } else if (frag.bytes === frag.frameLength) {
      this.finishFragment(out, frag.broken);
    }
  }

  private finishFragment(out: DepacketizedUnit[], broken: boolean): void {
    const frag = this.frag;
    if (frag === undefined) return;
    this.frag = undefined;
    emitFragments(out, this.stats, frag, broken);
  }
}
