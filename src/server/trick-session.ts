import type { Track } from '../media/index.ts';
import type { RtpStream } from '../sender/rtp-stream.ts';
import { startIndexFor } from '../sender/seek.ts';
import { TrickCursor, keyframePosition, keyframeTable, playModeOf } from '../sender/trick-play.ts';

/** What a PLAY at Scale ≠ 1 (or back to 1 from it) needs to position a session's streams. */
export interface TrickPlayInput {
  streams: readonly { stream: RtpStream; track: Track }[];
  /** Where the session stands: the playing position, the paused one, or 0 before the first PLAY. */
  currentNpt: number;
  /** The Range start asked for, if any (a seek); else playing continues from currentNpt. */
  rangeStart: number | undefined;
  /** Fast forward (and Scale ≤ 1): where to stop; rewind: the lower end (0 when absent). */
  rangeEnd: number | undefined;
  scale: number;
  speed: number;
  durationSec: number;
}

/** Mean sample duration in RTP clock units: the gap kept after the last frame sent on a retime. */
function frameTicks(stream: RtpStream, track: Track): number {
  return track.sampleCount > 0 ? Math.round((track.durationSec / track.sampleCount) * stream.clockRate) : 1;
}

/**
 * Starts every stream's RTP timing segment at `startNpt`, at scheduler time `nowMs` (see
 * RtpStream.retime: the RTP clock runs on with wall time across PLAYs). Called once the streams are
 * positioned, right before RTP-Info is written; the session's timeline starts at the same `nowMs`.
 */
export function retimeStreams(
  streams: readonly { stream: RtpStream; track: Track }[],
  startNpt: number,
  scale: number,
  speed: number,
  nowMs: number,
): void {
  for (const { stream, track } of streams) stream.retime(startNpt, scale, speed, nowMs, frameTicks(stream, track));
}

/**
 * Positions every stream for a segment at `scale` (the session has stopped them): keyframe cursors
 * for video and muted other tracks at Scale > 1 or < 0; every sample at Scale 1 (from the keyframe at
 * or before the position) and every video frame in slow motion. Returns the segment's actual start
 * and end (the end of a rewind is its lower bound); retimeStreams then sets their RTP clocks.
 */
export async function positionStreams(input: TrickPlayInput): Promise<{ startNpt: number; endNpt: number | undefined }> {
  const { streams, currentNpt, rangeStart, rangeEnd, scale, speed, durationSec } = input;
  const mode = playModeOf(scale);
  if (mode !== 'keyframes') {
    const positions = startIndexFor(
      streams.map((s) => s.track),
      rangeStart ?? currentNpt,
    );
    const start = positions.startNpt;
    const end = rangeEnd !== undefined && rangeEnd < durationSec ? rangeEnd : undefined;
    await Promise.all(
      streams.map(async ({ stream, track }, i) => {
        if (mode === 'slow' && track.kind !== 'video') stream.mute(end ?? durationSec, true);
        else await stream.seek(positions.indices[i]!, end ?? Infinity);
      }),
    );
    return { startNpt: start, endNpt: end };
  }

  const forward = scale > 0;
  const lead = streams.find((s) => s.track.kind === 'video');
  let start = Math.max(0, Math.min(durationSec, rangeStart ?? currentNpt));
  if (rangeStart !== undefined && lead) {
    // A seek: like Scale 1, start at the keyframe at or before the position asked for.
    const table = keyframeTable(lead.track);
    const k = keyframePosition(table, start, 'at-or-before');
    if (k >= 0) start = Math.max(0, table.pts[k]!);
  }
  const end = forward ? (rangeEnd !== undefined && rangeEnd < durationSec ? rangeEnd : undefined) : Math.max(0, rangeEnd ?? 0);
  await Promise.all(
    streams.map(async ({ stream, track }) => {
      if (track.kind !== 'video') {
        stream.mute(end ?? durationSec, forward);
        return;
      }
      const table = keyframeTable(track);
      // Continuing: the next keyframe the position reaches, ahead for fast forward, behind for rewind.
      const snap = rangeStart !== undefined || !forward ? 'at-or-before' : 'at-or-after';
      const position = keyframePosition(table, start, snap);
      const cursor = new TrickCursor(
        table,
        { startNpt: start, scale, speed, clockRate: stream.clockRate, endNpt: end ?? (forward ? Infinity : 0) },
        position < 0 ? table.index.length : position,
      );
      await stream.seekTrick(cursor);
    }),
  );
  return { startNpt: start, endNpt: end };
}
