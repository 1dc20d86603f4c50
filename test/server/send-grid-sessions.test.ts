/**
 * Sessions of one file share their send instants: each PLAY at Scale 1 starts its timeline on the
 * file's send grid (send-grid.ts), so sixteen sessions started at odd moments and positions send
 * every packet at a grid point, and the scheduler wakes at most once a grid step for all of them. An
 * in-process server on a manual clock; every packet's send time is taken at the egress.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sendGridMs } from '../../src/sender/send-grid.ts';
import { RtspServer } from '../../src/server/index.ts';
import { RtspClientConnection } from '../../src/transport/rtsp-client.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { seededRandom } from '../../src/util/random.ts';
import { MEDIA_DIR } from '../helpers/server.ts';

/** Enough sessions that their own send instants would fill most milliseconds. */
const SESSIONS = 16;

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('sessions of one file on its send grid', () => {
  let server: RtspServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('send every packet at a grid point, and share the wake-ups', async () => {
    const clock = new ManualClock();
    /** Clock time of every RTP packet sent, per session. */
    const sent = new Map<string, number[]>();
    server = await RtspServer.inProcess({
      clock,
      random: seededRandom(5),
      mediaDir: MEDIA_DIR,
      host: '127.0.0.1',
      serverName: 'test',
      egress: () => (direct, t) => {
        const times = sent.get(t.sessionId) ?? [];
        sent.set(t.sessionId, times);
        return {
          egress: {
            kind: direct.kind,
            sendRtp: (h, p) => {
              times.push(clock.now());
              direct.sendRtp(h, p);
            },
            sendRtcp: (p) => direct.sendRtcp(p),
            get dropped() {
              return direct.dropped;
            },
          },
          release: () => undefined,
        };
      },
    });
    // The whole file in the chunk cache, so that no stream waits for a read in simulated time.
    const entry = await server.catalog.acquire('sample.mp4');
    for (const t of entry.tracks) for (let c = 0; c <= t.source.chunkOf(t.source.sampleCount - 1); c++) await t.source.loadChunk(c);
    const grid = entry.sendGridMs!;
    expect(grid).toBeCloseTo(sendGridMs(entry.tracks.map((t) => t.source.track))!, 12);
    expect(grid).toBeCloseTo(8 / 3, 12);

    const url = 'rtsp://127.0.0.1/sample.mp4';
    const clients: RtspClientConnection[] = [];
    const play = async (range: string) => {
      const c = RtspClientConnection.over(server!.connect(), { host: 'in-process', port: 554, random: seededRandom(clients.length) });
      clients.push(c);
      const a = await c.request('SETUP', `${url}/trackID=1`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
      const session = a.headers.get('Session')!.split(';')[0]!;
      await c.request('SETUP', `${url}/trackID=2`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3', Session: session });
      expect((await c.request('PLAY', url, { Session: session, Range: range })).statusCode).toBe(200);
    };
    const run = async (ms: number, step = 0.1) => {
      for (let t = 0; t < ms; t += step) {
        clock.advance(step);
        await tick();
      }
    };
    // Sixteen sessions, started at odd moments, at odd positions.
    clock.advance(0.37);
    for (let i = 0; i < SESSIONS; i++) {
      await play(`npt=${((i * 1.37) % 9).toFixed(2)}-`);
      await run(7.3 + (i % 5) * 3.1);
    }
    await run(300);
    const from = clock.now();
    const wakeupsBefore = server.snapshot().scheduler.wakeups;
    await run(1000);
    const wakeups = server.snapshot().scheduler.wakeups - wakeupsBefore;

    expect(sent.size).toBe(SESSIONS);
    /** Grid points at which each session sent in the measured second. */
    let ownInstants = 0;
    for (const [id, times] of sent) {
      expect(times.length, id).toBeGreaterThan(100);
      for (const t of times) {
        // At its grid point (to within rounding), or within the manual clock's 0.1 ms step after it.
        const off = t / grid - Math.round(t / grid);
        expect(off, `${id} at ${t}`).toBeGreaterThan(-1e-9);
        expect(off, `${id} at ${t}`).toBeLessThan(0.1 / grid);
      }
      ownInstants += new Set(times.filter((t) => t >= from).map((t) => Math.round(t / grid))).size;
    }
    // Each session sends at ~62 instants a second (25 video frames, 46.9 AAC frames, 3 in 320 ms
    // together): on timelines of their own the sessions would need a wake-up for nearly each of
    // their ~1,000. On the grid there are 375 instants a second, whatever the number of sessions;
    // RTCP adds a few.
    expect(ownInstants).toBeGreaterThan(900);
    expect(wakeups).toBeLessThan(1000 / grid + 25);
    for (const c of clients) c.close();
    server.catalog.release(entry);
  }, 30_000);
});
