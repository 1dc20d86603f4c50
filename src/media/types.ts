/**
 * Public types of the media layer: tracks with compact per-sample tables (typed arrays), and an
 * open media file that reads samples by offset.
 */

export type TrackKind = 'video' | 'audio' | 'other';

/** 'h264' | 'h265' | 'aac' | 'opus' | 'mp3' | 'pcmu' | 'pcma', or the sample entry fourcc. */
export type CodecName = 'h264' | 'h265' | 'aac' | 'opus' | 'mp3' | 'pcmu' | 'pcma' | (string & {});

/**
 * Per-sample tables, indexed by sample number in decode (file) order. Times are in ticks of the
 * track timescale, already on the movie's presentation timeline (edit list applied: see
 * Track.editShiftTicks), so a sample before the presentation start has a negative pts.
 */
export interface SampleTable {
  count: number;
  /** Absolute byte offset of each sample in the file. */
  offsets: Float64Array;
  sizes: Uint32Array;
  dts: Float64Array;
  /** dts + composition offset (ctts). */
  pts: Float64Array;
  /** 1 for sync samples (stss; all samples when stss is absent), else 0. */
  keyframe: Uint8Array;
}

export interface Track {
  /** tkhd track_ID. */
  id: number;
  kind: TrackKind;
  codec: CodecName;
  /** Sample entry type from stsd, e.g. 'avc1', 'mp4a' ('' when the track has no sample entry). */
  fourcc: string;
  /** Ticks per second of the track (mdhd). */
  timescale: number;
  /**
   * How long the track plays: the sum of the non-empty edits when there is an edit list (an
   * initial delay is not included; it shows in pts), else the mdhd duration.
   */
  durationSec: number;
  sampleCount: number;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  /** MPEG-4 objectTypeIndication from esds (0x40 = MPEG-4 audio, 0x69/0x6b = MP3, ...). */
  objectTypeIndication?: number;
  /** avcC / hvcC box payload, AudioSpecificConfig for AAC, dOps payload for Opus. */
  codecConfig?: Buffer;
  samples: SampleTable;
  /** Ticks added to raw media dts/pts: (initial empty edit, in track ticks) - media_time. */
  editShiftTicks: number;
  /** Set when the edit list had parts that were not honoured (only the first edit is applied). */
  editListNote?: string;
}

export interface MediaFile {
  path: string;
  /** mvhd duration, or the longest track when mvhd has none. */
  durationSec: number;
  tracks: Track[];
  /** ftyp major brand, e.g. 'isom', 'qt  '. */
  brand?: string;
  /** Reads one sample (a fresh Buffer). Rejects with MediaError. */
  readSample(track: Track, index: number): Promise<Buffer>;
  /**
   * Reads samples [from, to): contiguous runs (up to MAX_READ_RUN_BYTES) in one read each; the
   * results are views into the run buffers.
   */
  readSamples(track: Track, from: number, to: number): Promise<Buffer[]>;
  /** Closes the file handle; idempotent. Reads after close reject with MEDIA_ERR_CLOSED. */
  close(): Promise<void>;
}
