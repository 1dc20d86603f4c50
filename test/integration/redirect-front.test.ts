/**
 * A redirecting front (`serve --redirect-to`) before two edges that pull one origin: ffmpeg,
 * GStreamer's rtspsrc and our receiver follow its 302 to an edge and play; clients go to the
 * edge with the lower load (sessions polled with GET_PARAMETER, plus clients sent since); with
 * no edge up the front answers 503 with Retry-After.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RtspServer } from '../../src/server/index.ts';
import { ffmpegPlay } from '../helpers/ffmpeg.ts';
import { expectRtspsrcPlayed, missingForGstreamer, rtspsrcToFakesinks } from '../helpers/gstreamer.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { expectSuccess } from '../helpers/run-program.ts';
import { SAMPLE, startServer } from '../helpers/server.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';
import { play } from '../receiver/helpers.ts';

describeWithPeers('redirecting front before two edges', ['ffmpeg'], () => {
  let origin: RtspServer;
  let edges: RtspServer[];
  let front: RtspServer;
  const frontUrl = () => `rtsp://127.0.0.1:${front.port}/live/news`;
  const sessions = () => edges.map((e) => e.registry.size);

  beforeAll(async () => {
    ({ server: origin } = await startServer({ live: [{ name: 'news', file: SAMPLE }] }));
    const pull = `rtsp://127.0.0.1:${origin.port}/live/news`;
    edges = await Promise.all([0, 1].map(async () => (await startServer({ live: [{ name: 'news', pull }] })).server));
    ({ server: front } = await startServer({
      redirect: { edges: edges.map((e) => `rtsp://127.0.0.1:${e.port}`), pollMs: 200 },
    }));
    await waitUntil(() => edges.every((e) => e.snapshot().live[0]?.pull?.playing === true), 20_000, 'edges playing');
  }, 60_000);
  afterAll(async () => {
    await front?.close();
    for (const e of edges ?? []) await e.close();
    await origin?.close();
  });

  it('ffmpeg, rtspsrc and our receiver follow the 302 to the less loaded edge', async () => {
    // Edge 1 already holds three viewers: the next three clients go to edge 2, the fourth (a tie) to edge 1.
    const held: RtspTestClient[] = [];
    const e1Url = `rtsp://127.0.0.1:${edges[0]!.port}/live/news`;
    for (let i = 0; i < 3; i++) {
      const c = await RtspTestClient.connect(e1Url);
      await c.describe(e1Url);
      await c.setup(`${e1Url}/trackID=1`, 'tcp');
      held.push(c);
    }
    await waitUntil(() => front.snapshot().redirect?.edges[0]?.sessions === 3, 5000, 'the front sees edge 1 loaded');

    const ffmpeg = ffmpegPlay(frontUrl(), { transport: 'tcp', seconds: 6 });
    await sleep(800);
    // RTP packets into fakesinks: 300 of each track last 3-6 s.
    const gst = missingForGstreamer(['rtspsrc', 'fakesink']).length === 0;
    const gstRun = gst ? rtspsrcToFakesinks(frontUrl(), [], { buffers: 300, timeoutMs: 60_000 }) : undefined;
    await sleep(800);
    const ours = play(frontUrl(), { transport: 'tcp', durationSec: 5 });
    await sleep(1500);
    // Three clients on edge 2 now (ffmpeg, rtspsrc, ours; each one session), edge 1 unchanged.
    expect(sessions()).toEqual([3, gst ? 3 : 2]);
    const fourth = await play(frontUrl(), { transport: 'tcp', durationSec: 2 });
    expect(fourth.end).toEqual({ ok: true, reason: 'duration' });
    expect(fourth.units[0]).toBeGreaterThan(10);

    expectSuccess(await ffmpeg, 'ffmpeg via the front');
    if (gstRun) expectRtspsrcPlayed(await gstRun, 'rtspsrc via the front');
    const r = await ours;
    expect(r.end).toEqual({ ok: true, reason: 'duration' });
    expect(r.session.requests.DESCRIBE).toBe(2);
    expect(r.units[0]).toBeGreaterThan(50);
    for (const c of held) c.close();

    const snap = front.snapshot().redirect!;
    expect(snap.edges.map((e) => e.redirected)).toEqual([1, gst ? 3 : 2]);
    expect(snap.redirected).toBe(gst ? 4 : 3);
  }, 90_000);

  it('with no edge up the front answers 503 with Retry-After', async () => {
    const { server: lonely } = await startServer({ redirect: { edges: ['rtsp://127.0.0.1:1'], pollMs: 200, timeoutMs: 500 } });
    try {
      const url = `rtsp://127.0.0.1:${lonely.port}/live/news`;
      const c = await RtspTestClient.connect(url);
      const d = await c.request('DESCRIBE', url, { Accept: 'application/sdp' });
      c.close();
      expect(d.statusCode).toBe(503);
      expect(d.headers.get('Retry-After')).toBe('1');
      expect(lonely.snapshot().redirect?.noEdge).toBe(1);
    } finally {
      await lonely.close();
    }
  });
});
