/**
 * Issue 14: a condition that says what it applies to (a link shared by the tracks with CoDel,
 * RTCP impaired each way, its own seeds), run in --fast: the scope is in results.json, the
 * bottleneck and RTCP paths have their truth, and the same seeds give the same results.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTraces, parseExperimentText, runExperiment, validateExperiment } from '../../src/lab/index.ts';
import type { RunResult } from '../../src/lab/result-types.ts';

const MEDIA = path.resolve('media/sample.mp4');
const TRACES = path.resolve('media/traces');
const out = mkdtempSync(path.join(os.tmpdir(), 'streamlab-lab-scope-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const condition = {
  rtp: 'link const-2.4mbit.trace queue codel',
  sharedLink: true,
  tracks: { '1': 'loss 10%' },
  rtcp: 'loss 20%',
  return: 'delay 50ms loss 10%',
};

async function fastRun(name: string, seed: number) {
  const dir = path.join(out, name);
  const e = await loadTraces(
    parseExperimentText(
      JSON.stringify({ name: 'scope', media: MEDIA, durationSec: 3, seeds: [seed], quality: false, matrix: { netem: [condition] } }),
      'scope.json',
      { mode: 'fast' },
    ),
    TRACES,
    'experiment.matrix.netem',
  );
  await runExperiment(e, { outDir: dir, progress: undefined });
  return JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as {
    experiment: { impairment: { condition: string; appliesTo: string }[] };
    runs: RunResult[];
  };
}

const strip = (runs: RunResult[]) => JSON.stringify(runs.map(({ startedAt: _s, wallMs: _w, eventLoop: _e, ...r }) => r));

describe('what a condition applies to (issue 14)', () => {
  it('validates the object form, naming the field of each problem', () => {
    const issues = (netem: unknown) =>
      validateExperiment({ matrix: { netem: [netem] } }, { resolveMedia: (n) => n }).issues.map((i) => `${i.path}: ${i.message}`);
    expect(issues({ rtp: 'loss 1%', sharedLink: true })[0]).toMatch(/matrix\.netem\[0\]\.sharedLink: a shared link needs a bottleneck/);
    expect(issues({ rtp: 'link a', sharedLink: true, tracks: { '0': 'link b' } })[0]).toMatch(/tracks\.0: with sharedLink/);
    expect(issues({ rtp: 'loss 1%', tracks: { video: 'loss 2%', 'trackID=2': 'loss 1%', '0': 'delay 1ms' } })).toEqual([]);
    expect(issues({ rtp: 'loss 1%', tracks: { 'no such!': 'loss 2%' } })[0]).toMatch(/tracks\.no such!: expected a media type/);
    expect(issues({ rtp: 'loss 1%', tracks: { '300': 'loss 2%' } })[0]).toMatch(/tracks\.300: expected a media type/);
    expect(issues({ rtp: 'loss 1%', rtcp: 'loss 200%' })[0]).toMatch(/netem\[0\]\.rtcp: /);
    expect(issues({ rtp: 'loss 1%', downlink: 'x' })[0]).toMatch(/downlink: unknown field/);
    expect(issues({ rtp: 'loss 1%', rtcp: 'loss 5%', return: 'delay 10ms' })).toEqual([]);
  });

  it('--fast: scope in results.json, bottleneck and RTCP-path truth, identical for the same seed', async () => {
    const a = await fastRun('a', 3);
    const scope = a.experiment.impairment[0]!;
    expect(scope.condition).toBe(
      'link const-2.4mbit.trace queue codel (shared link); track 1: loss random 10%; rtcp: loss random 20%; return: delay 50ms loss random 10%',
    );
    expect(scope.appliesTo).toMatch(/one bottleneck queue shared by all tracks/);
    expect(scope.appliesTo).toMatch(/RTCP receiver to server \(RR, BYE\): "delay 50ms loss random 10%"/);
    const run = a.runs[0]!;
    expect(run.status).toBe('ok');
    expect(run.params.impairmentScope).toBe(scope.appliesTo);
    const [video, audio] = run.tracks;
    // Both tracks went through the one 2.4 Mbit/s queue: sojourn times recorded for each.
    expect(video!.truth.sojourn.count).toBeGreaterThan(0);
    expect(audio!.truth.sojourn.count).toBeGreaterThan(0);
    expect(audio!.truth.droppedByLoss).toBeGreaterThan(0);
    expect(video!.truth.droppedByLoss).toBe(0);
    // RTCP each way has its own truth; the receiver saw fewer SRs than were sent.
    for (const t of run.tracks) {
      expect(t.rtcpPaths?.forward?.sent).toBeGreaterThan(0);
      expect(t.rtcpPaths?.return?.sent).toBeGreaterThan(0);
      expect(t.rtcpPaths?.return?.meanDelayMs).toBeCloseTo(50, 6);
    }
    const b = await fastRun('b', 3);
    expect(strip(b.runs)).toBe(strip(a.runs));
  });
});
