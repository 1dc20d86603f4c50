import type { SdpTrack } from '../sdp-tracks.ts';
import type { ReceivedUnit } from '../track-receiver.ts';

/** Where received access units go: a player, a recording, or only counters. */
export interface Sink {
  /** The tracks, known before the first unit. */
  open(tracks: SdpTrack[]): void | Promise<void>;
  write(unit: ReceivedUnit): void;
  /**
   * Finishes (flushes, waits for the child process); resolves with what it saw. `cut` (default
   * true): the stream was stopped mid-way (--duration, Ctrl-C, an error), not played to its end,
   * so a recording ends on whole pictures (see CleanEnd).
   */
  close(options?: SinkCloseOptions): Promise<SinkResult>;
}

export interface SinkCloseOptions {
  cut?: boolean;
}

export interface SinkResult {
  /** Access units handed to the sink, per track index. */
  units: Record<number, number>;
  /**
   * Frames decoded per track index, when the sink decodes: of the track's own media kind (an MP2T
   * video track's video frames; its audio is in decodedByKind).
   */
  decodedFrames?: Record<number, number>;
  /** Frames decoded per track index and media kind (`video`, `audio`), when the sink decodes. */
  decodedByKind?: Record<number, Record<string, number>>;
  decodeErrors?: number;
  /** G.711 tracks: samples of silence written for lost or missing packets, per track index. */
  filledSamples?: Record<number, number>;
  /** Problems the sink's process reported (e.g. ffmpeg warnings), one line each. */
  messages: string[];
}

/** Counts access units per track; the headless check when nothing else is wanted. */
export class CountingSink implements Sink {
  private readonly units: Record<number, number> = {};

  open(tracks: SdpTrack[]): void {
    for (const t of tracks) if (t.codec) this.units[t.index] = 0;
  }

  write(unit: ReceivedUnit): void {
    this.units[unit.track] = (this.units[unit.track] ?? 0) + 1;
  }

  async close(): Promise<SinkResult> {
    return { units: { ...this.units }, messages: [] };
  }
}
