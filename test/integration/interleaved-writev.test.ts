/**
 * Issue 11, 400 TCP clients at UDP's cost: the native writer (native/sendmmsg.c writev) on real
 * loopback connections. Every connection of a wake gets its `$` frames in one native call; the
 * bytes each reader gets are exactly its frames, in order, with the RTSP answers Node wrote
 * between wakes in their place, and the same as the Node path writes; a connection with more
 * pieces than one sendmsg takes is written whole; a reader that stops makes the kernel take part
 * of a write, Node queues the rest in order, the backlog bound drops whole frames (counted), and
 * once it reads again its stream is whole frames in order; a TLS connection never gets a native
 * write (that would put plaintext on its wire).
 */
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  InterleavedBatch,
  InterleavedWriter,
  MAX_INTERLEAVED_BACKLOG_BYTES,
  defaultInterleavedBatch,
  interleavedSenderKind,
  nativeSenderError,
  nativeWritev,
  setInterleavedSender,
} from '../../src/transport/index.ts';
import type { NativeWritev } from '../../src/transport/index.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { selfSignedCertificate } from '../helpers/tls.ts';
import { waitUntil } from '../helpers/wait.ts';

/** The end of the current synchronous run: the wake's flush has run. */
const flushed = () => new Promise<void>((resolve) => queueMicrotask(resolve));

/** The `$` frame (RFC 2326 §10.12) of `payload` on `channel`. */
function frame(channel: number, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  return Buffer.concat([Buffer.from([0x24, channel, body.length >> 8, body.length & 0xff]), body]);
}

interface Pair {
  /** The server's end: the writer's socket. */
  server: net.Socket;
  /** The client's end, collecting what it reads. */
  client: net.Socket;
  got: Buffer[];
}

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];

async function tcpPair(): Promise<Pair> {
  const listener = net.createServer();
  servers.push(listener);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
  const server = await accepted;
  server.setNoDelay(true);
  sockets.push(server, client);
  const got: Buffer[] = [];
  client.on('data', (b: Buffer) => got.push(b));
  return { server, client, got };
}

const received = (p: Pair) => Buffer.concat(p.got);

async function readAll(p: Pair, bytes: number): Promise<Buffer> {
  await waitUntil(
    () => received(p).length >= bytes,
    10_000,
    () => `${received(p).length} of ${bytes} bytes read`,
  );
  return received(p);
}

afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const l of servers.splice(0)) l.close();
});

