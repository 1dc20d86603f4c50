/**
 * The front's per-path choice (edge-paths.ts, redirect-front.ts) on the manual clock with a
 * scripted prober standing in for the edges' DESCRIBE answers: an edge that lacks the path is
 * passed over, answers are kept ttlMs and shared by clients asking at once, and every bound
 * (cache size, probes in flight, probes per second) holds and is counted. The real edges and
 * ffmpeg are in test/integration/redirect-paths.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createRequest } from '../../src/rtsp/index.ts';
import { EdgePaths, EdgePool, RedirectFront, classifyProbe } from '../../src/server/redirect/index.ts';
import type { EdgePathOptions, EdgeState, ProbeResult } from '../../src/server/redirect/index.ts';
import { ManualClock } from '../../src/util/clock.ts';

/** Edges E0..En-1 up with these sessions; `answers[path][i]` is edge i's status for path (a function may throw or wait). */
function setup(
  sessions: number[],
  answers: Record<string, (number | (() => Promise<ProbeResult>))[]>,
  paths: Partial<EdgePathOptions> = {},
) {
  const clock = new ManualClock(0);
  const pool = new EdgePool(
    sessions.map((_, i) => `rtsp://127.0.0.1:${9000 + i}`),
    clock,
  );
  pool.edges.forEach((e, i) => {
    e.up = true;
    e.sessions = sessions[i]!;
  });
  const asked: string[] = [];
  const prober = (e: EdgeState, path: string): Promise<ProbeResult> => {
    const i = pool.edges.indexOf(e);
    asked.push(`${i} ${path}`);
    const a = answers[path]?.[i] ?? 404;
    return typeof a === 'number' ? Promise.resolve({ status: a, ...(a === 503 ? { retryAfter: String(3 + i) } : {}) }) : a();
  };
  const front = new RedirectFront(pool, { clock, prober, pathProbe: paths });
  const describe_ = async (path: string, method = 'DESCRIBE') => {
    const res = await front.answer(createRequest(method, `rtsp://front${path}`, { CSeq: '1' }), '127.0.0.1');
    return { status: res?.statusCode, location: res?.headers.get('Location'), retryAfter: res?.headers.get('Retry-After') };
  };
  return { clock, pool, front, asked, describe: describe_ };
}

describe('classifyProbe', () => {
  it.each([
    [200, 'has'],
    [302, 'has'],
    [404, 'lacks'],
    [410, 'lacks'],
    [453, 'lacks'],
    [503, 'lacks'],
    [401, 'unknown'],
    [403, 'unknown'],
    [500, 'unknown'],
  ] as const)('%i is %s', (status, answer) => expect(classifyProbe(status)).toBe(answer));
});

