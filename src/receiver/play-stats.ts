import type { PlaySession } from './play-session.ts';

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
  /** Jitter buffer. */
  late: number;
  targetDelayMs: number;
  playoutDelayMs: number;
  depthPackets: number;
  depthMs: number;
  units: number;
  incompleteUnits: number;
  skippedUntilKeyframe: number;
  malformedRtp: number;
  malformedRtcp: number;
  foreignSsrc: number;
  senderReports: number;
}

export interface SecondSample {
  t: number;
  tracks: { track: number; kbps: number; packets: number; lost: number; late: number; jitterMs: number; delayMs: number }[];
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
      duplicates: rs?.duplicates ?? 0,
      reordered: rs?.reordered ?? 0,
      jitterMs: r.receiverStats?.jitterMs ?? 0,
      late: jb.late,
      targetDelayMs: jb.targetDelayMs,
      playoutDelayMs: jb.playoutDelayMs,
      depthPackets: jb.depthPackets,
      depthMs: jb.depthMs,
      units: c.units,
      incompleteUnits: c.incompleteUnits,
      skippedUntilKeyframe: c.skippedUntilKeyframe,
      malformedRtp: c.malformedRtp,
      malformedRtcp: c.malformedRtcp,
      foreignSsrc: c.foreignSsrc,
      senderReports: c.senderReports,
    };
  });
}

/** Samples the session once a second into a series (bitrate from the byte deltas). */
export class StatsSeries {
  readonly samples: SecondSample[] = [];
  private last = new Map<number, { bytes: number; t: number }>();

  sample(session: PlaySession, t: number): SecondSample {
    const s: SecondSample = {
      t,
      tracks: trackStats(session).map((x) => {
        const prev = this.last.get(x.track);
        this.last.set(x.track, { bytes: x.bytes, t });
        const dt = prev ? t - prev.t : 0;
        return {
          track: x.track,
          kbps: prev && dt > 0 ? Math.round(((x.bytes - prev.bytes) * 8) / dt / 1000) : 0,
          packets: x.packets,
          lost: x.lost,
          late: x.late,
          jitterMs: round(x.jitterMs, 2),
          delayMs: round(x.playoutDelayMs, 1),
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

/** The one refreshing status line shown in a terminal. */
export function statusLine(session: PlaySession, series: StatsSeries): string {
  const last = series.samples[series.samples.length - 1];
  const parts = trackStats(session).map((x) => {
    const kbps = last?.tracks.find((t) => t.track === x.track)?.kbps ?? 0;
    return `${x.media[0]}: ${kbps} kb/s ${x.packets} pkts lost ${x.lost} late ${x.late} jitter ${x.jitterMs.toFixed(1)} ms buf ${x.playoutDelayMs.toFixed(0)} ms`;
  });
  return `${session.mediaPosition().toFixed(1)} s | ${parts.join(' | ')}`;
}
