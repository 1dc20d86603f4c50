/**
 * `trace FILE` in an experiment: the loss trace is read relative to the experiment file and
 * replayed packet by packet, so the ground truth is the trace itself.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExperimentError, csvColumns, expandRuns, loadExperiment, runFast, runOne, trackResult, writeReport } from '../../src/lab/index.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'streamlab-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, doc: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

describe('loss traces in experiments', () => {
  it('with traceOffset 0, replays the trace from its start: 3 of every 10 packets lost, in runs of 2 and 1', async () => {
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
        traceOffset: 0,
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

  it('by default each run starts the trace at an offset from its seed, recorded in results.json', async () => {
    // A 97-sample trace with one loss: where it falls tells the offset.
    writeFileSync(path.join(dir, 'one.txt'), Array.from({ length: 97 }, (_, i) => (i === 0 ? 1 : 0)).join('\n'));
    const e = await loadExperiment(
      write('seeded.json', {
        name: 'seeded',
        mode: 'fast',
        media: path.resolve('media/sample.mp4'),
        durationSec: 2,
        seeds: [1, 2, 3],
        quality: false,
        matrix: { netem: ['trace one.txt'] },
      }),
    );
    expect(e.traceOffset).toBe('seeded');
    const runs = expandRuns(e);
    const starts = new Set<number>();
    for (const spec of runs) {
      const obs = await runFast(spec, undefined);
      const offsets = obs.traceOffsets ?? [];
      // Every track's RTP path has a start of its own; audio's differs from video's.
      expect(offsets.map((o) => o.path)).toEqual(['track 0 rtp', 'track 1 rtp']);
      expect(offsets[0]!.lossStart).not.toBe(offsets[1]!.lossStart);
      const start = offsets[0]!.lossStart!;
      starts.add(start);
      for (const f of obs.fates[0]!) expect(f.dropped, `packet ${f.id}`).toBe((f.id + start) % 97 === 0);
    }
    expect(starts.size).toBe(3);
    // The offsets are in the run's params.
    const out = mkdtempSync(path.join(dir, 'out-'));
    const r = await runOne(runs[0]!, { outDir: out, quality: false });
    expect(r.params.traceOffset).toBe('seeded');
    expect(r.params.traceOffsets?.[0]).toMatchObject({ path: 'track 0 rtp', lossStart: expect.any(Number) as number });
    const cols = new Map(csvColumns(r));
    expect(cols.get('trace_offset')).toBe('seeded');
    expect(cols.get('trace_offsets')).toBe(
      `track 0 rtp: loss from sample ${r.params.traceOffsets![0]!.lossStart}; track 1 rtp: loss from sample ${r.params.traceOffsets![1]!.lossStart}`,
    );
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

describe('the report says where traces start', () => {
  it('a provenance row, as HTML, when a condition has a trace', async () => {
    const out = mkdtempSync(path.join(dir, 'report-'));
    const experiment = {
      name: 'r',
      description: '',
      mode: 'fast',
      media: ['sample.mp4'],
      durationSec: 1,
      startNpt: 0,
      seeds: [1],
      netem: ['link a.trace'],
      jitter: [{ label: 'adaptive', settings: { mode: 'adaptive' } }],
      transport: ['udp'],
      traceOffset: 'seeded',
    };
    await writeReport(out, 'r', [], { experiment: experiment as never });
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    expect(html).toContain('<th>trace start</th><td>each run');
    expect(html).toContain('<code>params.traceOffsets</code>');
    await writeReport(out, 'r', [], { experiment: { ...experiment, traceOffset: 0 } as never });
    expect(readFileSync(path.join(out, 'index.html'), 'utf8')).toContain('every trace replayed from its start in every run');
  });
});
