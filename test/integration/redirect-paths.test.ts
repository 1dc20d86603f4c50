/**
 * The redirecting front knows which edge serves a path: three edges, the two least loaded lack
 * live/news (one has no such channel: 404; one pulls it from an origin that is away: 503), the
 * third serves it and holds a viewer already. ffmpeg asks the front and plays from the third; the
 * front asked each edge once (a DESCRIBE of its own) and answers the next client from its cache.
 * A path no edge serves: 404 from the front, 503 + the edges' Retry-After when one is only away.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RtspServer } from '../../src/server/index.ts';
import { ffmpegPlay } from '../helpers/ffmpeg.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { expectSuccess } from '../helpers/run-program.ts';
import { SAMPLE, startServer } from '../helpers/server.ts';
import { waitUntil } from '../helpers/wait.ts';

async function describeVia(url: string): Promise<{ status: number; location: string | undefined; retryAfter: string | undefined }> {
  const c = await RtspTestClient.connect(url);
  const d = await c.request('DESCRIBE', url, { Accept: 'application/sdp' });
  c.close();
  return { status: d.statusCode, location: d.headers.get('Location'), retryAfter: d.headers.get('Retry-After') };
}

describeWithPeers('redirecting front: per-path choice', ['ffmpeg'], () => {
  let origin: RtspServer;
  let lacking: RtspServer;
  let away: RtspServer;
  let serving: RtspServer;
  let front: RtspServer;
  let held: RtspTestClient | undefined;
  const frontUrl = (path: string) => `rtsp://127.0.0.1:${front.port}${path}`;

  beforeAll(async () => {
    ({ server: origin } = await startServer({ live: [{ name: 'news', file: SAMPLE }] }));
    // An origin nobody answers on: the edge that pulls from it answers 503 + Retry-After.
    ({ server: away } = await startServer({
      live: [{ name: 'news', pull: 'rtsp://127.0.0.1:1/live/news' }],
      pull: { retryMinMs: 5000, retryMaxMs: 5000 },
    }));
    ({ server: lacking } = await startServer({ live: [{ name: 'sports', file: SAMPLE }] }));
    ({ server: serving } = await startServer({ live: [{ name: 'news', pull: `rtsp://127.0.0.1:${origin.port}/live/news` }] }));
    ({ server: front } = await startServer({
      redirect: { edges: [lacking, away, serving].map((e) => `rtsp://127.0.0.1:${e.port}`), pollMs: 200 },
    }));
    await waitUntil(() => serving.snapshot().live[0]?.pull?.playing === true, 20_000, 'the serving edge playing');
    // The serving edge is the most loaded: by load alone every client would go to the others.
    const url = `rtsp://127.0.0.1:${serving.port}/live/news`;
    held = await RtspTestClient.connect(url);
    await held.describe(url);
    await held.setup(`${url}/trackID=1`, 'tcp');
    await waitUntil(() => front.snapshot().redirect?.edges[2]?.sessions === 1, 5000, 'the front sees the serving edge loaded');
    expect((await describeVia(`rtsp://127.0.0.1:${lacking.port}/live/news`)).status).toBe(404);
    expect((await describeVia(`rtsp://127.0.0.1:${away.port}/live/news`)).status).toBe(503);
  }, 60_000);
  afterAll(async () => {
    held?.close();
    await front?.close();
    for (const s of [serving, lacking, away, origin]) await s?.close();
  });

  it('ffmpeg is sent past the edges that lack the path to the one that serves it', async () => {
    const r = await ffmpegPlay(frontUrl('/live/news'), { transport: 'tcp', seconds: 2 });
    expectSuccess(r, 'ffmpeg via the front');
    const snap = front.snapshot().redirect!;
    expect(snap.edges.map((e) => e.redirected)).toEqual([0, 0, 1]);
    expect(snap.pathSkips).toBe(1);
    expect(snap.paths.probes).toBe(3);
    // The next client within the cache's time: no new probe, same edge.
    const d = await describeVia(frontUrl('/live/news'));
    expect(d.status).toBe(302);
    expect(d.location).toBe(`rtsp://127.0.0.1:${serving.port}/live/news`);
    expect(front.snapshot().redirect!.paths.probes).toBe(3);
    expect(front.snapshot().redirect!.paths.cacheHits).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('a path every edge lacks: 404; one an edge has but cannot play now: 503 with its Retry-After', async () => {
    const none = await describeVia(frontUrl('/live/weather'));
    expect(none.status).toBe(404);
    expect(none.location).toBeUndefined();
    // live/sports: the least loaded edge serves it: the client goes there on the first answer.
    const sports = await describeVia(frontUrl('/live/sports'));
    expect(sports.status).toBe(302);
    expect(sports.location).toBe(`rtsp://127.0.0.1:${lacking.port}/live/sports`);
    // Without the serving edge: one edge lacks news, the other has it but its origin is away.
    const { server: front2 } = await startServer({
      redirect: { edges: [lacking, away].map((e) => `rtsp://127.0.0.1:${e.port}`), pollMs: 200 },
    });
    try {
      const d = await describeVia(`rtsp://127.0.0.1:${front2.port}/live/news`);
      expect(d.status).toBe(503);
      expect(Number(d.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(front2.snapshot().redirect!.noPath).toBe(1);
    } finally {
      await front2.close();
    }
    expect(front.snapshot().redirect!.noPath).toBe(1);
  }, 60_000);
});