describe('the front chooses per path', () => {
  it('passes over less loaded edges that lack the path, and keeps the answers ttlMs', async () => {
    const t = setup([0, 1, 5], { '/live/news': [404, 503, 200] }, { ttlMs: 3000 });
    expect(await t.describe('/live/news')).toEqual({ status: 302, location: 'rtsp://127.0.0.1:9002/live/news', retryAfter: undefined });
    expect(t.asked).toEqual(['0 /live/news', '1 /live/news', '2 /live/news']);
    expect(t.front.counters.pathSkips).toBe(1);
    // Within ttlMs: from the cache, no probe.
    t.clock.advance(2999);
    expect((await t.describe('/live/news')).location).toBe('rtsp://127.0.0.1:9002/live/news');
    expect(t.asked).toHaveLength(3);
    expect(t.front.counters.paths.cacheHits).toBe(3);
    // Past it: asked again.
    t.clock.advance(1);
    await t.describe('/live/news');
    expect(t.asked).toHaveLength(6);
    expect(t.pool.edges.map((e) => e.redirected)).toEqual([0, 0, 3]);
  });

  it('stops at the least loaded edge that has the path: the others are not asked', async () => {
    const t = setup([2, 0, 1], { '/a': [200, 200, 200] });
    expect((await t.describe('/a')).location).toBe('rtsp://127.0.0.1:9001/a');
    expect(t.asked).toEqual(['1 /a']);
  });

  it('every edge lacks it: 404, or 503 with the shortest Retry-After when one is only away', async () => {
    const t = setup([0, 0], { '/gone': [404, 404], '/later': [503, 503], '/mixed': [404, 503] });
    expect(await t.describe('/gone')).toEqual({ status: 404, location: undefined, retryAfter: undefined });
    expect(await t.describe('/later')).toEqual({ status: 503, location: undefined, retryAfter: '3' });
    expect(await t.describe('/mixed')).toEqual({ status: 503, location: undefined, retryAfter: '4' });
    expect(t.front.counters.noPath).toBe(3);
    expect(t.front.counters.redirected).toBe(0);
  });

  it('an edge that cannot be asked is taken by load, as without probes; the failure is not kept', async () => {
    const t = setup([0, 1], { '/x': [() => Promise.reject(new Error('timeout')), 200] });
    expect((await t.describe('/x')).location).toBe('rtsp://127.0.0.1:9000/x');
    expect(t.front.counters.paths.probeFailures).toBe(1);
    await t.describe('/x');
    expect(t.asked).toEqual(['0 /x', '0 /x']);
  });

  it('clients asking at once share one probe', async () => {
    let release!: (r: ProbeResult) => void;
    const t = setup([0, 1], { '/x': [() => new Promise((r) => (release = r)), 200] });
    const a = t.describe('/x');
    const b = t.describe('/x');
    await Promise.resolve();
    release({ status: 404 });
    expect((await a).location).toBe('rtsp://127.0.0.1:9001/x');
    expect((await b).location).toBe('rtsp://127.0.0.1:9001/x');
    expect(t.asked).toEqual(['0 /x', '1 /x']);
  });

  it('probes in flight and per second are bounded: past them the edge is taken by load, counted', async () => {
    const waiting: ((r: ProbeResult) => void)[] = [];
    const slow = () => new Promise<ProbeResult>((r) => waiting.push(r));
    // Edge 1 is far more loaded: every client is offered edge 0 first.
    const t = setup([0, 100], { '/a': [slow, 200], '/b': [slow, 200], '/c': [404, 200] }, { maxInFlight: 2, maxPerSecond: 3 });
    const a = t.describe('/a');
    const b = t.describe('/b');
    // Two probes hang: a third path is not probed, and goes by load to edge 0 (which lacks it).
    expect((await t.describe('/c')).location).toBe('rtsp://127.0.0.1:9000/c');
    expect(t.front.counters.paths.probesSkipped).toBe(1);
    for (const w of waiting) w({ status: 200 });
    await Promise.all([a, b]);
    // None in flight now, but the second's third probe is the last: edge 0 says 404, edge 1 cannot be asked.
    expect((await t.describe('/c')).location).toBe('rtsp://127.0.0.1:9001/c');
    expect(t.asked).toEqual(['0 /a', '0 /b', '0 /c']);
    expect(t.front.counters.paths.probesSkipped).toBe(2);
    // The next second: edge 0's 404 from the cache, edge 1 asked.
    t.clock.advance(1000);
    expect((await t.describe('/c')).location).toBe('rtsp://127.0.0.1:9001/c');
    expect(t.asked.slice(3)).toEqual(['1 /c']);
  });

  it('keeps at most maxEntries answers, the oldest evicted first', async () => {
    const paths = new EdgePaths(() => Promise.resolve({ status: 200 }), new ManualClock(0), { maxEntries: 3 });
    const e = { base: 'rtsp://127.0.0.1:9000' } as EdgeState;
    for (let i = 0; i < 5; i++) await paths.check(e, 0, `/p${i}`);
    expect(paths.size).toBe(3);
    expect(paths.counters.evictions).toBe(2);
    await paths.check(e, 0, '/p4');
    expect(paths.counters.cacheHits).toBe(1);
    await paths.check(e, 0, '/p0');
    expect(paths.counters.probes).toBe(6);
  });

  it('asks nothing for a single edge, for SETUP/ANNOUNCE, or with pathProbe off', async () => {
    const one = setup([0], { '/x': [404] });
    expect((await one.describe('/x')).status).toBe(302);
    const two = setup([0, 1], { '/x': [404, 200] });
    expect((await two.describe('/x/trackID=1', 'SETUP')).location).toBe('rtsp://127.0.0.1:9000/x/trackID=1');
    expect((await two.describe('/x', 'ANNOUNCE')).location).toBe('rtsp://127.0.0.1:9000/x');
    expect([...one.asked, ...two.asked]).toEqual([]);
    const clock = new ManualClock(0);
    const pool = new EdgePool(['rtsp://127.0.0.1:9000', 'rtsp://127.0.0.1:9001'], clock);
    for (const e of pool.edges) e.up = true;
    const off = new RedirectFront(pool, { pathProbe: false, prober: () => Promise.reject(new Error('asked')) });
    expect((await off.answer(createRequest('DESCRIBE', 'rtsp://front/x', { CSeq: '1' }), 'c'))?.statusCode).toBe(302);
  });
});
