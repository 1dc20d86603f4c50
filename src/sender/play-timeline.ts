/**
 * Maps the session's media time (npt seconds) to the scheduler clock while playing: media time
 * `startNpt` is due at clock time `startMs`, and time runs at `scale` (1 = real time).
 */
export class PlayTimeline {
  startNpt = 0;
  startMs = 0;
  scale = 1;

  start(npt: number, nowMs: number, scale = 1): void {
    this.startNpt = npt;
    this.startMs = nowMs;
    this.scale = scale;
  }

  mediaTimeAt(nowMs: number): number {
    return this.startNpt + ((nowMs - this.startMs) / 1000) * this.scale;
  }

  clockTimeOf(npt: number): number {
    return this.startMs + ((npt - this.startNpt) * 1000) / this.scale;
  }
}
