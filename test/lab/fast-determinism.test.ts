/**
 * Issue 10: with the same seeds, `streamlab lab --fast` gives identical results.json apart from
 * wall-clock fields. Before randomness was injected, SSRCs, first sequence numbers, timestamp
 * bases and RTCP intervals came from crypto/Math.random and the reports differed run to run.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseExperimentText, runExperiment } from '../../src/lab/index.ts';

const MEDIA = path.resolve('media/sample.mp4');
const out = mkdtempSync(path.join(os.tmpdir(), 'streamlab-lab-det-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Fields that measure the real clock, not the simulation. */
const WALL_CLOCK_KEYS = new Set(['startedAt', 'wallMs', 'finishedAt', 'generatedAt', 'eventLoop']);

function withoutWallClock(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutWallClock);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => !WALL_CLOCK_KEYS.has(k))
        .map(([k, x]) => [k, withoutWallClock(x)]),
    );
  }
  return v;
}

async function fastRun(name: string, seed: number): Promise<{ raw: Record<string, unknown>; json: unknown }> {
  const dir = path.join(out, name);
  const e = parseExperimentText(
    JSON.stringify({
      name: 'determinism',
      media: MEDIA,
      durationSec: 2,
      seeds: [seed],
      quality: false,
      matrix: { netem: ['delay 30ms 10ms loss random 3%'], jitter: ['adaptive'], transport: ['udp'] },
    }),
    'det.json',
    { mode: 'fast' },
  );
  await runExperiment(e, { outDir: dir, progress: undefined });
  const raw = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as Record<string, unknown>;
  return { raw, json: withoutWallClock(raw) };
}

describe('lab --fast determinism (issue 10)', () => {
  it('the same seeds give identical results.json apart from wall-clock fields; another seed does not', async () => {
    const a = await fastRun('a', 5);
    const b = await fastRun('b', 5);
    // Something was measured: RTCP receiver reports (whose times the seeded A.7 intervals decide) arrived.
    const runs = a.raw.runs as { status: string; tracks: { rtcp: { receiverReports: number } }[] }[];
    expect(runs).toHaveLength(1);
    expect(runs[0]!.status).toBe('ok');
    expect(runs[0]!.tracks[0]!.rtcp.receiverReports).toBeGreaterThan(0);
    expect(JSON.stringify(b.json)).toBe(JSON.stringify(a.json));
    const c = await fastRun('c', 6);
    expect(JSON.stringify(c.json)).not.toBe(JSON.stringify(a.json));
  }, 60_000);
});
