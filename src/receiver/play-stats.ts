import type { PlaySession } from './play-session.ts';
import { formatStatusLine } from './status-line.ts';
import { reorderAllowanceMs } from './track-receiver.ts';

/** One track's figures at a moment (cumulative), as `--stats-json` and the status line show them. */
export interface TrackStats {
  track: number;
  media: string;
  codec: string | undefined;
  packets: number;
  bytes: number;
  /** RFC 3550 A.3 over the whole run. */
  expected: number;
  lost: number;
  duplicates: number;
  reordered: number;
  /** RFC 3550 A.8 interarrival jitter in ms. */
  jitterMs: number;
  /** lost / expected, percent (0 before any packet). */
  lostPercent: number;
  /** Jitter buffer: packets dropped for arriving after their deadline. */
  late: number;
  /** Target delay now and its mean over the run (sampled at each access unit). */
  targetDelayMs: number;
  /**
   * Part of the target that is not network allowance: the B-frame reorder depth × frame duration
   * of a video track (its frames are sent before they are shown), added to --jitter-buffer.
   */
  reorderAllowanceMs: number;
  meanTargetDelayMs: number;
  /** Time the last released packet was held, and the mean over every packet of the run. */
  playoutDelayMs: number;
  meanPlayoutDelayMs: number;
  /** Packets the jitter buffer released. */
  released: number;
  depthPackets: number;
  depthMs: number;
  units: number;
  incompleteUnits: number;
  skippedUntilKeyframe: number;
  malformedRtp: number;
  malformedRtcp: number;
  wrongPayloadType: number;
  foreignSsrc: number;
  senderReports: number;
  byes: number;
  /**
   * Round-trip time as the server sees it, from its DLRR answers to our RRTRs (RFC 3611): the
   * latest, mean, min and max in ms and how many answers; absent when the server sent none.
   */
  rtt?: { lastMs: number; meanMs: number; minMs: number; maxMs: number; samples: number };
}

export interface SecondSample {
  t: number;
  /**
   * Per track: bitrate over the last second, cumulative packets/lost/late, A.8 jitter now, the
   * jitter buffer's target, and the mean time packets released in the last second were held.
   */
  tracks: {
    track: number;
    kbps: number;
    packets: number;
    lost: number;
    late: number;
    jitterMs: number;
    targetMs: number;
    delayMs: number;
    rttMs?: number;
  }[];
}

export function trackStats(session: PlaySession): TrackStats[] {
  return session.receivers.map((r) => {
    const rs = r.receiverStats?.snapshot();
    const jb = r.jitterStats();
    const c = r.counters;
    return {
      track: r.track.index,
      media: r.track.media,
      codec: r.track.codec,
      packets: c.packets,
      bytes: c.bytes,
      expected: rs?.expected ?? 0,
      lost: rs?.lost ?? 0,
      lostPercent: rs && rs.expected > 0 ? (100 * rs.lost) / rs.expected : 0,
      duplicates: rs?.duplicates ?? 0,
      reordered: rs?.reordered ?? 0,
      jitterMs: r.receiverStats?.jitterMs ?? 0,
      late: jb.late,
      targetDelayMs: jb.targetDelayMs,
      reorderAllowanceMs: reorderAllowanceMs(r.track),
      meanTargetDelayMs: jb.meanTargetDelayMs,
      playoutDelayMs: jb.playoutDelayMs,
      meanPlayoutDelayMs: jb.meanPlayoutDelayMs,
      released: jb.released,
      depthPackets: jb.depthPackets,
      depthMs: jb.depthMs,
      units: c.units,
      incompleteUnits: c.incompleteUnits,
      skippedUntilKeyframe: c.skippedUntilKeyframe,
      malformedRtp: c.malformedRtp,
      malformedRtcp: c.malformedRtcp,
      wrongPayloadType: c.wrongPayloadType,
      foreignSsrc: c.foreignSsrc,
      senderReports: c.senderReports,
      byes: c.byes,
      ...(r.rtt
        ? {
            rtt: {
              lastMs: round(r.rtt.lastMs, 2),
              meanMs: round(r.rtt.meanMs, 2),
              minMs: round(r.rtt.minMs, 2),
              maxMs: round(r.rtt.maxMs, 2),
              samples: r.rtt.samples,
            },
          }
        : {}),
    };
  });
}

/** Samples the session once a second into a series (bitrate from the byte deltas). */
export class StatsSeries {
  readonly samples: SecondSample[] = [];
  private last = new Map<number, { bytes: number; t: number; released: number; delaySum: number; delayMs: number }>();

  sample(session: PlaySession, t: number): SecondSample {
    const s: SecondSample = {
      t,
      tracks: trackStats(session).map((x) => {
        const prev = this.last.get(x.track);
        // Mean hold time of the packets released since the last sample (the cumulative mean's delta).
        const delaySum = x.meanPlayoutDelayMs * x.released;
        const newly = x.released - (prev?.released ?? 0);
        const delayMs = newly > 0 ? (delaySum - (prev?.delaySum ?? 0)) / newly : (prev?.delayMs ?? 0);
        this.last.set(x.track, { bytes: x.bytes, t, released: x.released, delaySum, delayMs });
        const dt = prev ? t - prev.t : 0;
        return {
          track: x.track,
          kbps: prev && dt > 0 ? Math.round(((x.bytes - prev.bytes) * 8) / dt / 1000) : 0,
          packets: x.packets,
          lost: x.lost,
          late: x.late,
          jitterMs: round(x.jitterMs, 2),
          targetMs: round(x.targetDelayMs, 1),
          delayMs: round(delayMs, 1),
          ...(x.rtt ? { rttMs: x.rtt.lastMs } : {}),
        };
      }),
    };
    this.samples.push(s);
    return s;
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The one refreshing status line shown in a terminal `columns` wide (status-line.ts). */
export function statusLine(session: PlaySession, series: StatsSeries, columns?: number): string {
  const last = series.samples[series.samples.length - 1];
  const tracks = trackStats(session).map((x) => {
    const now = last?.tracks.find((t) => t.track === x.track);
    return {
      media: x.media,
      kbps: now?.kbps ?? 0,
      packets: x.packets,
      lost: x.lost,
      late: x.late,
      jitterMs: x.jitterMs,
      delayMs: now?.delayMs ?? 0,
      targetMs: x.targetDelayMs,
      rttMs: x.rtt?.lastMs,
    };
  });
  return formatStatusLine(
    { paused: session.paused, positionSec: session.mediaPosition(), transport: session.transportUsed, tracks },
    columns,
  );
}