describe('native interleaved writer on real connections', () => {
  let addon: NativeWritev;
  beforeAll(() => {
    // The addon is built at install (native/build.mjs); on Linux its absence is a defect.
    expect(nativeSenderError()).toBeUndefined();
    const w = nativeWritev();
    expect(w).toBeDefined();
    addon = w!;
  });

  it("writes each connection's frames of a wake, with Node's answers between wakes in place, as the Node path does", async () => {
    const native = new InterleavedBatch(addon);
    const node = new InterleavedBatch(undefined);
    const pairs = await Promise.all([tcpPair(), tcpPair(), tcpPair(), tcpPair()]);
    const o = { dropped: 0 };
    const payload = Buffer.alloc(1400, 0x5a);
    const want = pairs.map(() => [] as Buffer[]);
    for (let wake = 0; wake < 5; wake++) {
      for (const [i, p] of pairs.entries()) {
        const w = InterleavedWriter.of(p.server, i % 2 === 0 ? native : node);
        // Track i's packets: header then the shared payload; RTCP alone.
        for (let k = 0; k <= i; k++) {
          const header = Buffer.from([0x80, 96, wake, k, i]);
          w.add(o, 2 * (k % 2), header, payload);
          want[i]!.push(frame(2 * (k % 2), header, payload));
        }
        const rtcp = Buffer.from([0x80, 0xc8, 0, 1, wake, i]);
        w.add(o, 1, rtcp, undefined);
        want[i]!.push(frame(1, rtcp));
      }
      await flushed();
      // An RTSP answer written by the connection's own code between two wakes.
      const answer = Buffer.from(`RTSP/1.0 200 OK\r\nCSeq: ${wake}\r\n\r\n`);
      for (const [i, p] of pairs.entries()) {
        p.server.write(answer);
        want[i]!.push(answer);
      }
    }
    for (const [i, p] of pairs.entries()) {
      const expected = Buffer.concat(want[i]!);
      const got = await readAll(p, expected.length);
      expect(got.equals(expected), `connection ${i}`).toBe(true);
    }
    expect(o.dropped).toBe(0);
    expect(native.stats).toMatchObject({ nativeCalls: 5, nativeWrites: 10, nodeWrites: 0, partial: 0, errors: 0 });
    expect(node.stats).toMatchObject({ nativeCalls: 0, nodeWrites: 10 });
  });

  it('writes a connection whole when its frames are more pieces than one sendmsg takes (IOV_MAX)', async () => {
    const batch = new InterleavedBatch(addon);
    const p = await tcpPair();
    const w = InterleavedWriter.of(p.server, batch);
    const o = { dropped: 0 };
    const want: Buffer[] = [];
    for (let k = 0; k < 700; k++) {
      const header = Buffer.from([0x80, 96, k >> 8, k & 0xff]);
      const payload = Buffer.alloc(1 + (k % 300), k & 0xff);
      w.add(o, k % 4, header, payload);
      want.push(frame(k % 4, header, payload));
    }
    await flushed();
    const expected = Buffer.concat(want);
    expect((await readAll(p, expected.length)).equals(expected)).toBe(true);
    expect(batch.stats).toMatchObject({ nativeCalls: 1, nativeWrites: 1, partial: 0 });
  });

  it('frames held over wakes (ManualClock), payload-less frames in a row: one sendmsg carries them all, byte-exact', async () => {
    const clock = new ManualClock();
    const batch = new InterleavedBatch(addon, { clock, holdMs: 5, holdBytes: 1 << 20 });
    const p = await tcpPair();
    const w = InterleavedWriter.of(p.server, batch);
    const o = { dropped: 0 };
    const want: Buffer[] = [];
    // The sender's header memory, rewritten every wake: what was queued must not change.
    const header = Buffer.alloc(12);
    for (let wake = 0; wake < 3; wake++) {
      header.fill(wake + 1);
      w.add(o, 0, header, Buffer.alloc(200, wake));
      want.push(frame(0, Buffer.alloc(12, wake + 1), Buffer.alloc(200, wake)));
      for (let k = 0; k < 3; k++) {
        const alone = Buffer.from([0x80, 0xc9, wake, k]);
        w.add(o, 1, alone, undefined);
        want.push(frame(1, alone));
      }
      await flushed();
      header.fill(0);
      clock.advance(2);
    }
    // t = 6: the frames of t = 0, 2, 4 left together when the first was 5 ms old.
    expect(batch.stats).toMatchObject({ nativeCalls: 1, nativeWrites: 1, timerWrites: 1, frames: 12 });
    const expected = Buffer.concat(want);
    expect((await readAll(p, expected.length)).equals(expected)).toBe(true);
  });

  it('a reader that stops: Node queues the rest of a partial write, the bound drops whole frames, and the stream stays whole frames in order', async () => {
    const batch = new InterleavedBatch(addon);
    const p = await tcpPair();
    p.client.pause();
    const w = InterleavedWriter.of(p.server, batch);
    const o = { dropped: 0 };
    const kept: number[] = [];
    const SIZE = 60_000;
    let seq = 0;
    // Far more than the kernel's buffers and the bound: the loop ends at the first drops.
    for (let wake = 0; wake < 2000 && o.dropped < 8; wake++) {
      for (let k = 0; k < 8; k++) {
        const header = Buffer.alloc(8);
        header.writeUInt32BE(seq, 0);
        const before = o.dropped;
        w.add(o, 0, header, Buffer.alloc(SIZE, seq & 0xff));
        if (o.dropped === before) kept.push(seq);
        seq++;
      }
      await flushed();
    }
    expect(o.dropped).toBeGreaterThan(0);
    expect(batch.stats.partial).toBeGreaterThan(0);
    // Node holds what the kernel would not take, up to the bound (plus the last wake's frames,
    // each admitted while what was queued before it was under the bound).
    expect(p.server.writableLength).toBeGreaterThan(0);
    expect(p.server.writableLength).toBeLessThanOrEqual(MAX_INTERLEAVED_BACKLOG_BYTES + 8 * (4 + 8 + SIZE));
    // While Node holds bytes, frames go behind them through Node, never around them.
    const nativeBefore = batch.stats.nativeWrites;
    const dropsBefore = o.dropped;
    w.add(o, 0, Buffer.alloc(8), Buffer.alloc(10));
    const probe = o.dropped === dropsBefore ? 4 + 18 : 0;
    await flushed();
    expect(batch.stats.nativeWrites).toBe(nativeBefore);
    p.client.resume();
    const total = kept.length * (4 + 8 + SIZE) + probe;
    const got = await readAll(p, total);
    expect(got.length).toBe(total);
    const seqs: number[] = [];
    for (let at = 0; at < got.length;) {
      expect(got[at]).toBe(0x24);
      const length = got.readUInt16BE(at + 2);
      if (length === SIZE + 8) {
        const s = got.readUInt32BE(at + 4);
        seqs.push(s);
        expect(got[at + 4 + 8]).toBe(s & 0xff);
        expect(got[at + 4 + 8 + SIZE - 1]).toBe(s & 0xff);
      }
      at += 4 + length;
    }
    expect(seqs).toEqual(kept);
  });

  it('a peer that goes away: the write error reaches Node, the connection closes, nothing throws', async () => {
    const batch = new InterleavedBatch(addon);
    const p = await tcpPair();
    const w = InterleavedWriter.of(p.server, batch);
    let closed = false;
    p.server.on('error', () => {});
    p.server.on('close', () => (closed = true));
    p.client.resetAndDestroy();
    const o = { dropped: 0 };
    for (let wake = 0; wake < 200 && !closed; wake++) {
      w.add(o, 0, Buffer.alloc(12), Buffer.alloc(1000));
      await flushed();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(closed).toBe(true);
  });

  it('a TLS connection takes the Node path: the client reads the exact frames through TLS', async () => {
    const { cert, key } = selfSignedCertificate();
    const listener = tls.createServer({ cert, key });
    servers.push(listener);
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<tls.TLSSocket>((resolve) => listener.once('secureConnection', resolve));
    const client = tls.connect({ port: (listener.address() as net.AddressInfo).port, host: '127.0.0.1', ca: cert });
    const server = await accepted;
    sockets.push(server, client);
    const got: Buffer[] = [];
    client.on('data', (b: Buffer) => got.push(b));
    const batch = new InterleavedBatch(addon);
    const w = InterleavedWriter.of(server, batch);
    const o = { dropped: 0 };
    const header = Buffer.from([0x80, 96, 0, 1]);
    const payload = Buffer.alloc(500, 3);
    w.add(o, 0, header, payload);
    w.add(o, 1, Buffer.from([0x80, 0xc8]), undefined);
    await flushed();
    const expected = Buffer.concat([frame(0, header, payload), frame(1, Buffer.from([0x80, 0xc8]))]);
    await waitUntil(() => Buffer.concat(got).length >= expected.length, 10_000, 'TLS frames read');
    expect(Buffer.concat(got).equals(expected)).toBe(true);
    expect(batch.stats).toMatchObject({ nativeCalls: 0, nodeWrites: 1 });
  });
});

describe('choosing the interleaved writer', () => {
  afterAll(() => {
    setInterleavedSender('auto');
  });

  it('STREAMLAB_SENDER / setInterleavedSender: native when the addon has writev, js on request', () => {
    expect(setInterleavedSender('js')).toBe('js');
    expect(interleavedSenderKind()).toBe('js');
    const js = defaultInterleavedBatch();
    expect(setInterleavedSender('native')).toBe('native');
    const native = defaultInterleavedBatch();
    expect(native).not.toBe(js);
    expect(setInterleavedSender('auto')).toBe('native');
    expect(defaultInterleavedBatch()).toBe(native);
  });
});
