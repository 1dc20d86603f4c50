/**
 * The sequence check every depacketizer makes before it reads a payload: packets arrive with
 * extended (unwrapped) sequence numbers from the jitter buffer, so a packet at or before the last
 * one is stale, and a jump forward means packets were lost in between.
 */
export class SequenceGap {
  private last: number | undefined;

  /**
   * Records `sequence` and returns how many packets are missing just before it (0 when none, also
   * for the first packet), or `'stale'` for a packet not after the last one. Both are counted.
   */
  advance(sequence: number, stats: { stale: number; lostPackets: number }): number | 'stale' {
    const last = this.last;
    if (last !== undefined && sequence <= last) {
      stats.stale++;
      return 'stale';
    }
    this.last = sequence;
    const gap = last === undefined ? 0 : sequence - last - 1;
    stats.lostPackets += gap;
    return gap;
  }

  /** Forgets the last sequence number (after a restart). */
  reset(): void {
    this.last = undefined;
  }
}
