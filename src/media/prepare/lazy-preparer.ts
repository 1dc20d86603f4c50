/**
 * A MediaPreparer that loads the Preparer (preparer.ts, and behind it the cache, the plan, the
 * input guard, ffmpeg's locator and fluent-ffmpeg) at its first prepare(): a server whose files
 * are all MP4/MOV never loads them. A job asked for while the module loads reports 'queued'
 * until the Preparer has it.
 */
import path from 'node:path';
import { realClock } from '../../util/clock.ts';
import type { MediaPreparer, PreparationJob, Preparer, PreparerOptions } from './preparer.ts';

export class LazyPreparer implements MediaPreparer {
  private loading: Promise<Preparer> | undefined;
  private preparer: Preparer | undefined;

  constructor(readonly opts: PreparerOptions) {}

  /** The Preparer, made on the first call. */
  load(): Promise<Preparer> {
    this.loading ??= import('./preparer.ts').then(({ Preparer }) => (this.preparer = new Preparer(this.opts)));
    return this.loading;
  }

  prepare(filePath: string): PreparationJob {
    if (this.preparer) return this.preparer.prepare(filePath);
    const clock = this.opts.clock ?? realClock;
    const started = clock.now();
    let job: PreparationJob | undefined;
    const ready = this.load().then((p) => (job = p.prepare(filePath)));
    return {
      sourcePath: path.resolve(filePath),
      done: ready.then((j) => j.done),
      progress: () => job?.progress() ?? { elapsedMs: clock.now() - started, stage: 'queued' },
      growing: ready.then((j) => j.growing),
    };
  }

  /** Only the Preparer hands out files: before it is loaded there is nothing to release. */
  release(outputPath: string): void {
    this.preparer?.release(outputPath);
  }

  async close(): Promise<void> {
    const p = await this.loading?.catch(() => undefined);
    await p?.close();
  }
}
