/**
 * Runs an experiment's matrix: runs one after another (or N at a time), results.json/csv rewritten
 * after every run, a failed run recorded with its reason while the matrix goes on, a stop request
 * (SIGINT) honoured between runs with everything so far written, then plots and index.html.
 *
 * Parallel real-time runs share the machine's cores and disturb each other's timing (jitter, late
 * loss, event-loop delay): keep `parallel` at 1 for real-time runs on small machines; fast runs
 * only contend for CPU, not for time.
 */

import { mkdir } from 'node:fs/promises';
import { expandRuns } from './experiment.ts';
import type { Experiment, RunSpec } from './experiment.ts';
import { ProgressBar } from './progress.ts';
import type { RunResult } from './result-types.ts';
import { writeResults } from './results-io.ts';
import { writeReport } from './report.ts';
import { runOne } from './run-one.ts';

export interface LabOptions {
  outDir: string;
  parallel?: number;
  /** Set to stop after the runs in progress. */
  signal?: AbortSignal;
  /** Progress output (default: a bar on stderr when it is a TTY). */
  progress?: ProgressBar;
  /** Called after each run. */
  onRun?(r: RunResult): void;
  /** Override the experiment's PSNR/SSIM setting. */
  quality?: boolean;
}

export interface LabOutcome {
  results: RunResult[];
  planned: number;
  stopped: boolean;
  plots: string[];
}

export async function runExperiment(e: Experiment, o: LabOptions): Promise<LabOutcome> {
  await mkdir(o.outDir, { recursive: true });
  const runs = expandRuns(e);
  const results: RunResult[] = [];
  const progress = o.progress ?? new ProgressBar(runs.length);
  const { netem, ...rest } = e;
  const experiment = {
    ...rest,
    netem: netem.map((n) => n.text),
    impairment: netem.map((n) => ({ condition: n.text, appliesTo: n.scope })),
  };
  let stopped = false;
  let writing = Promise.resolve();
  const save = (complete: boolean) => {
    const snapshot = [...results];
    writing = writing.then(() =>
      writeResults(o.outDir, {
        experiment,
        planned: runs.length,
        finished: snapshot.length,
        complete,
        stoppedBy: stopped ? 'stop request' : undefined,
        runs: snapshot,
      }),
    );
    return writing;
  };
  await save(false);
  progress.render();
  const queue: RunSpec[] = [...runs];
  const worker = async () => {
    for (;;) {
      if (o.signal?.aborted) {
        stopped = queue.length > 0;
        return;
      }
      const spec = queue.shift();
      if (!spec) return;
      const r = await runOne(spec, { outDir: o.outDir, quality: o.quality });
      results.push(r);
      progress.tick(r.status === 'ok');
      o.onRun?.(r);
      await save(false);
    }
  };
  const n = Math.max(1, Math.min(o.parallel ?? 1, runs.length));
  await Promise.all(Array.from({ length: n }, worker));
  if (o.signal?.aborted && results.length < runs.length) stopped = true;
  await save(!stopped);
  progress.finish();
  const plots = await writeReport(
    o.outDir,
    e.name,
    results.sort((a, b) => a.index - b.index),
  );
  return { results, planned: runs.length, stopped, plots };
}
