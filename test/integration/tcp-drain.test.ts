/**
 * Issue 11: the RTSP connections of interleaved players read at the scheduler's wake-ups
 * (src/transport/stream-drain.ts, native/stream-poll.c) instead of by Node, one event-loop
 * wake-up per receiver report:
 * - StreamDrain on a plain TCP pair: bytes read with the kernel's arrival time (not the time of
 *   the read, 150+ ms later here); given back, Node reads the connection again; the peer's end
 *   gives it back by itself and Node closes as usual;
 * - a server on the real clock reads a player's connection this way from its PLAY: a report
 *   answering its SR gives a loopback round trip, a keep-alive is answered, TEARDOWN gives the
 *   connection back to Node; a player that drops its connection mid-play ends its session.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Scheduler, StreamDrain, nativeSendmmsg } from '../../src/transport/index.ts';
import { realClock } from '../../src/util/clock.ts';
import { ntpMiddle32, ntpToUnixMs } from '../../src/util/ntp.ts';
import type { ReceiverReportRecord } from '../../src/sender/qos.ts';
import { peersRequired } from '../helpers/peers.ts';
import { RawConnection } from '../helpers/raw-connection.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { untilKernelStamps } from '../helpers/kernel-stamps.ts';
import { waitUntil } from '../helpers/wait.ts';

const HOST = '127.0.0.1';
const withPoll = typeof (nativeSendmmsg() as { pollRead?: unknown } | undefined)?.pollRead === 'function';
if (!withPoll && peersRequired()) throw new Error('the native addon with its TCP poll is required (npm run build:native)');
const describePoll = withPoll ? describe : describe.skip;

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A connected pair: the server's side (accepted) and the client's. */
async function tcpPair(): Promise<{ server: net.Socket; client: net.Socket; close(): void }> {
  const listener = net.createServer();
  await new Promise<void>((r) => listener.listen(0, HOST, r));
  const accepted = new Promise<net.Socket>((r) => listener.once('connection', r));
  const client = net.connect((listener.address() as net.AddressInfo).port, HOST);
  await new Promise<void>((r) => client.once('connect', r));
  const server = await accepted;
  listener.close();
  return {
    server,
    client,
    close() {
      client.destroy();
      server.destroy();
    },
  };
}

