/**
 * Turning what a run left behind (the emulator's fate log, the RRs the server received, the track
 * receivers' statistics and jitter buffers) into the figures of a TrackResult. Shared by the
 * real-time and the simulated runner, so both report the same way.
 */

import { packetFates, summarizeFates } from '../impair/index.ts';
import type { FateRecord } from '../impair/index.ts';
import type { TrackReceiver } from '../receiver/index.ts';
import type { ReceiverReportRecord } from '../server/index.ts';
import { LATE_RELEASE_MS } from '../transport/index.ts';
import { emodel } from '../stats/emodel.ts';
import type { EmodelResult } from '../stats/emodel.ts';
import type { EmodelCodec } from './experiment.ts';
import type { RtcpFigures, RtcpPathTruth, SeriesPoint, TrackResult, TruthFigures } from './result-types.ts';
import { gilbertEstimate } from './stats.ts';

/** Delay above which a delivered packet counts as "delayed" by the emulator. */
export const DELAYED_THRESHOLD_MS = 0.5;

/**
 * Window of packet ids (0 = the stream's first RTP packet) covered by the receiver's statistics:
 * from `baseSeq` (the packet that ended A.1 probation) for `expected` packets.
 */
export function statsWindow(seq0: number, baseSeq: number, expected: number): { fromId: number; toId: number } | undefined {
  if (expected <= 0) return undefined;
  const fromId = (baseSeq - seq0) & 0xffff;
  return { fromId, toId: fromId + expected - 1 };
}

/** RFC 3550 A.1 MAX_MISORDER: a packet this far behind the highest is a late arrival, counted. */
const MAX_MISORDER = 100;

/**
 * The truth over the receiver's statistics window, and what an exact RFC 3550 receiver reports
 * for it. The receiver counts as received every copy that arrives after probation ended (the
 * arrival of packet `fromId`), duplicates and packets from before the window included, while its
 * `expected` spans the window only; so when the first packets arrive reordered, or copies are
 * duplicated, its cumulative lost is below the true loss by exactly those copies.
 */
export function windowCounts(fates: readonly FateRecord[], window: { fromId: number; toId: number }): NonNullable<TruthFigures['window']> {
  let lost = 0;
  let packets = 0;
  for (const p of packetFates(fates)) {
    if (p.id < window.fromId || p.id > window.toId) continue;
    packets++;
    if (p.lost) lost++;
  }
  // Arrival order: when each copy left the emulator (as released), then the order it was decided.
  const arrivals: { id: number; at: number; order: number }[] = [];
  fates.forEach((r, order) => {
    if (r.dropped || r.deliveredAtMs === undefined) return;
    arrivals.push({ id: r.id, at: r.releasedAtMs ?? r.deliveredAtMs, order });
  });
  arrivals.sort((a, b) => a.at - b.at || a.order - b.order);
  const baseAt = arrivals.findIndex((a) => a.id === window.fromId);
  let countedBeforeWindow = 0;
  let duplicatesInWindow = 0;
  const seen = new Set<number>();
  arrivals.forEach((a, i) => {
    if (a.id >= window.fromId && a.id <= window.toId) {
      if (seen.has(a.id)) duplicatesInWindow++;
      seen.add(a.id);
    } else if (baseAt >= 0 && i > baseAt && a.id < window.fromId && window.fromId - a.id < MAX_MISORDER) {
      countedBeforeWindow++;
    }
  });
  return {
    ...window,
    packets,
    lost,
    rfcLost: lost - countedBeforeWindow - duplicatesInWindow,
    countedBeforeWindow,
    duplicatesInWindow,
  };
}

/** Ground truth of an impaired RTCP path. */
export function rtcpPathTruth(fates: readonly FateRecord[]): RtcpPathTruth {
  const s = summarizeFates(fates);
  return { sent: s.packets, lost: s.lost, lossRate: s.lossRate, meanDelayMs: s.delay.mean };
}

export function truthFigures(fates: readonly FateRecord[], window?: { fromId: number; toId: number }): TruthFigures {
  const s = summarizeFates(fates);
  let delayed = 0;
  let duplicated = 0;
  const release = { lateCopies: 0, maxLateMs: 0 };
  let retransmitted = 0;
  for (const r of fates) {
    if (r.retransmitted) retransmitted++;
    if (!r.dropped && r.copy === 0 && (r.delayMs ?? 0) > DELAYED_THRESHOLD_MS) delayed++;
    if (r.copy === 0 && r.duplicated) duplicated++;
    if (r.releasedAtMs !== undefined && r.deliveredAtMs !== undefined) {
      const late = r.releasedAtMs - r.deliveredAtMs;
      if (late > LATE_RELEASE_MS) release.lateCopies++;
      if (late > release.maxLateMs) release.maxLateMs = late;
    }
  }
  let w: TruthFigures['window'];
  if (window) w = windowCounts(fates, window);
  return {
    sent: s.packets,
    lost: s.lost,
    lossRate: s.lossRate,
    droppedByLoss: s.droppedByLoss,
    droppedByQueue: s.droppedByQueue,
    droppedByTail: s.droppedByTail,
    droppedByAqm: s.droppedByAqm,
    inFlight: s.inFlight,
    sojourn: { count: s.sojourn.count, p50: s.sojourn.p50, p95: s.sojourn.p95, max: s.sojourn.max, mean: s.sojourn.mean },
    delayed,
    reordered: s.reordered,
    duplicated,
    retransmitted,
    lossRuns: s.runs.lossRuns,
    gapRuns: s.runs.gapRuns,
    meanLossRun: s.runs.meanLossRun,
    meanGapRun: s.runs.meanGapRun,
    burstGap: s.burstGap,
    delay: s.delay,
    release,
    window: w,
  };
}

