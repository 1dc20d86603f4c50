/**
 * Many idle connections do not make the listener unreachable: with N connections held open (half
 * silent, half stuck in the middle of a request, slowloris style) a real client still connects and
 * is served (ffprobe reads both tracks), and on the ManualClock the server sheds them all at their
 * deadlines: the incomplete ones at the request timeout, the silent ones at the idle timeout.
 *
 * N is 300 here; `STREAMLAB_FLOOD_CONNECTIONS=3000 npx vitest run test/integration/idle-flood.test.ts`
 * runs the long version (every connection is from 127.0.0.1, so the per-address limit is raised).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RtspServer } from '../../src/server/index.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { ffprobeStreams } from '../helpers/ffmpeg.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { expectSuccess } from '../helpers/run-program.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { startServer } from '../helpers/server.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';

const N = Number(process.env.STREAMLAB_FLOOD_CONNECTIONS ?? 300);
/** Connections opened at once (the listen backlog is 511). */
const WAVE = 100;

interface Flood {
  sockets: net.Socket[];
  closed: () => number;
}

/** Opens `n` connections to `port`: even ones send nothing, odd ones the first line of a request. */
async function flood(port: number, n: number): Promise<Flood> {
  const sockets: net.Socket[] = [];
  let closed = 0;
  for (let i = 0; i < n; i += WAVE) {
    const wave = await Promise.all(
      Array.from(
        { length: Math.min(WAVE, n - i) },
        () =>
          new Promise<net.Socket>((resolve, reject) => {
            const s = net.connect(port, '127.0.0.1', () => resolve(s));
            s.once('error', reject);
          }),
      ),
    );
    for (const [j, s] of wave.entries()) {
      s.on('error', () => undefined);
      s.on('close', () => closed++);
      if ((i + j) % 2 === 1) s.write(`OPTIONS rtsp://127.0.0.1:${port}/sample.mp4 RTSP/1.0\r\nCSeq: 1\r\n`);
      sockets.push(s);
    }
  }
  return { sockets, closed: () => closed };
}

describeWithPeers('a flood of idle connections', ['ffprobe'], () => {
  const { server, url } = serverForSuite({ maxConnectionsPerAddress: N + 10, maxConnections: N + 10 });
  let held: Flood | undefined;

  beforeAll(async () => {
    held = await flood(server.port, N);
    await waitUntil(
      () => server.snapshot().openConnections === N,
      30_000,
      () => `${N} connections (${server.snapshot().openConnections})`,
    );
  }, 120_000);

  afterAll(() => {
    for (const s of held?.sockets ?? []) s.destroy();
  });

  it(`ffprobe reads both tracks while ${N} idle connections are held`, async () => {
    const r = await ffprobeStreams(url(), { transport: 'tcp' });
    expectSuccess(r, 'ffprobe during the flood');
    const streams = (JSON.parse(r.stdout) as { streams: { codec_type: string }[] }).streams;
    expect(streams.map((s) => s.codec_type)).toEqual(['video', 'audio']);
    // None of the flood was dropped to make room: the listener took one more.
    expect(held?.closed()).toBe(0);
    expect(server.snapshot().counters.connectionsDropped).toBe(0);
  });
});

describe('a flood of idle connections on the ManualClock', () => {
  const clock = new ManualClock();
  let server: RtspServer;
  let held: Flood | undefined;

  beforeAll(async () => {
    ({ server } = await startServer({ clock, maxConnectionsPerAddress: N + 10, maxConnections: N + 10 }));
    held = await flood(server.port, N);
    await waitUntil(() => server.snapshot().openConnections === N, 30_000, `${N} connections`);
    // The partial requests have reached the server before its clock moves.
    await sleep(500);
  }, 120_000);

  afterAll(async () => {
    for (const s of held?.sockets ?? []) s.destroy();
    await server?.close();
  });

  it(`serves a DESCRIBE while ${N} are held, then sheds them at their deadlines`, async () => {
    const base = `rtsp://127.0.0.1:${server.port}/sample.mp4`;
    const c = await RtspTestClient.connect(base);
    try {
      expect((await c.describe(base)).response.statusCode).toBe(200);
    } finally {
      c.close();
    }
    // t = 20 s: the requests begun at 0 are overdue.
    clock.advance(20_000);
    await waitUntil(
      () => held!.closed() === N / 2,
      30_000,
      () => `the ${N / 2} incomplete requests closed (${held!.closed()})`,
    );
    expect(server.snapshot().counters.requestTimeouts).toBe(N / 2);
    expect(server.snapshot().counters.idleClosed).toBe(0);
    // t = 60 s: the silent ones.
    clock.advance(40_000);
    await waitUntil(
      () => held!.closed() === N,
      30_000,
      () => `all ${N} closed (${held!.closed()})`,
    );
    expect(server.snapshot().counters.idleClosed).toBe(N / 2);
    await waitUntil(() => server.snapshot().openConnections === 0, 10_000, 'no connection left');
  });
});
