/**
 * Ground truth: the per-packet fate record every pipeline keeps, and summaries over it: loss and
 * gap run lengths, RFC 3611 §4.7.2 burst/gap metrics (Gmin 16), one-way delay distribution.
 */

import type { DropReason } from './stages.ts';
import { RFC3611_GMIN } from '../rtcp/index.ts';

export interface FateRecord {
  /** Submission number in this pipeline (0, 1, 2, ...): the "sequence" the summaries use. */
  readonly seq: number;
  readonly id: number;
  /** 0 = the packet, 1 = netem's duplicate of it. */
  readonly copy: number;
  readonly bytes: number;
  readonly sentAtMs: number;
  readonly dropped: boolean;
  readonly dropReason?: DropReason;
  /**
   * A reliable (TCP) path: the model lost or corrupted this segment, and it arrived by
   * retransmission (deliveredAtMs says when). Not set on datagram paths.
   */
  readonly retransmitted?: boolean;
  /** When the model says the copy leaves the emulator. */
  readonly deliveredAtMs?: number;
  /**
   * When it actually left (set by the stage that carries the decisions out, on its clock): later
   * than deliveredAtMs when the host stalled. The ground truth of real-time runs.
   */
  releasedAtMs?: number;
  /**
   * Time the copy waited in the bottleneck queue (link or rate with `queue`): from its arrival there
   * to its dequeue (for an 'aqm' drop, to its drop). Undefined without a bottleneck, and for a
   * copy the bottleneck has not served yet or dropped on arrival ('tail').
   */
  readonly sojournMs?: number;
  /** Time spent in the emulator: deliveredAtMs - submit time. */
  readonly delayMs?: number;
  /** Delivered before some packet submitted earlier (from jitter, netem reorder or duplicates). */
  readonly reordered: boolean;
  /** netem's reorder action sent this packet at once, ahead of the delayed ones. */
  readonly reorderDecision: boolean;
  /** A duplicate of this packet was made (on copy 0). */
  readonly duplicated: boolean;
  readonly corrupted: boolean;
}

/** Per submitted packet: lost when no copy of it was delivered. */
export interface PacketFate {
  readonly seq: number;
  readonly id: number;
  readonly sentAtMs: number;
  readonly lost: boolean;
  /** First delivery of any copy. */
  readonly firstDeliveredAtMs?: number;
  readonly delayMs?: number;
}

export function packetFates(log: readonly FateRecord[]): PacketFate[] {
  const bySeq = new Map<number, { seq: number; id: number; sentAtMs: number; at?: number; delay?: number }>();
  for (const r of log) {
    let e = bySeq.get(r.seq);
    if (!e) {
      e = { seq: r.seq, id: r.id, sentAtMs: r.sentAtMs };
      bySeq.set(r.seq, e);
    }
    if (!r.dropped && r.deliveredAtMs !== undefined && (e.at === undefined || r.deliveredAtMs < e.at)) {
      e.at = r.deliveredAtMs;
      e.delay = r.delayMs;
    }
  }
  return [...bySeq.values()]
    .sort((a, b) => a.seq - b.seq)
    .map((e) =>
      e.at === undefined
        ? { seq: e.seq, id: e.id, sentAtMs: e.sentAtMs, lost: true }
        : { seq: e.seq, id: e.id, sentAtMs: e.sentAtMs, lost: false, firstDeliveredAtMs: e.at, delayMs: e.delay ?? 0 },
    );
}

export interface RunHistogramEntry {
  readonly length: number;
  readonly count: number;
}

export interface RunLengths {
  /** Histogram of maximal runs of consecutive lost packets. */
  readonly lossRuns: RunHistogramEntry[];
  /** Histogram of maximal runs of consecutive delivered packets (leading/trailing runs included). */
  readonly gapRuns: RunHistogramEntry[];
  readonly meanLossRun: number;
  readonly meanGapRun: number;
}

