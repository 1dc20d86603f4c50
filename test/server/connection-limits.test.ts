/**
 * What bounds an RTSP connection on an open network, through the whole server on the ManualClock
 * (no test waits the 60 s): the idle timeout (no complete request and no live session), the
 * request deadline (a request dribbled in one byte at a time), the connections one address may
 * hold, and a stalled interleaved reader whose session expired. Each closure is counted in
 * snapshot().counters.
 *
 * The bytes cross real loopback sockets while the server's clock stands still, so a test waits
 * (in real time) until the server has read what was sent before it moves the clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RtspServer, ServerOptions } from '../../src/server/index.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { RawConnection } from '../helpers/raw-connection.ts';
import { SAMPLE, startServer } from '../helpers/server.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';

/** Long enough for bytes written on loopback to reach the server's socket on a busy machine. */
const DELIVERY_MS = 300;

describe('connection limits on the ManualClock', () => {
  let server: RtspServer | undefined;
  const opened: RawConnection[] = [];
  afterEach(async () => {
    for (const c of opened.splice(0)) c.close();
    await server?.close();
    server = undefined;
  });

  async function start(clock: ManualClock, options: Partial<ServerOptions> = {}): Promise<RtspServer> {
    ({ server } = await startServer({ clock, idleTimeoutMs: 60_000, requestTimeoutMs: 20_000, ...options }));
    return server;
  }

  async function open(s: RtspServer): Promise<RawConnection> {
    const c = await RawConnection.open(s.port);
    opened.push(c);
    return c;
  }

  /** The connection is still open after a real pause (a close would have arrived by then). */
  async function stillOpen(c: RawConnection): Promise<boolean> {
    await sleep(DELIVERY_MS);
    return !c.closed;
  }

  const options = (s: RtspServer) => `rtsp://127.0.0.1:${s.port}/sample.mp4`;

  it('closes a connection that sends nothing at the idle timeout, counted', async () => {
    const clock = new ManualClock();
    const s = await start(clock);
    const c = await open(s);
    await waitUntil(() => s.snapshot().openConnections === 1, 5000, 'the server to accept');
    clock.advance(59_999);
    expect(await stillOpen(c)).toBe(true);
    clock.advance(1);
    expect(await c.waitClosed()).toBe(true);
    expect(s.snapshot().counters.idleClosed).toBe(1);
    await waitUntil(() => s.snapshot().openConnections === 0, 5000, 'the connection to be gone');
  });

  it('counts idleness from the last complete request', async () => {
    const clock = new ManualClock();
    const s = await start(clock);
    const c = await open(s);
    clock.advance(30_000);
    expect((await c.request('OPTIONS', options(s), { CSeq: '1' })).statusCode).toBe(200);
    // t = 60 s: 30 s since the request.
    clock.advance(30_000);
    expect(await stillOpen(c)).toBe(true);
    // t = 90 s: 60 s since the request.
    clock.advance(30_000);
    expect(await c.waitClosed()).toBe(true);
    expect(s.snapshot().counters.idleClosed).toBe(1);
  });

  it('keeps a quiet connection whose UDP session lives, and closes it once the session is gone', async () => {
    const clock = new ManualClock();
    const s = await start(clock, { sessionTimeoutSec: 100, sessionTimeoutGraceSec: 5 });
    const c = await open(s);
    const setup = await c.request('SETUP', `${options(s)}/trackID=1`, {
      CSeq: '1',
      Transport: 'RTP/AVP;unicast;client_port=40000-40001',
    });
    expect(setup.statusCode).toBe(200);
    const id = setup.headers.get('Session')!.split(';')[0]!;
    // t = 61 s: idle on the control connection, but the session (kept alive by RTCP, say) lives.
    clock.advance(61_000);
    expect(await stillOpen(c)).toBe(true);
    expect(s.sessions.has(id)).toBe(true);
    // t = 105 s: the session expires; the connection is looked at again at 120 s.
    clock.advance(44_000);
    expect(s.sessions.has(id)).toBe(false);
    expect(await stillOpen(c)).toBe(true);
    clock.advance(15_000);
    expect(await c.waitClosed()).toBe(true);
    expect(s.snapshot().counters.idleClosed).toBe(1);
  });

  it('closes a slowloris: one header byte every 4 s, request never complete, long before the idle timeout', async () => {
    const clock = new ManualClock();
    const s = await start(clock);
    const c = await open(s);
    // t = 0: a complete request (its answer proves the server reads us), then the start of another.
    expect((await c.request('OPTIONS', options(s), { CSeq: '1' })).statusCode).toBe(200);
    c.write(`OPTIONS ${options(s)} RTSP/1.0\r\n`);
    await sleep(DELIVERY_MS);
    // t = 4, 8, 12, 16 s: a byte each.
    for (const byte of 'CSeq') {
      clock.advance(4_000);
      c.write(byte);
      await sleep(DELIVERY_MS);
    }
    // t = 20 s - 1 ms: still within the deadline of the request begun at 0.
    clock.advance(3_999);
    expect(await stillOpen(c)).toBe(true);
    clock.advance(1);
    expect(await c.waitClosed()).toBe(true);
    const counters = s.snapshot().counters;
    expect(counters.requestTimeouts).toBe(1);
    expect(counters.idleClosed).toBe(0);
  });

  it('applies the request deadline to a connection that holds a live interleaved session too', async () => {
    const clock = new ManualClock();
    const s = await start(clock, { sessionTimeoutSec: 300 });
    const c = await open(s);
    const setup = await c.request('SETUP', `${options(s)}/trackID=1`, {
      CSeq: '1',
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    expect(setup.statusCode).toBe(200);
    c.write(`GET_PARAMETER ${options(s)} RTSP/1.0\r\nCSeq: 2\r\n`);
    await sleep(DELIVERY_MS);
    clock.advance(19_999);
    expect(await stillOpen(c)).toBe(true);
    clock.advance(1);
    expect(await c.waitClosed()).toBe(true);
    expect(s.snapshot().counters.requestTimeouts).toBe(1);
    // The interleaved session ends with its connection.
    await waitUntil(() => s.sessions.size === 0, 5000, 'the session to end with its connection');
  });

  it('refuses connections beyond the per-address limit, counted, and takes one again when a place frees', async () => {
    const clock = new ManualClock();
    const s = await start(clock, { maxConnectionsPerAddress: 3 });
    const held = [await open(s), await open(s), await open(s)];
    for (const [i, c] of held.entries()) expect((await c.request('OPTIONS', options(s), { CSeq: String(i + 1) })).statusCode).toBe(200);
    const over = await open(s);
    expect(await over.waitClosed()).toBe(true);
    const over2 = await open(s);
    expect(await over2.waitClosed()).toBe(true);
    expect(s.snapshot().counters.connectionsRefused).toBe(2);
    expect(s.snapshot().openConnections).toBe(3);
    held[0]!.close();
    await waitUntil(() => s.snapshot().openConnections === 2, 5000, 'a place to free');
    const again = await open(s);
    expect((await again.request('OPTIONS', options(s), { CSeq: '1' })).statusCode).toBe(200);
    expect(s.snapshot().counters.connectionsRefused).toBe(2);
  });

  it('at maxConnections a newcomer takes the place of the longest idle connection without a session; with none, it is dropped', async () => {
    const clock = new ManualClock();
    const s = await start(clock, { maxConnections: 4, sessionTimeoutSec: 300 });
    // A session over its connection: never evicted.
    const withSession = await open(s);
    const setup = await withSession.request('SETUP', `${options(s)}/trackID=1`, {
      CSeq: '1',
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    expect(setup.statusCode).toBe(200);
    clock.advance(1000);
    const oldestIdle = await open(s);
    await waitUntil(() => s.snapshot().openConnections === 2, 5000, 'the server to accept');
    clock.advance(1000);
    const dribbling = await open(s);
    dribbling.write(`OPTIONS ${options(s)} RTSP/1.0\r\nCSeq: 1\r\n`);
    await waitUntil(() => s.snapshot().openConnections === 3, 5000, 'the server to accept');
    clock.advance(1000);
    const recent = await open(s);
    await waitUntil(() => s.snapshot().openConnections === 4, 5000, 'the server to accept');
    await sleep(DELIVERY_MS);

    const newcomer = await open(s);
    expect((await newcomer.request('OPTIONS', options(s), { CSeq: '1' })).statusCode).toBe(200);
    expect(await oldestIdle.waitClosed()).toBe(true);
    expect(s.snapshot().counters.idleEvicted).toBe(1);
    // Next in line: the half-sent request (a request begun protects nothing), then the silent one.
    const second = await open(s);
    expect((await second.request('OPTIONS', options(s), { CSeq: '1' })).statusCode).toBe(200);
    expect(await dribbling.waitClosed()).toBe(true);
    expect(await stillOpen(recent)).toBe(true);
    expect(s.snapshot().counters.idleEvicted).toBe(2);
    expect(await stillOpen(withSession)).toBe(true);

    // Everyone left has a session: the next newcomer is dropped, counted, and nobody is evicted.
    recent.close();
    newcomer.close();
    second.close();
    await waitUntil(() => s.snapshot().openConnections === 1, 5000, 'only the session connection left');
    const others = [await open(s), await open(s), await open(s)];
    for (const [i, c] of others.entries()) {
      const r = await c.request('SETUP', `${options(s)}/trackID=1`, { CSeq: String(i), Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
      expect(r.statusCode).toBe(200);
    }
    const dropped = await open(s);
    expect(await dropped.waitClosed()).toBe(true);
    expect(s.snapshot().counters.connectionsDropped).toBe(1);
    expect(s.snapshot().counters.idleEvicted).toBe(2);
    for (const c of [withSession, ...others]) expect(c.closed).toBe(false);
  });

  it('closes the connection of a stalled interleaved reader when its session expires, not an idle period later', async () => {
    const clock = new ManualClock();
    // A live channel (the sample looped) sends for as long as the session lives.
    const s = await start(clock, { sessionTimeoutSec: 100, sessionTimeoutGraceSec: 5, live: [{ name: 'loop', file: SAMPLE }] });
    const c = await open(s);
    const url = `rtsp://127.0.0.1:${s.port}/live/loop`;
    const setup = await c.request('SETUP', `${url}/trackID=1`, { CSeq: '1', Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
    expect(setup.statusCode).toBe(200);
    const id = setup.headers.get('Session')!.split(';')[0]!;
    expect((await c.request('PLAY', url, { CSeq: '2', Session: id })).statusCode).toBe(200);
    // The client stops reading: the kernel buffers fill, then the server's own queue.
    c.socket.pause();
    const ended: string[] = [];
    s.events.on('session-ended', (e) => ended.push(e.reason));
    // t = 60 s: idle, but its session lives; the connection is looked at again at 120 s.
    for (let t = 0; t < 104; t++) {
      clock.advance(1000);
      await sleep(5);
    }
    expect(ended).toEqual([]);
    expect(c.closed).toBe(false);
    // t = 105 s: the session expires with media unread; the connection goes at once.
    clock.advance(1000);
    expect(ended).toEqual(['timeout']);
    await waitUntil(() => s.snapshot().counters.expiredClosed === 1, 5000, 'the expired connection to be closed');
    await waitUntil(() => s.snapshot().openConnections === 0, 5000, 'the connection to be gone');
    expect(s.snapshot().counters.idleClosed).toBe(0);
  });
});
