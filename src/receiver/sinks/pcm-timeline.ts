/**
 * A raw G.711 stream cut from received units: sample-exact against the RTP timestamps. The first
 * unit fixes where the raw stream starts; after that each unit's timestamp says which sample it
 * begins with: a gap (lost or missing packets) is filled with silence, an overlap (duplicate
 * samples) is skipped, so the stream's length and its place on the timeline stay right. A jump no
 * loss explains (beyond PCM_MAX_FILL_SEC forward, or back before the unit's own start) is a
 * discontinuity, such as a sender restart: the stream goes on from where it is. Pure.
 */

/** Longest gap filled with silence; a longer jump is a discontinuity. */
export const PCM_MAX_FILL_SEC = 60;

/** The silence byte of each law (ITU-T G.711: the codes nearest to zero). */
export const G711_SILENCE = { pcmu: 0xff, pcma: 0xd5 } as const;

export interface PcmTimelineStats {
  /** Samples (per channel) written, silence included. */
  written: number;
  /** Samples of silence written for gaps. */
  filled: number;
  /** Samples dropped because they overlapped samples already written. */
  overlapped: number;
  discontinuities: number;
}

export class PcmTimeline {
  readonly stats: PcmTimelineStats = { written: 0, filled: 0, overlapped: 0, discontinuities: 0 };
  /** Unwrapped RTP timestamp of the stream's first sample; undefined before the first unit. */
  origin: number | undefined;

  constructor(private readonly o: { rate: number; channels: number; silence: number }) {}

  /** The bytes to append for a unit of `data` starting at RTP timestamp `timestamp` (unwrapped). */
  push(timestamp: number, data: Buffer): Buffer[] {
    const frame = this.o.channels;
    const samples = Math.floor(data.length / frame);
    const s = this.stats;
    if (this.origin === undefined) this.origin = timestamp;
    let gap = timestamp - this.origin - s.written;
    if (gap > PCM_MAX_FILL_SEC * this.o.rate || gap < -samples) {
      s.discontinuities++;
      this.origin = timestamp - s.written;
      gap = 0;
    }
    const out: Buffer[] = [];
    let skip = 0;
    if (gap > 0) {
      out.push(Buffer.alloc(gap * frame, this.o.silence));
      s.written += gap;
      s.filled += gap;
    } else if (gap < 0) {
      skip = -gap;
      s.overlapped += skip;
    }
    const n = samples - skip;
    if (n > 0) {
      out.push(data.subarray(skip * frame, samples * frame));
      s.written += n;
    }
    return out;
  }
}
