/**
 * The redirecting front's view of its edges' health, and edges that ask for credentials.
 *
 * - Health: an edge on a closed loopback port, a listener that accepts and never answers, and one
 *   that answers every request 500 are down (with the reason) and never chosen; the one real edge
 *   gets every client. It goes away: down (logged), 503 + Retry-After; it comes back on its port:
 *   up (logged), chosen again. The metrics say the same.
 * - Edges with `--auth read`: the front's poll carries the credentials of its --redirect-to URLs
 *   (Digest after the 401), so it sees their load; without them the edges are down with a reason
 *   that says what to do. ffmpeg with its own credentials follows the 302 to the less loaded edge
 *   and plays.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperatorHttp } from '../../src/operator/index.ts';
import { digestHa1 } from '../../src/rtsp/index.ts';
import type { RtspServer } from '../../src/server/index.ts';
import { logLevel, setLogLevel, setLogSink } from '../../src/util/log.ts';
import type { LogLevel } from '../../src/util/log.ts';
import { ffmpegPlay } from '../helpers/ffmpeg.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { expectSuccess } from '../helpers/run-program.ts';
import { SAMPLE, startServer } from '../helpers/server.ts';
import { waitUntil } from '../helpers/wait.ts';
import { play } from '../receiver/helpers.ts';

/** A loopback TCP listener that answers with `answer` (or never), and its accepted sockets. */
async function listener(answer?: (cseq: string) => string): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.on('data', (d) => {
      const cseq = /CSeq:\s*(\d+)/i.exec(d.toString('latin1'))?.[1];
      if (answer && cseq) s.write(answer(cseq));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const l = await listener();
  await l.close();
  return l.port;
}

async function describeVia(url: string): Promise<{ status: number; location: string | undefined; retryAfter: string | undefined }> {
  const c = await RtspTestClient.connect(url);
  const d = await c.request('DESCRIBE', url, { Accept: 'application/sdp' });
  c.close();
  return { status: d.statusCode, location: d.headers.get('Location'), retryAfter: d.headers.get('Retry-After') };
}

describe('redirecting front: edge health', () => {
  let silent: Awaited<ReturnType<typeof listener>>;
  let failing: Awaited<ReturnType<typeof listener>>;
  let closed: number;
  let edge: RtspServer | undefined;
  let edgePort: number;
  let front: RtspServer;
  const logs: Record<string, unknown>[] = [];
  let restore: ((line: string) => void) | undefined;
  let level: LogLevel;

  beforeAll(async () => {
    // "edge up" is an info line.
    level = logLevel();
    setLogLevel('info');
    restore = setLogSink((l) => {
      try {
        logs.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        // text lines (a terminal) are not looked at
      }
    });
    silent = await listener();
    failing = await listener((cseq) => `RTSP/1.0 500 Internal Server Error\r\nCSeq: ${cseq}\r\nContent-Length: 0\r\n\r\n`);
    closed = await closedPort();
    ({ server: edge } = await startServer());
    edgePort = edge.port;
    ({ server: front } = await startServer({
      redirect: {
        edges: [closed, silent.port, failing.port, edgePort].map((p) => `rtsp://127.0.0.1:${p}`),
        pollMs: 200,
        timeoutMs: 400,
      },
    }));
  });
  afterAll(async () => {
    if (restore) setLogSink(restore);
    setLogLevel(level);
    await front?.close();
    await edge?.close();
    await silent?.close();
    await failing?.close();
  });

  const states = () => front.snapshot().redirect!.edges;
  const edgeLogs = (msg: string) => logs.filter((l) => l.msg === msg && l.edge === `rtsp://127.0.0.1:${edgePort}`);

  it('refused, silent and failing edges are down with their reason; every client goes to the one that answers', async () => {
    expect(states().map((e) => e.up)).toEqual([false, false, false, true]);
    expect(states()[0]!.lastError).toMatch(/ECONNREFUSED/);
    expect(states()[1]!.lastError).toMatch(/no response to GET_PARAMETER within 400 ms/);
    expect(states()[2]!.lastError).toMatch(/answered 500 Internal Server Error/);
    for (let i = 0; i < 3; i++) {
      const r = await describeVia(`rtsp://127.0.0.1:${front.port}/sample.mp4`);
      expect(r.status).toBe(302);
      expect(r.location).toBe(`rtsp://127.0.0.1:${edgePort}/sample.mp4`);
    }
    expect(states().map((e) => e.redirected)).toEqual([0, 0, 0, 3]);
    // Polled again and again, still down: one "down" line each, not one per poll.
    await waitUntil(() => states()[1]!.pollFailures >= 3, 5000, 'more polls of the silent edge');
    expect(logs.filter((l) => l.msg === 'edge down: left out until it answers again')).toHaveLength(3);
  });

  it('the edge goes away: down (logged), 503 + Retry-After; back on its port: up (logged), chosen again; metrics agree', async () => {
    const op = await OperatorHttp.start(front, { port: 0, host: '127.0.0.1' });
    try {
      await edge!.close();
      edge = undefined;
      await waitUntil(() => !states()[3]!.up, 5000, 'the edge marked down');
      expect(edgeLogs('edge down: left out until it answers again')).toHaveLength(1);
      const none = await describeVia(`rtsp://127.0.0.1:${front.port}/sample.mp4`);
      expect(none.status).toBe(503);
      expect(none.retryAfter).toBe('1');
      let metrics = await (await fetch(`${op.url}metrics`)).text();
      expect(metrics).toContain(`streamlab_edge_up{edge="rtsp://127.0.0.1:${edgePort}"} 0`);
      expect(metrics).toMatch(/streamlab_redirects_total\{outcome="no_edge"\} 1\b/);

      ({ server: edge } = await startServer({ port: edgePort }));
      await waitUntil(() => states()[3]!.up, 5000, 'the edge up again');
      expect(edgeLogs('edge up')).toHaveLength(2);
      const back = await describeVia(`rtsp://127.0.0.1:${front.port}/sample.mp4`);
      expect(back.status).toBe(302);
      expect(back.location).toBe(`rtsp://127.0.0.1:${edgePort}/sample.mp4`);
      metrics = await (await fetch(`${op.url}metrics`)).text();
      expect(metrics).toContain(`streamlab_edge_up{edge="rtsp://127.0.0.1:${edgePort}"} 1`);
      expect(metrics).toContain(`streamlab_edge_up{edge="rtsp://127.0.0.1:${silent.port}"} 0`);
      expect(metrics).toMatch(/streamlab_redirects_total\{outcome="redirected"\} 4\b/);
    } finally {
      await op.close();
    }
  }, 30_000);
});

describeWithPeers('redirecting front before edges with --auth read', ['ffmpeg'], () => {
  const REALM = 'streamlab';
  const ha1 = (user: string, pw: string) => new Map([['MD5', digestHa1('MD5', user, REALM, pw)] as const]);
  const users = new Map([
    ['viewer', ha1('viewer', 'watch.7')],
    ['front', ha1('front', 'poll.7')],
  ]);
  let origin: RtspServer;
  let edges: RtspServer[];

  beforeAll(async () => {
    ({ server: origin } = await startServer({ live: [{ name: 'news', file: SAMPLE }] }));
    const pull = `rtsp://127.0.0.1:${origin.port}/live/news`;
    edges = await Promise.all(
      [0, 1].map(async () => (await startServer({ live: [{ name: 'news', pull }], auth: { users, rule: 'read' } })).server),
    );
    await waitUntil(() => edges.every((e) => e.snapshot().live[0]?.pull?.playing === true), 20_000, 'edges playing');
  }, 60_000);
  afterAll(async () => {
    for (const e of edges ?? []) await e.close();
    await origin?.close();
  });

  it('without credentials the front finds every edge down, saying what to do; clients get 503', async () => {
    const { server: front } = await startServer({ redirect: { edges: edges.map((e) => `rtsp://127.0.0.1:${e.port}`), pollMs: 200 } });
    try {
      const s = front.snapshot().redirect!.edges;
      expect(s.map((e) => e.up)).toEqual([false, false]);
      expect(s[0]!.lastError).toContain('asks for credentials; give them in --redirect-to rtsp://USER:PASS@HOST:PORT');
      expect((await describeVia(`rtsp://127.0.0.1:${front.port}/live/news`)).status).toBe(503);
    } finally {
      await front.close();
    }
  });

  it("with the front's credentials it polls their load; ffmpeg with its own follows the 302 to the less loaded edge and plays", async () => {
    const { server: front } = await startServer({
      redirect: { edges: edges.map((e) => `rtsp://front:poll.7@127.0.0.1:${e.port}`), pollMs: 200 },
    });
    try {
      const snap = () => front.snapshot().redirect!;
      expect(snap().edges.map((e) => e.up)).toEqual([true, true]);
      // The front's credentials stay its own: never in a Location, the snapshot or the logs' edge names.
      expect(JSON.stringify(snap())).not.toContain('poll.7');
      // Two viewers hold edge 1 directly.
      const e1 = `rtsp://viewer:watch.7@127.0.0.1:${edges[0]!.port}/live/news`;
      const held = [play(e1, { transport: 'tcp', durationSec: 12 }), play(e1, { transport: 'tcp', durationSec: 12 })];
      await waitUntil(() => snap().edges[0]!.sessions === 2, 8000, 'the front sees edge 1 loaded');
      const d = await describeVia(`rtsp://127.0.0.1:${front.port}/live/news`);
      expect(d.location).toBe(`rtsp://127.0.0.1:${edges[1]!.port}/live/news`);
      const acceptedBefore = edges[1]!.snapshot().auth!.accepted;
      const ffmpeg = await ffmpegPlay(`rtsp://viewer:watch.7@127.0.0.1:${front.port}/live/news`, { transport: 'tcp', seconds: 3 });
      expectSuccess(ffmpeg, 'ffmpeg via the front to an edge with --auth read');
      expect(snap().edges.map((e) => e.redirected)).toEqual([0, 2]);
      // ffmpeg carried its credentials across the redirect and was let in by edge 2.
      expect(edges[1]!.snapshot().auth!.accepted).toBeGreaterThan(acceptedBefore);
      for (const r of await Promise.all(held)) expect(r.end).toEqual({ ok: true, reason: 'duration' });
    } finally {
      await front.close();
    }
  }, 60_000);
});