export function rtcpFigures(records: readonly ReceiverReportRecord[], truth: TruthFigures, rx: TrackReceiver): RtcpFigures {
  // The receiver's very first RR (sent to open the UDP path) reports nothing: skip empty ones.
  const rr = records.filter((r) => r.extendedHighestSeq !== 0 || r.cumulativeLost !== 0);
  const last = rr[rr.length - 1];
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
  const rtts = rr.map((r) => r.rttMs).filter((x): x is number => x !== undefined);
  const w = truth.window;
  return {
    receiverReports: rr.length,
    lastFractionLost: last?.fractionLost,
    meanFractionLost: mean(rr.map((r) => r.fractionLost)),
    cumulativeLost: last?.cumulativeLost,
    cumulativeLostError: last && w ? last.cumulativeLost - w.rfcLost : undefined,
    reportedLossRate: last && w && w.packets > 0 ? last.cumulativeLost / w.packets : undefined,
    jitterMs: last?.jitterMs,
    maxJitterMs: rr.length ? Math.max(...rr.map((r) => r.jitterMs)) : undefined,
    rttMs: mean(rtts),
    senderReports: rx.counters.senderReports,
    byeReceived: rx.byeReceived,
  };
}

export function trackResult(
  rx: TrackReceiver,
  fates: readonly FateRecord[],
  seq0: number | undefined,
  records: readonly ReceiverReportRecord[],
  rtcpPaths: { forward?: readonly FateRecord[]; return?: readonly FateRecord[] } = {},
): TrackResult {
  const snap = rx.receiverStats?.snapshot();
  const window = snap && seq0 !== undefined ? statsWindow(seq0, snap.baseSeq, snap.expected) : undefined;
  const truth = truthFigures(fates, window);
  const jb = rx.jitterStats();
  const expected = snap?.expected ?? 0;
  return {
    track: rx.track.index,
    media: rx.track.media,
    codec: rx.track.codec ?? rx.track.encodingName,
    truth,
    rtcp: rtcpFigures(records, truth, rx),
    ...(rtcpPaths.forward || rtcpPaths.return
      ? {
          rtcpPaths: {
            forward: rtcpPaths.forward && rtcpPathTruth(rtcpPaths.forward),
            return: rtcpPaths.return && rtcpPathTruth(rtcpPaths.return),
          },
        }
      : {}),
    receiver: {
      received: snap?.received ?? 0,
      expected,
      lost: snap?.lost ?? 0,
      duplicates: snap?.duplicates ?? 0,
      reordered: snap?.reordered ?? 0,
      jitterMs: snap?.jitterMs ?? 0,
    },
    jitterBuffer: {
      mode: jb.mode,
      late: jb.late,
      lost: jb.lost,
      effectiveLossRate: expected > 0 ? jb.lost / expected : 0,
      meanPlayoutDelayMs: jb.meanPlayoutDelayMs,
      meanTargetDelayMs: jb.meanTargetDelayMs,
      forced: jb.forced,
      duplicates: jb.duplicates,
    },
    units: { total: rx.counters.units, incomplete: rx.counters.incompleteUnits, skippedUntilKeyframe: rx.counters.skippedUntilKeyframe },
  };
}

/** One sample per track of the receivers' state (the series behind "playout delay over time"). */
export function sampleReceivers(receivers: readonly TrackReceiver[], t: number): SeriesPoint[] {
  return receivers.map((r) => {
    const jb = r.jitterStats();
    const snap = r.receiverStats?.snapshot();
    return {
      t: Math.round(t * 1000) / 1000,
      track: r.track.index,
      media: r.track.media,
      playoutDelayMs: round(jb.playoutDelayMs),
      targetDelayMs: round(jb.targetDelayMs),
      jitterMs: round(snap?.jitterMs ?? 0),
      late: jb.late,
      lost: jb.lost,
      packets: r.counters.packets,
    };
  });
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/**
 * E-model estimate for an audio track: Ppl is the effective loss after the jitter buffer (network
 * loss + late), BurstR from the ground-truth loss sequence's Gilbert estimate.
 */
export function audioEstimate(t: TrackResult, fates: readonly FateRecord[], codec: EmodelCodec): EmodelResult & { codec: string } {
  const lost = packetFates(fates).map((p) => p.lost);
  const { burstR } = gilbertEstimate(lost);
  const ppl = Math.min(100, Math.max(0, t.jitterBuffer.effectiveLossRate * 100));
  return { ...emodel(codec, ppl, burstR), codec: codec.name };
}

/** Event-loop delay beyond which a real-time run's timing is flagged as doubtful. */
export const EVENT_LOOP_STALL_MS = 50;

/**
 * What makes a run's figures doubtful, one sentence each: delayed packets the host released late
 * (the emulated delays and reordering were not the model's), an event loop blocked for long,
 * datagrams the kernel dropped before the receiver read them.
 */
export function runFlags(tracks: readonly TrackResult[], eventLoop: { maxMs: number } | undefined, kernelDrops?: number): string[] {
  const flags: string[] = [];
  const late = tracks.reduce((n, t) => n + t.truth.release.lateCopies, 0);
  if (late > 0) {
    const worst = Math.max(...tracks.map((t) => t.truth.release.maxLateMs));
    flags.push(`host stall: ${late} delayed packets left more than ${LATE_RELEASE_MS} ms late (worst ${worst.toFixed(1)} ms)`);
  }
  if (eventLoop && eventLoop.maxMs > EVENT_LOOP_STALL_MS) flags.push(`event loop blocked up to ${eventLoop.maxMs.toFixed(0)} ms`);
  if (kernelDrops)
    flags.push(
      `the kernel dropped ${kernelDrops} datagrams before the receiver read them (receive buffer full): losses the ground truth does not have`,
    );
  return flags;
}
