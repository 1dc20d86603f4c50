/**
 * Maps a publisher's RTP sequence numbers and timestamps onto a live track's own (RFC 3550 §5.1
 * continuity): the first packet of a publisher continues the track where the last one stopped
 * (next sequence number, last timestamp plus the time elapsed), later packets keep their distance
 * from that first one, so gaps (loss) and reordering pass through unchanged. Timestamps may be
 * anchored before the first packet (a sender report that came first: its RTP timestamp is "now" at
 * the source, a better anchor than a packet that may be ahead of or behind its time). Pure.
 */
export interface RelayContinuation {
  /** Sequence number the first relayed packet gets. */
  nextSeq: number;
  /** Timestamp the first relayed packet gets. */
  firstTimestamp: number;
}

export class RtpRelayMap {
  private firstSeq: number | undefined;
  private firstTs = 0;
  private anchored = false;
  /** Extended (unwrapped) distance of the newest input sequence number from the first. */
  private lastExt = 0;
  private lastSeq = 0;

  /** `anchorTimestamp`: the source's timestamp that becomes `start.firstTimestamp` (else the first packet's). */
  constructor(
    private readonly start: RelayContinuation,
    anchorTimestamp?: number,
  ) {
    if (anchorTimestamp !== undefined) {
      this.firstTs = anchorTimestamp >>> 0;
      this.anchored = true;
    }
  }

  /** Our timestamp for a publisher timestamp (its sender reports), once anchored or a packet was mapped. */
  timestamp(timestamp: number): number | undefined {
    if (this.firstSeq === undefined && !this.anchored) return undefined;
    return (this.start.firstTimestamp + ((timestamp - this.firstTs) >>> 0)) >>> 0;
  }

  /** Output sequence number and timestamp for an input packet. */
  map(seq: number, timestamp: number): { seq: number; timestamp: number } {
    if (this.firstSeq === undefined) {
      this.firstSeq = seq;
      if (!this.anchored) this.firstTs = timestamp >>> 0;
      this.lastSeq = seq;
      this.lastExt = 0;
    }
    // Place seq at the extended number nearest the newest one seen (handles wrap and reordering).
    const d = ((seq - this.lastSeq) & 0xffff) >= 0x8000 ? ((seq - this.lastSeq) & 0xffff) - 0x10000 : (seq - this.lastSeq) & 0xffff;
    const ext = this.lastExt + d;
    if (d > 0) {
      this.lastExt = ext;
      this.lastSeq = seq;
    }
    return {
      seq: (this.start.nextSeq + ext) & 0xffff,
      timestamp: (this.start.firstTimestamp + ((timestamp - this.firstTs) >>> 0)) >>> 0,
    };
  }
}

/**
 * Where a new publisher continues a track: the next sequence number, and the last timestamp plus
 * the wall time since it (at least one tick), or the track's random base when nothing was sent yet.
 */
export function continuationFor(
  track: { sender: { seq: number; timestampBase: number }; last: { timestamp: number; wallMs: number } | undefined; clockRate: number },
  nowWallMs: number,
): RelayContinuation {
  const { seq, timestampBase } = track.sender;
  if (!track.last) return { nextSeq: seq, firstTimestamp: timestampBase };
  const elapsed = Math.max(1, Math.round(((nowWallMs - track.last.wallMs) * track.clockRate) / 1000));
  return { nextSeq: seq, firstTimestamp: (track.last.timestamp + elapsed) >>> 0 };
}
