/**
 * A one-line progress bar for preparations on a terminal (stderr when it is a TTY, else silent):
 * `[#########.........]  45%  clip.webm  transcode  ETA 12s`, redrawn at most 5 times a second.
 */
import path from 'node:path';
import type { PrepareProgress } from './preparer.ts';
import { realClock } from '../../util/clock.ts';
import type { Clock } from '../../util/clock.ts';

export function renderProgressLine(name: string, p: PrepareProgress, width = 24): string {
  const f = p.fraction ?? 0;
  const filled = Math.round(f * width);
  const pct = `${Math.floor(f * 100)}`.padStart(3);
  const eta = p.etaSec !== undefined && Number.isFinite(p.etaSec) ? `ETA ${formatSeconds(p.etaSec)}` : '';
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}%  ${path.basename(name)}  ${p.stage}  ${eta}`.trimEnd();
}

export function formatSeconds(s: number): string {
  const r = Math.max(0, Math.round(s));
  return r >= 60 ? `${Math.floor(r / 60)}m${String(r % 60).padStart(2, '0')}s` : `${r}s`;
}

export class TtyProgressBar {
  private lastDraw = -Infinity;
  private shown = false;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly clock: Clock = realClock,
  ) {}

  get enabled(): boolean {
    return this.out.isTTY === true;
  }

  update(name: string, p: PrepareProgress): void {
    if (!this.enabled) return;
    const now = this.clock.now();
    if (now - this.lastDraw < 200) return;
    this.lastDraw = now;
    const cols = this.out.columns && this.out.columns > 20 ? this.out.columns : 80; // a pty may say 0
    this.out.write(`\r${renderProgressLine(name, p).slice(0, cols - 1)}\x1b[K`);
    this.shown = true;
  }

  /** Clears the bar (before other output, or at the end). */
  clear(): void {
    if (!this.enabled || !this.shown) return;
    this.out.write('\r\x1b[K');
    this.shown = false;
  }
}
