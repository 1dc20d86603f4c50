/**
 * Issue 12: the operator's JSON API and Prometheus metrics over real HTTP, with a real RTSP
 * session: the session is listed with its client, path, transport, state and traffic; its
 * receiver report shows; DELETE kicks it (the client gets a BYE, the session is gone); unknown ids
 * are 404 JSON; /metrics has the sessions, requests by method and status, refusals and the
 * report histograms.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperatorHttp } from '../../src/operator/index.ts';
import type { RtspServer, SessionInfo } from '../../src/server/index.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { startServer } from '../helpers/server.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';

describe('operator HTTP: API and metrics', () => {
  let server: RtspServer;
  let op: OperatorHttp;
  let base: string;
  let api: string;

  beforeAll(async () => {
    ({ server } = await startServer());
    op = await OperatorHttp.start(server, { port: 0 });
    base = `rtsp://127.0.0.1:${server.port}`;
    api = op.url;
  });

  afterAll(async () => {
    await op?.close();
    await server?.close();
  });

  const json = async (path: string, init?: RequestInit) => {
    const r = await fetch(new URL(path, api), init);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  it('lists a playing session, shows its report, kicks it with a BYE; unknown ids are 404 JSON', async () => {
    const c = await RtspTestClient.connect(`${base}/sample.mp4`);
    try {
      const { track } = await c.setup(`${base}/sample.mp4/trackID=1`, 'udp');
      await c.play(`${base}/sample.mp4`);
      await sleep(500);
      c.sendReceiverReport(track, { fractionLost: 0, cumulativeLost: 0 });
      await waitUntil(() => server.sessionList()[0]?.reports.length === 1, 5000, 'report');

      const list = await json('/api/sessions');
      expect(list.status).toBe(200);
      const sessions = list.body.sessions as SessionInfo[];
      expect(sessions).toHaveLength(1);
      const s = sessions[0]!;
      expect(s).toMatchObject({ kind: 'file', path: 'sample.mp4', client: '127.0.0.1', state: 'playing', transport: 'udp' });
      expect(s.packetsSent).toBeGreaterThan(5);
      expect(s.reports[0]).toMatchObject({ control: 'trackID=1', cumulativeLost: 0 });
      expect((await json(`/api/sessions/${s.id}`)).body).toMatchObject({ id: s.id, path: 'sample.mp4' });

      const kicked = await json(`/api/sessions/${s.id}`, { method: 'DELETE' });
      expect(kicked).toEqual({ status: 200, body: { kicked: s.id } });
      await waitUntil(() => track.rtcp.some((p) => p.type === 'bye'), 5000, 'BYE after the kick');
      expect(server.sessionList()).toEqual([]);
      expect((await json(`/api/sessions/${s.id}`)).status).toBe(404);
      expect(await json(`/api/sessions/${s.id}`, { method: 'DELETE' })).toEqual({ status: 404, body: { error: `no session ${s.id}` } });
      expect(await json('/api/sessions/nope')).toEqual({ status: 404, body: { error: 'no session nope' } });
      expect((await json('/nothing')).status).toBe(404);
    } finally {
      c.close();
    }
  });

  it('/metrics: Prometheus text with sessions, requests by method and status, refusals, report histograms', async () => {
    const c = await RtspTestClient.connect(`${base}/missing.mp4`);
    try {
      expect((await c.request('DESCRIBE', `${base}/missing.mp4`, { Accept: 'application/sdp' })).statusCode).toBe(404);
    } finally {
      c.close();
    }
    const r = await fetch(new URL('/metrics', api));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await r.text();
    expect(text).toMatch(/^# TYPE streamlab_sessions gauge$/m);
    expect(text).toMatch(/^streamlab_sessions\{kind="file"\} 0$/m);
    expect(text).toMatch(/^streamlab_rtsp_requests_total\{method="PLAY",status="200"\} 1$/m);
    expect(text).toMatch(/^streamlab_rtsp_requests_total\{method="DESCRIBE",status="404"\} 1$/m);
    expect(text).toMatch(/^streamlab_rtsp_refusals_total\{status="404",code="[A-Z_]+"\} 1$/m);
    expect(text).toMatch(/^streamlab_rtcp_fraction_lost_count 1$/m);
    expect(text).toMatch(/^streamlab_rtcp_jitter_seconds_bucket\{le="0.0005"\} 1$/m);
    expect(text).toMatch(/^streamlab_sessions_created_total 1$/m);
    // The kicked session's packets still count (a counter over ended sessions, not a gauge of open ones).
    expect(Number(/^streamlab_sent_packets_total\{kind="file"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(5);
  });
});
