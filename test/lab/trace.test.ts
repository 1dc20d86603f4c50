/**
 * `trace FILE` in an experiment: the loss trace is read relative to the experiment file and
 * replayed packet by packet, so the ground truth is the trace itself.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExperimentError, expandRuns, loadExperiment, runFast, trackResult } from '../../src/lab/index.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'streamlab-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, doc: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

describe('loss traces in experiments', () => {
  it('replays the trace: 3 of every 10 packets lost, in runs of 2 and 1', async () => {
    // Period of 10: packets 3, 4 and 9 are lost.
    writeFileSync(path.join(dir, 'pattern.txt'), '# lost = 1\n0 0 0 1 1 0 0 0 0 1\n');
    const e = await loadExperiment(
      write('trace.json', {
        name: 'trace',
        mode: 'fast',
        media: path.resolve('media/sample.mp4'),
        durationSec: 4,
        seeds: [1],
        quality: false,
        matrix: { netem: ['trace pattern.txt'] },
      }),
    );
    const [spec] = expandRuns(e);
    const obs = await runFast(spec!, undefined);
    const fates = obs.fates[0]!;
    expect(fates.length).toBeGreaterThan(100);
    // Ids count the track's RTP packets from 0: the trace decides each one.
    for (const f of fates) expect(f.dropped, `packet ${f.id}`).toBe([3, 4, 9].includes(f.id % 10));
    const video = trackResult(obs.receivers[0]!, fates, obs.seq0[0], obs.reports[0]!);
    expect(video.truth.lost).toBe(fates.filter((f) => f.dropped).length);
    expect(video.truth.meanLossRun).toBeCloseTo(1.5, 1);
  });

  it('names the field when the trace file is missing', async () => {
    const file = write('missing.json', {
      name: 'm',
      mode: 'fast',
      media: path.resolve('media/sample.mp4'),
      matrix: { netem: ['delay 10ms', 'trace nope.txt'] },
    });
    const err = await loadExperiment(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExperimentError);
    expect((err as ExperimentError).message).toContain('experiment.matrix.netem[1]');
  });
});
