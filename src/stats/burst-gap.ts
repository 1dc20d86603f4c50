import { RFC3611_GMIN } from '../rtcp/index.ts';

/** Burst/gap figures of a stream so far (lengths in packets; densities as fractions 0..1). */
export interface BurstGapFigures {
  readonly bursts: number;
  readonly gaps: number;
  /** Lost (or discarded) packets / packets within bursts; 0 without a burst. */
  readonly burstDensity: number;
  /** Lost packets / packets within gaps. */
  readonly gapDensity: number;
  readonly burstLengthPackets: number;
  readonly gapLengthPackets: number;
}

/**
 * RFC 3611 §4.7.2 burst/gap metrics on line, packet by packet in sequence order, with O(1) state
 * and the same definition as the exact offline count over ground truth (impair/fate-log.ts
 * burstGapMetrics): losses closer than Gmin received packets chain into one burst (two or more
 * losses), a lone loss is a gap loss, gaps are the periods between bursts. What a receiver reports
 * in an XR VoIP metrics block (the lost-or-discarded sequence its playout saw).
 */
export class BurstGapCounter {
  private n = 0;
  private lost = 0;
  /** The open group of losses (start, end index, count). */
  private gStart = -1;
  private gEnd = -1;
  private gCount = 0;
  private readonly closed = { bursts: 0, packets: 0, lost: 0, gapSpans: 0 };
  /** Index after the last closed burst: where the current gap began. */
  private from = 0;
  /** Runs of consecutive lost and of consecutive received packets (for the E-model's BurstR). */
  private lossRuns = 0;
  private receivedRuns = 0;
  private last: boolean | undefined;

  constructor(readonly gmin = RFC3611_GMIN) {}

  get packets(): number {
    return this.n;
  }

  packet(lost: boolean): void {
    const i = this.n++;
    if (lost !== this.last) {
      if (lost) this.lossRuns++;
      else this.receivedRuns++;
      this.last = lost;
    }
    if (!lost) return;
    this.lost++;
    if (this.gCount > 0 && i - this.gEnd - 1 < this.gmin) {
      this.gEnd = i;
      this.gCount++;
      return;
    }
    this.closeGroup();
    this.gStart = i;
    this.gEnd = i;
    this.gCount = 1;
  }

  private closeGroup(): void {
    if (this.gCount < 2) return;
    const c = this.closed;
    c.bursts++;
    c.packets += this.gEnd - this.gStart + 1;
    c.lost += this.gCount;
    if (this.gStart > this.from) c.gapSpans++;
    this.from = this.gEnd + 1;
  }

  /**
   * ITU-T G.107's BurstR from the loss pattern as a two-state Markov chain: 1 / (p + q) with p the
   * chance to lose after a received packet (received runs / received) and q to receive after a
   * lost one (loss runs / lost). 1 for random loss, above 1 when losses cluster; 1 without loss.
   */
  burstR(): number {
    const received = this.n - this.lost;
    if (this.lost === 0 || received === 0) return 1;
    const p = this.lossRuns / received;
    const q = this.receivedRuns / this.lost;
    return p + q > 0 ? Math.max(1, 1 / (p + q)) : 1;
  }

  figures(): BurstGapFigures {
    let { bursts, packets: burstPkts, lost: burstLost, gapSpans } = this.closed;
    let from = this.from;
    // The open group, as if the sequence ended here.
    if (this.gCount >= 2) {
      bursts++;
      burstPkts += this.gEnd - this.gStart + 1;
      burstLost += this.gCount;
      if (this.gStart > from) gapSpans++;
      from = this.gEnd + 1;
    }
    if (from < this.n) gapSpans++;
    const gapPkts = this.n - burstPkts;
    return {
      bursts,
      gaps: gapSpans,
      burstDensity: burstPkts === 0 ? 0 : burstLost / burstPkts,
      gapDensity: gapPkts === 0 ? 0 : (this.lost - burstLost) / gapPkts,
      burstLengthPackets: bursts === 0 ? 0 : burstPkts / bursts,
      gapLengthPackets: gapSpans === 0 ? 0 : gapPkts / gapSpans,
    };
  }
}
