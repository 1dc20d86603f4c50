/**
 * The bench clients' RTP reading (bench/rtp-reader.ts): in batches, a datagram's arrival is when the
 * kernel received it, not when the batch was read (the jitter figures of `npm run bench` rest on
 * it); per datagram, when JavaScript saw it. An interleaved client (bench/load-client.ts) against
 * our server: its connection read in batches from its first RTP packet (no jitter reported then),
 * or per segment (the probe).
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { LoadClient, PHASE_STEADY } from '../../bench/load-client.ts';
import { clientRead, readRtp } from '../../bench/rtp-reader.ts';
import { nativeSendmmsg } from '../../src/transport/index.ts';
import { peersRequired } from '../helpers/peers.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { waitUntil } from '../helpers/wait.ts';

const withPoll = typeof (nativeSendmmsg() as { pollRead?: unknown } | undefined)?.pollRead === 'function';
if (!withPoll && peersRequired()) throw new Error('the native addon with its TCP poll is required (npm run build:native)');

const sockets: dgram.Socket[] = [];

function udp(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  sockets.push(s);
  return new Promise((resolve) => s.bind(0, '127.0.0.1', () => resolve(s)));
}

/** Sends `n` datagrams to `to`, timed before the first and after the last; waits until `got` has them. */
async function sendAndWait(to: dgram.Socket, n: number, got: unknown[]): Promise<{ before: number; after: number }> {
  const from = await udp();
  const before = performance.now();
  for (let i = 0; i < n; i++) from.send(Buffer.from([0x80, 0, 0, i]), to.address().port, '127.0.0.1');
  // dgram.send is asynchronous: the datagrams are in the receiver's queue once every callback ran.
  await new Promise<void>((resolve) => from.send(Buffer.alloc(0), 9, '127.0.0.1', () => resolve()));
  const after = performance.now();
  const deadline = Date.now() + 2000;
  while (got.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  return { before, after };
}

afterEach(() => {
  delete process.env.STREAMLAB_BENCH_CLIENT_READ;
  for (const s of sockets.splice(0)) s.close();
});

describe('bench client RTP reading', () => {
  it('in batches: each datagram is timed when the kernel received it, not when it was read', async () => {
    const rx = await udp();
    const got: { msg: Buffer; arrivalMs: number; readMs: number }[] = [];
    readRtp(rx, (msg, arrivalMs) => got.push({ msg, arrivalMs, readMs: performance.now() }));
    // Let the kernel turn its receive stamping on (a work item after the first socket asks).
    await new Promise((r) => setTimeout(r, 50));
    const { before, after } = await sendAndWait(rx, 3, got);
    expect(got.map((g) => g.msg[3])).toEqual([0, 1, 2]);
    for (const g of got) {
      // The stamps are CLOCK_REALTIME, performance.now() is monotonic from the process's start:
      // a millisecond for the two clocks' drift since then.
      expect(g.arrivalMs).toBeGreaterThan(before - 1);
      expect(g.arrivalMs).toBeLessThan(after + 1);
      expect(g.readMs).toBeGreaterThanOrEqual(g.arrivalMs - 1);
    }
  });

  it('per datagram (event): timed when JavaScript sees it', async () => {
    process.env.STREAMLAB_BENCH_CLIENT_READ = 'event';
    const rx = await udp();
    const got: { msg: Buffer; arrivalMs: number; readMs: number }[] = [];
    readRtp(rx, (msg, arrivalMs) => got.push({ msg, arrivalMs, readMs: performance.now() }));
    const { before } = await sendAndWait(rx, 2, got);
    expect(got.map((g) => g.msg[3])).toEqual([0, 1]);
    for (const g of got) {
      expect(g.arrivalMs).toBeGreaterThan(before);
      expect(g.arrivalMs).toBeLessThanOrEqual(g.readMs);
    }
  });

  it('refuses a mode it does not know', () => {
    process.env.STREAMLAB_BENCH_CLIENT_READ = 'kernel';
    expect(() => clientRead()).toThrow(/batch or event/);
  });
});

(withPoll ? describe : describe.skip)('an interleaved bench client', () => {
  const { url } = serverForSuite();

  async function play(readEverySegment: boolean) {
    const client = new LoadClient({
      url: url(),
      phase: { phase: PHASE_STEADY },
      rrIntervalMs: 200,
      requestTimeoutMs: 5000,
      transport: 'tcp',
      readEverySegment,
    });
    await client.start();
    expect(client.error).toBeUndefined();
    await waitUntil(() => client.tracks.every((t) => t.packets >= 20), 5000, '20 packets on every track');
    return client;
  }

  it('in batches from its first packet: every packet, no jitter reported, TEARDOWN answered', async () => {
    const client = await play(false);
    try {
      const before = client.tracks.map((t) => t.packets);
      await new Promise((r) => setTimeout(r, 300));
      for (const [i, t] of client.tracks.entries()) {
        expect(t.packets).toBeGreaterThan(before[i]!);
        expect(t.arrivalExact).toBe(false);
        expect(t.source.snapshot().lost).toBe(0);
      }
      expect(client.timeToFirstRtpMs).toBeGreaterThan(0);
      await client.stop();
      expect(client.teardownOk).toBe(true);
    } finally {
      client.close();
    }
  });

  it('per segment: arrivals are its own (its jitter is reported)', async () => {
    const client = await play(true);
    try {
      for (const t of client.tracks) expect(t.arrivalExact).toBe(true);
      await client.stop();
      expect(client.teardownOk).toBe(true);
    } finally {
      client.close();
    }
  });
});
