/**
 * server/media-entry: the shape of an open media file as the catalog serves it (its own file so
 * that media-catalog.ts and growing-entry.ts both use it without importing each other).
 */
import type { MediaFile } from '../media/index.ts';
import type { PreparedMedia } from '../media/prepare/index.ts';
import type { PacketizedTrack, TrackGrowth } from '../sender/packetized-track.ts';
import type { SendLattice } from '../sender/send-grid.ts';

/** A served track: its control name in URLs (`trackID=N`) and its packet source. */
export interface ServedTrack {
  control: string;
  source: PacketizedTrack;
}

/** An open media file shared by every session that plays it. */
export interface MediaEntry {
  relPath: string;
  filePath: string;
  file: MediaFile;
  durationSec: number;
  tracks: ServedTrack[];
  /** Tracks in the file that are not streamed, with the reason (shown by `probe`). */
  skipped: { id: number; codec: string; reason: string }[];
  refs: number;
  /** Set when the file was prepared through ffmpeg (what is served is `prepared.outputPath`). */
  prepared?: PreparedMedia;
  /** Set on a preparation's output played while it is written (growing-entry.ts). */
  growth?: TrackGrowth;
  /** The served tracks' send grid (send-grid.ts): sessions at Scale and Speed 1 start on it. */
  sendGridMs?: number;
  /**
   * The served tracks' send lattice (send-grid.ts), preferred to the grid: sessions at Scale and
   * Speed 1 start on it, send audio at its instants and video at its midpoints.
   */
  sendLattice?: SendLattice;
}