describePoll('StreamDrain', () => {
  const open: { close(): void }[] = [];
  afterEach(() => {
    for (const o of open.splice(0)) o.close();
  });

  async function setup(periodMs: number) {
    const scheduler = new Scheduler(realClock);
    const drain = StreamDrain.open(scheduler, realClock, periodMs);
    if (!drain) throw new Error('StreamDrain.open refused with the addon loaded');
    const pair = await tcpPair();
    open.push(pair, drain);
    const got: { bytes: string; arrivalWallMs: number; readAtMs: number }[] = [];
    const byNode: string[] = [];
    pair.server.on('data', (b: Buffer) => byNode.push(b.toString()));
    return { scheduler, drain, ...pair, got, byNode };
  }

  it('reads a taken connection with the arrival time; given back, Node reads it again', async () => {
    const { drain, server, client, got, byNode } = await setup(200);
    const onData = (b: Buffer, arrivalWallMs: number) => got.push({ bytes: b.toString(), arrivalWallMs, readAtMs: realClock.wallNow() });
    expect(drain.take(server, onData)).toBe(true);
    expect(drain.take(server, onData)).toBe(true); // taken once
    await untilKernelStamps();
    const sentAt = realClock.wallNow();
    client.write('first');
    await waitUntil(() => got.length === 1, 3000, 'the bytes read by the drain');
    expect(got[0]!.bytes).toBe('first');
    expect(byNode).toEqual([]);
    // Read at the lazy run, 150+ ms later, yet stamped when it came (within a few ms of the send).
    expect(got[0]!.readAtMs - sentAt).toBeGreaterThan(150);
    expect(got[0]!.arrivalWallMs - sentAt).toBeGreaterThan(-1);
    expect(got[0]!.arrivalWallMs - sentAt).toBeLessThan(20);
    expect(drain.stats).toMatchObject({ taken: 1, reads: 1, bytes: 5, errors: 0 });
    drain.release(server);
    expect(drain.size).toBe(0);
    client.write('second');
    await waitUntil(() => byNode.length === 1, 3000, 'the bytes read by Node');
    expect(byNode).toEqual(['second']);
    expect(got).toHaveLength(1);
  });

  it("the peer's end gives the connection back: Node sees it and closes", async () => {
    const { drain, server, client, got } = await setup(10);
    let ended = false;
    server.on('end', () => (ended = true));
    expect(drain.take(server, (b) => got.push({ bytes: b.toString(), arrivalWallMs: 0, readAtMs: 0 }))).toBe(true);
    client.end('bye');
    await waitUntil(() => ended, 3000, "Node's end event");
    expect(got.map((g) => g.bytes).join('')).toBe('bye');
    expect(drain.size).toBe(0);
    expect(drain.stats.released).toBe(1);
  });

  it('reads at most its cap of a connection at a time, the rest at later reads', async () => {
    const scheduler = new Scheduler(realClock);
    const drain = StreamDrain.open(scheduler, realClock, 10, 1000);
    if (!drain) throw new Error('StreamDrain.open refused with the addon loaded');
    const pair = await tcpPair();
    open.push(pair, drain);
    const chunks: Buffer[] = [];
    expect(drain.take(pair.server, (b) => chunks.push(b))).toBe(true);
    const sent = Buffer.alloc(2500, 7);
    sent.writeUInt32BE(0xdeadbeef, 2496);
    pair.client.write(sent);
    await waitUntil(() => chunks.reduce((n, b) => n + b.length, 0) === sent.length, 3000, 'every byte through the drain');
    expect(Math.max(...chunks.map((b) => b.length))).toBeLessThanOrEqual(1000);
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(Buffer.concat(chunks).equals(sent)).toBe(true);
  });

  it('does not take a paused socket, or a socket that is not TCP', async () => {
    const { drain, server } = await setup(10);
    server.pause();
    expect(drain.take(server, () => undefined)).toBe(false);
    server.resume();
    const { PassThrough } = await import('node:stream');
    expect(drain.take(new PassThrough(), () => undefined)).toBe(false);
    expect(drain.size).toBe(0);
  });
});

