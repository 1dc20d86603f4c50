import { describe, expect, it } from 'vitest';
import {
  ExperimentError,
  expandRuns,
  experimentFromFlags,
  parseExperimentText,
  parseJitterSpec,
  validateExperiment,
} from '../../src/lab/index.ts';

const resolveMedia = (n: string) => `/media/${n}`;
const issues = (doc: unknown) => validateExperiment(doc, { resolveMedia }).issues.map((i) => `${i.path}: ${i.message}`);

describe('experiment validation', () => {
  it('names the field of an out-of-range netem parameter', () => {
    const got = issues({ matrix: { netem: ['loss 1%', 'delay 10ms', 'loss 120%'] } });
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^experiment\.matrix\.netem\[2\]: loss 120%: .*120%.*outside/);
  });

  it('reports every problem at once, each with its path', () => {
    const got = issues({
      durationSec: -1,
      seeds: [1, 2.5],
      mode: 'slow',
      colour: 'red',
      matrix: { netem: ['lose 1%'], jitter: ['fast'], transport: ['sctp'], foo: 1 },
      audio: { ie: 200 },
    });
    const paths = got.map((g) => g.split(':')[0]);
    expect(paths).toEqual(
      expect.arrayContaining([
        'experiment.durationSec',
        'experiment.seeds[1]',
        'experiment.mode',
        'experiment.colour',
        'experiment.matrix.netem[0]',
        'experiment.matrix.jitter[0]',
        'experiment.matrix.transport[0]',
        'experiment.matrix.foo',
        'experiment.audio.ie',
      ]),
    );
    expect(got.find((g) => g.startsWith('experiment.matrix.netem[0]'))).toMatch(/unknown netem word "lose"/);
  });

  it('refuses a non-object and a negative delay', () => {
    expect(issues([1, 2])).toEqual(['experiment: expected an object']);
    expect(issues({ matrix: { netem: ['delay -5ms'] } })[0]).toMatch(/^experiment\.matrix\.netem\[0\]: /);
  });

  it('repetitions and seeds must agree', () => {
    expect(issues({ repetitions: 3, seeds: [1, 2] })[0]).toMatch(/^experiment\.repetitions: says 3 but seeds lists 2/);
  });

  it('expands the matrix: conditions × seeds, repetitions innermost', () => {
    const r = validateExperiment(
      { repetitions: 2, matrix: { netem: ['loss 1%', 'loss 5%'], jitter: ['adaptive', '200ms'], transport: ['udp', 'tcp'] } },
      { resolveMedia },
    );
    expect(r.issues).toEqual([]);
    const runs = expandRuns(r.value!);
    expect(runs).toHaveLength(2 * 2 * 2 * 2);
    expect(runs.map((x) => x.index)).toEqual([...Array(16).keys()]);
    expect(runs[0]!.seed).toBe(1);
    expect(runs[1]!.seed).toBe(2);
    expect(runs[0]!.condition).toBe(runs[1]!.condition);
    expect(new Set(runs.map((x) => x.condition)).size).toBe(8);
    expect(runs[0]!.media).toBe('/media/sample.mp4');
  });

  it('parses JSON and YAML files; syntax errors name the file', () => {
    const yaml = 'name: y\ndurationSec: 3\nseeds: [4, 5]\nmatrix:\n  netem:\n    - loss gemodel 1% 50%\n  jitter: [adaptive, 150ms]\n';
    const e = parseExperimentText(yaml, 'exp.yaml', { mode: 'fast' });
    expect(e.seeds).toEqual([4, 5]);
    expect(e.jitter.map((j) => j.label)).toEqual(['adaptive', 'fixed 150ms']);
    expect(e.netem[0]!.text).toBe('loss gemodel 1% 50% 100% 0%');
    expect(() => parseExperimentText('{ "name": ', 'bad.json')).toThrow(ExperimentError);
    let caught: unknown;
    try {
      parseExperimentText('{"matrix":{"netem":["loss 120%"]}}', 'x.json');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ExperimentError);
    expect((caught as ExperimentError).code).toBe('LAB_ERR_EXPERIMENT_INVALID');
    expect((caught as ExperimentError).issues[0]!.path).toBe('experiment.matrix.netem[0]');
  });

  it('builds a one-off experiment from flags and names the flag on error', () => {
    const base = {
      jitter: [],
      transport: [],
      media: 'sample.mp4',
      runs: 5,
      seed: 10,
      durationSec: 10,
      startNpt: 0,
      mode: 'fast' as const,
      quality: false,
    };
    const e = experimentFromFlags({ ...base, netem: ['loss gemodel 2% 30%'] });
    expect(e.seeds).toEqual([10, 11, 12, 13, 14]);
    expect(() => experimentFromFlags({ ...base, netem: ['loss 120%'] })).toThrow(/--netem\[0\]: loss 120%/);
  });

  it('jitter specs', () => {
    expect(parseJitterSpec('adaptive')).toMatchObject({ ok: true, settings: { mode: 'adaptive' } });
    expect(parseJitterSpec('fixed:80ms')).toMatchObject({ ok: true, settings: { mode: 'fixed', delayMs: 80 } });
    expect(parseJitterSpec({ mode: 'fixed', delayMs: 40 })).toMatchObject({ ok: true, label: 'fixed 40ms' });
    expect(parseJitterSpec({ mode: 'adaptive', percentile: 2 }).ok).toBe(false);
    expect(parseJitterSpec('-5ms').ok).toBe(false);
  });
});

describe('bundled example', () => {
  it('media/experiments/gilbert-elliott.json: 2 % and 5 % loss with bursts 2 and 4, 5 seeds', async () => {
    const { loadExperiment, configuredLoss, configuredMeanBurst } = await import('../../src/lab/index.ts');
    const e = await loadExperiment('media/experiments/gilbert-elliott.json');
    expect(e.mode).toBe('fast');
    expect(e.seeds).toHaveLength(5);
    const figures = e.netem.map((n) => [Number((configuredLoss(n.config)! * 100).toFixed(2)), configuredMeanBurst(n.config)]);
    expect(figures).toEqual([
      [2, 2],
      [2, 4],
      [5, 2],
      [5, 4],
    ]);
  });
});
