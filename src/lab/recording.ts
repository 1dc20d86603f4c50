/**
 * A sink wrapper that records what the receiver played out (through the receiver's own
 * TsOutputSink → ffmpeg remux) and notes the presentation times of the video units it was given,
 * so the recording can be aligned with the source afterwards.
 */

import type { ReceivedUnit, SdpTrack, Sink, SinkResult } from '../receiver/index.ts';

/** Cap on noted video presentation times (a day of 60 fps video). */
export const MAX_NOTED_VIDEO_UNITS = 6_000_000;

export class RecordingTap implements Sink {
  /** Presentation times (npt seconds) of video units handed to the recording. */
  readonly videoPts: number[] = [];
  videoTrack: number | undefined;
  private opened = false;

  constructor(private readonly inner: Sink) {}

  open(tracks: SdpTrack[]): void | Promise<void> {
    this.videoTrack = tracks.find((t) => t.media === 'video' && t.codec)?.index;
    this.opened = true;
    return this.inner.open(tracks);
  }

  write(unit: ReceivedUnit): void {
    if (!this.opened) return;
    if (unit.track === this.videoTrack && this.videoPts.length < MAX_NOTED_VIDEO_UNITS) this.videoPts.push(unit.ptsSec);
    this.inner.write(unit);
  }

  close(): Promise<SinkResult> {
    return this.inner.close();
  }
}