describePoll('a server on the real clock', () => {
  const { server } = serverForSuite();

  /** SETUP (interleaved 0-1) and PLAY of the audio track; the SR that comes first. */
  async function play(c: RawConnection) {
    const url = `rtsp://${HOST}:${server.port}/sample.mp4`;
    const setup = await c.request('SETUP', `${url}/trackID=2`, { CSeq: '1', Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
    expect(setup.statusCode).toBe(200);
    const session = setup.headers.get('Session')!.split(';')[0]!;
    expect(server.snapshot().tcpDrain?.connections).toBe(0);
    expect((await c.request('PLAY', url, { CSeq: '2', Session: session })).statusCode).toBe(200);
    await waitUntil(() => c.interleaved.some((f) => f.channel === 1 && f.data[1] === 200), 3000, 'the first SR');
    return { url, session, sr: c.interleaved.find((f) => f.channel === 1 && f.data[1] === 200)!.data };
  }

  it("reads a player's connection from its PLAY: its report's round trip, a keep-alive, TEARDOWN gives it back", async () => {
    const c = await RawConnection.open(server.port);
    const reports: ReceiverReportRecord[] = [];
    const off = server.events.on('receiver-report', (r) => reports.push(r));
    try {
      const { url, session, sr } = await play(c);
      expect(server.snapshot().tcpDrain?.connections).toBe(1);
      await untilKernelStamps();
      // An RR answering the SR, DLSR counted from the SR's own NTP time (one clock here): the
      // round trip the server works out is the report's way back alone, less DLSR's two units.
      const ntp = { seconds: sr.readUInt32BE(8), fraction: sr.readUInt32BE(12) };
      const rr = Buffer.alloc(36);
      rr.write('$', 0);
      rr.writeUInt8(1, 1);
      rr.writeUInt16BE(32, 2);
      rr.writeUInt8(0x81, 4);
      rr.writeUInt8(201, 5);
      rr.writeUInt16BE(7, 6);
      rr.writeUInt32BE(0x7cb7cb7c, 8);
      rr.writeUInt32BE(sr.readUInt32BE(4), 12);
      rr.writeUInt32BE(1, 20);
      rr.writeUInt32BE(ntpMiddle32(ntp), 28);
      const sentAt = realClock.wallNow();
      rr.writeUInt32BE(Math.floor(((sentAt - ntpToUnixMs(ntp)) * 65536) / 1000) - 2, 32);
      c.write(rr);
      await waitUntil(() => reports.some((r) => r.reporterSsrc === 0x7cb7cb7c), 3000, 'the report processed');
      const r = reports.find((x) => x.reporterSsrc === 0x7cb7cb7c)!;
      expect(r.receivedAt - sentAt).toBeGreaterThan(-1);
      expect(r.receivedAt - sentAt).toBeLessThan(20);
      expect(r.rttMs).toBeDefined();
      expect(Math.abs(r.rttMs! - (r.receivedAt - sentAt) - 2 / 65.536)).toBeLessThan(0.1);
      expect(server.snapshot().tcpDrain?.reads).toBeGreaterThanOrEqual(1);
      // A keep-alive while the drain reads: answered.
      const t0 = performance.now();
      expect((await c.request('GET_PARAMETER', url, { CSeq: '3', Session: session })).statusCode).toBe(200);
      expect(performance.now() - t0).toBeLessThan(1000);
      expect((await c.request('TEARDOWN', url, { CSeq: '4', Session: session })).statusCode).toBe(200);
      expect(server.snapshot().tcpDrain?.connections).toBe(0);
      // Node reads it again: a request after TEARDOWN is answered (454: no such session).
      expect((await c.request('GET_PARAMETER', url, { CSeq: '5', Session: session })).statusCode).toBe(454);
    } finally {
      off();
      c.close();
    }
  });

  it('a player that drops its connection mid-play: the session ends, the connection is closed', async () => {
    await waitUntil(() => server.snapshot().openConnections === 0, 3000, "the earlier tests' connections closed");
    const c = await RawConnection.open(server.port);
    await play(c);
    expect(server.snapshot().tcpDrain?.connections).toBe(1);
    expect(server.snapshot().sessions).toHaveLength(1);
    c.socket.end();
    await waitUntil(() => server.snapshot().sessions.length === 0, 3000, 'the session ended');
    await waitUntil(() => server.snapshot().openConnections === 0, 3000, 'the connection closed');
    expect(server.snapshot().tcpDrain?.connections).toBe(0);
    c.close();
    await pause(10);
  });

  it('reads pipelined requests that arrive in one read', async () => {
    const c = await RawConnection.open(server.port);
    try {
      const { url, session } = await play(c);
      c.write(
        `GET_PARAMETER ${url} RTSP/1.0\r\nCSeq: 10\r\nSession: ${session}\r\n\r\n` +
          `GET_PARAMETER ${url} RTSP/1.0\r\nCSeq: 11\r\nSession: ${session}\r\n\r\n`,
      );
      const answers = await c.waitResponses(4);
      expect(answers.slice(2).map((a) => [a.statusCode, a.headers.get('CSeq')])).toEqual([
        [200, '10'],
        [200, '11'],
      ]);
      await c.request('TEARDOWN', url, { CSeq: '12', Session: session });
    } finally {
      c.close();
    }
  });
});
