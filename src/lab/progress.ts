/**
 * A one-line progress bar with ETA across runs, for a terminal (stderr TTY); silent otherwise.
 */

export class ProgressBar {
  private readonly started = performance.now();
  private done = 0;
  private failed = 0;

  constructor(
    private readonly total: number,
    private readonly out: NodeJS.WriteStream | undefined = process.stderr.isTTY ? process.stderr : undefined,
  ) {}

  /** Text of the bar (also used by tests). */
  line(nowMs = performance.now(), width = 30): string {
    const frac = this.total === 0 ? 1 : this.done / this.total;
    const filled = Math.round(frac * width);
    const elapsed = (nowMs - this.started) / 1000;
    const eta = this.done === 0 ? undefined : (elapsed / this.done) * (this.total - this.done);
    return (
      `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total}${this.failed ? ` (${this.failed} failed)` : ''} ` +
      `elapsed ${clock(elapsed)}${eta === undefined ? '' : ` ETA ${clock(eta)}`}`
    );
  }

  tick(ok: boolean): void {
    this.done++;
    if (!ok) this.failed++;
    this.render();
  }

  render(): void {
    this.out?.write(`\r\x1b[2K${this.line()}`);
  }

  finish(): void {
    if (this.out) this.out.write('\n');
  }
}

function clock(s: number): string {
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}