function histogram(lengths: number[]): RunHistogramEntry[] {
  const m = new Map<number, number>();
  for (const l of lengths) m.set(l, (m.get(l) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => a[0] - b[0]).map(([length, count]) => ({ length, count }));
}

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Loss-run and gap-run length histograms of a lost/received sequence. */
export function runLengths(lost: readonly boolean[]): RunLengths {
  const loss: number[] = [];
  const gap: number[] = [];
  let i = 0;
  while (i < lost.length) {
    const v = lost[i];
    let j = i;
    while (j < lost.length && lost[j] === v) j++;
    (v ? loss : gap).push(j - i);
    i = j;
  }
  return { lossRuns: histogram(loss), gapRuns: histogram(gap), meanLossRun: mean(loss), meanGapRun: mean(gap) };
}

export { RFC3611_GMIN };

export interface BurstGapMetrics {
  readonly gmin: number;
  readonly bursts: number;
  readonly gaps: number;
  /** Lost / packets within bursts (RFC 3611 "burst density" as a fraction; 0 when no burst). */
  readonly burstDensity: number;
  /** Lost / packets within gaps. */
  readonly gapDensity: number;
  /** Mean burst duration (ms) and length (packets). */
  readonly burstDurationMs: number;
  readonly burstLengthPackets: number;
  /** Mean gap duration (ms) and length (packets); with no burst, the whole sequence. */
  readonly gapDurationMs: number;
  readonly gapLengthPackets: number;
}

/**
 * RFC 3611 §4.7.2 burst/gap metrics, computed exactly from ground truth (not the Appendix A.2
 * on-line approximation). A burst is the longest run that starts and ends with a lost packet and
 * holds no Gmin or more consecutive received packets; a lost packet with at least Gmin received
 * packets on each side (the session counts as padded by Gmin received packets) belongs to a gap.
 * So losses closer than Gmin chain into one burst, and a lone loss is a gap loss. Gaps are the
 * periods between bursts. A period's duration is the send time of its last packet plus that
 * packet's duration (the send interval to the next packet; the mean interval for the last packet)
 * minus the send time of its first packet.
 */
export function burstGapMetrics(lost: readonly boolean[], sentAtMs: readonly number[], gmin = RFC3611_GMIN): BurstGapMetrics {
  const n = lost.length;
  const meanInterval = n > 1 ? ((sentAtMs[n - 1] as number) - (sentAtMs[0] as number)) / (n - 1) : 0;
  const dur = (start: number, end: number): number => {
    const endDur = end + 1 < n ? (sentAtMs[end + 1] as number) - (sentAtMs[end] as number) : meanInterval;
    return (sentAtMs[end] as number) + endDur - (sentAtMs[start] as number);
  };
  // Group losses closer than gmin received packets; groups of 2+ losses are bursts.
  const bursts: Array<[number, number, number]> = []; // start, end, lost count
  let gStart = -1;
  let gEnd = -1;
  let gCount = 0;
  const close = (): void => {
    if (gCount >= 2) bursts.push([gStart, gEnd, gCount]);
  };
  for (let i = 0; i < n; i++) {
    if (!lost[i]) continue;
    if (gCount > 0 && i - gEnd - 1 < gmin) {
      gEnd = i;
      gCount++;
    } else {
      close();
      gStart = i;
      gEnd = i;
      gCount = 1;
    }
  }
  close();
  let burstPkts = 0;
  let burstLost = 0;
  let burstMs = 0;
  for (const [s, e, c] of bursts) {
    burstPkts += e - s + 1;
    burstLost += c;
    burstMs += dur(s, e);
  }
  const gapSpans: Array<[number, number]> = [];
  let from = 0;
  for (const [s, e] of bursts) {
    if (s > from) gapSpans.push([from, s - 1]);
    from = e + 1;
  }
  if (from < n) gapSpans.push([from, n - 1]);
  let gapPkts = 0;
  let gapMs = 0;
  for (const [s, e] of gapSpans) {
    gapPkts += e - s + 1;
    gapMs += dur(s, e);
  }
  const totalLost = lost.reduce((a, l) => a + (l ? 1 : 0), 0);
  return {
    gmin,
    bursts: bursts.length,
    gaps: gapSpans.length,
    burstDensity: burstPkts === 0 ? 0 : burstLost / burstPkts,
    gapDensity: gapPkts === 0 ? 0 : (totalLost - burstLost) / gapPkts,
    burstDurationMs: bursts.length === 0 ? 0 : burstMs / bursts.length,
    burstLengthPackets: bursts.length === 0 ? 0 : burstPkts / bursts.length,
    gapDurationMs: gapSpans.length === 0 ? 0 : gapMs / gapSpans.length,
    gapLengthPackets: gapSpans.length === 0 ? 0 : gapPkts / gapSpans.length,
  };
}

export interface DelaySummary {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  /** Population standard deviation. */
  readonly std: number;
  /** Nearest-rank percentiles. */
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
}

export function delaySummary(delaysMs: readonly number[]): DelaySummary {
  const n = delaysMs.length;
  if (n === 0) return { count: 0, min: 0, max: 0, mean: 0, std: 0, p50: 0, p90: 0, p95: 0, p99: 0 };
  const s = [...delaysMs].sort((a, b) => a - b);
  const m = s.reduce((a, b) => a + b, 0) / n;
  const v = s.reduce((a, b) => a + (b - m) * (b - m), 0) / n;
  const rank = (q: number): number => s[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] as number;
  return {
    count: n,
    min: s[0] as number,
    max: s[n - 1] as number,
    mean: m,
    std: Math.sqrt(v),
    p50: rank(0.5),
    p90: rank(0.9),
    p95: rank(0.95),
    p99: rank(0.99),
  };
}

export interface FateSummary {
  /** Packets submitted (duplicates not counted). */
  readonly packets: number;
  /** Packets with no copy delivered, and their fraction. */
  readonly lost: number;
  readonly lossRate: number;
  /** Copies dropped by the loss model / by netem's `limit`. */
  readonly droppedByLoss: number;
  readonly droppedByQueue: number;
  /** Copies the bottleneck dropped: its queue full on arrival (tail), CoDel on dequeue (aqm). */
  readonly droppedByTail: number;
  readonly droppedByAqm: number;
  /** Copies still in the emulator when the log was read (neither delivered nor dropped yet). */
  readonly inFlight: number;
  /** Bottleneck sojourn times of the copies it delivered (count 0 without a bottleneck). */
  readonly sojourn: DelaySummary;
  /** Duplicate copies delivered. */
  readonly duplicatesDelivered: number;
  /** Delivered copies that arrived before an earlier-submitted packet. */
  readonly reordered: number;
  readonly reorderDecisions: number;
  readonly corrupted: number;
  readonly runs: RunLengths;
  readonly burstGap: BurstGapMetrics;
  /** Emulator delay of each packet's first delivered copy. */
  readonly delay: DelaySummary;
}

export function summarizeFates(log: readonly FateRecord[], gmin = RFC3611_GMIN): FateSummary {
  const pf = packetFates(log);
  const lost = pf.map((p) => p.lost);
  let droppedByLoss = 0;
  let droppedByQueue = 0;
  let droppedByTail = 0;
  let droppedByAqm = 0;
  let inFlight = 0;
  const sojourns: number[] = [];
  let duplicatesDelivered = 0;
  let reordered = 0;
  let reorderDecisions = 0;
  let corrupted = 0;
  for (const r of log) {
    if (r.dropped) {
      if (r.dropReason === 'loss') droppedByLoss++;
      else if (r.dropReason === 'tail') droppedByTail++;
      else if (r.dropReason === 'aqm') droppedByAqm++;
      else droppedByQueue++;
      continue;
    }
    if (r.deliveredAtMs === undefined) {
      inFlight++;
      continue;
    }
    if (r.sojournMs !== undefined) sojourns.push(r.sojournMs);
    if (r.copy > 0) duplicatesDelivered++;
    if (r.reordered) reordered++;
    if (r.reorderDecision) reorderDecisions++;
    if (r.corrupted) corrupted++;
  }
  const nLost = lost.filter((l) => l).length;
  return {
    packets: pf.length,
    lost: nLost,
    lossRate: pf.length === 0 ? 0 : nLost / pf.length,
    droppedByLoss,
    droppedByQueue,
    droppedByTail,
    droppedByAqm,
    inFlight,
    sojourn: delaySummary(sojourns),
    duplicatesDelivered,
    reordered,
    reorderDecisions,
    corrupted,
    runs: runLengths(lost),
    burstGap: burstGapMetrics(
      lost,
      pf.map((p) => p.sentAtMs),
      gmin,
    ),
    delay: delaySummary(pf.filter((p) => !p.lost).map((p) => p.delayMs as number)),
  };
}
