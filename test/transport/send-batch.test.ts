/**
 * Issue 11, batching per wake without sockets: the interleaved writer's frames are byte-exact and
 * leave in one write per connection per wake; with the native writer, every plain TCP connection
 * of a wake is handed over in one call (what the call gets is checked here against a fake addon;
 * test/integration/interleaved-writev.test.ts has the real addon on real sockets), and what it
 * could not write goes to Node from the exact byte it stopped at; the native UDP batch hands a wake's datagrams over in
 * one call, in order, never on a closed socket's descriptor, and sends what the kernel would not
 * take at once the slow way; a sender's header ring never reuses a slot before its wake flushed.
 */
import net from 'node:net';
import type { Socket } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InterleavedBatch,
  InterleavedWriter,
  NATIVE_HEAD_SLOT,
  MAX_INTERLEAVED_BACKLOG_BYTES,
  UdpBatch,
  duplexPair,
} from '../../src/transport/index.ts';
import type { BatchedSocketOwner, NativeSendmmsg, NativeWritev } from '../../src/transport/index.ts';
import { StepClock } from '../helpers/step-clock.ts';

/** What InterleavedWriter uses of a net.Socket, recording every write. */
function fakeSocket(): Socket & { writes: Buffer[] } {
  const writes: Buffer[] = [];
  return {
    writes,
    destroyed: false,
    writable: true,
    writableLength: 0,
    write(b: Buffer) {
      writes.push(Buffer.from(b));
      return true;
    },
  } as unknown as Socket & { writes: Buffer[] };
}

const flushed = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe('InterleavedWriter', () => {
  it('writes a wake of frames from two tracks as one buffer, byte-exact, after the synchronous run', async () => {
    const s = fakeSocket();
    const w = InterleavedWriter.of(s, new InterleavedBatch(undefined));
    expect(InterleavedWriter.of(s)).toBe(w);
    const video = { dropped: 0 };
    const audio = { dropped: 0 };
    w.add(video, 0, Buffer.from([1, 2, 3]), Buffer.from([4, 5]));
    w.add(audio, 2, Buffer.from([6]), Buffer.alloc(0x101, 7));
    expect(s.writes).toHaveLength(0);
    await flushed();
    expect(s.writes).toHaveLength(1);
    const expected = Buffer.concat([
      Buffer.from([0x24, 0, 0, 5, 1, 2, 3, 4, 5]),
      Buffer.from([0x24, 2, 0x01, 0x02, 6]),
      Buffer.alloc(0x101, 7),
    ]);
    expect(s.writes[0]!.equals(expected)).toBe(true);
    expect(w.stats).toEqual({ frames: 2, writes: 1 });
  });

  it('an RTCP flush writes what is queued before it, in order, at once', () => {
    const s = fakeSocket();
    const w = InterleavedWriter.of(s, new InterleavedBatch(undefined));
    const o = { dropped: 0 };
    w.add(o, 0, Buffer.from([9]), undefined);
    w.add(o, 1, Buffer.from([0x80, 0xc8]), undefined);
    w.flush();
    expect(s.writes.map((b) => [...b])).toEqual([[0x24, 0, 0, 1, 9, 0x24, 1, 0, 2, 0x80, 0xc8]]);
  });

  it('drops (counted) past the backlog bound, on a closed connection, and at a flush after it closed', async () => {
    const s = fakeSocket();
    const w = InterleavedWriter.of(s, new InterleavedBatch(undefined));
    const o = { dropped: 0 };
    (s as { writableLength: number }).writableLength = MAX_INTERLEAVED_BACKLOG_BYTES + 1;
    w.add(o, 0, Buffer.from([1]), undefined);
    expect(o.dropped).toBe(1);
    (s as { writableLength: number }).writableLength = 0;
    w.add(o, 0, Buffer.from([1]), undefined);
    w.add(o, 0, Buffer.from([2]), undefined);
    (s as { destroyed: boolean }).destroyed = true;
    await flushed();
    expect(o.dropped).toBe(3);
    expect(s.writes).toHaveLength(0);
    w.add(o, 0, Buffer.from([3]), undefined);
    expect(o.dropped).toBe(4);
  });
});

/** Node's libuv TCP handle, as far as the native path looks at it. */
class TCP {
  constructor(readonly fd: number) {}
}

/**
 * A plain TCP socket as the native path sees it (a net.Socket with a descriptor), unconnected:
 * its writableLength, descriptor and writes are the test's.
 */
function plainSocket(
  fd: number,
  opts: { encrypted?: boolean } = {},
): net.Socket & { writes: Buffer[]; queued: number; fd: number; gone: boolean } {
  const s = new net.Socket() as net.Socket & { writes: Buffer[]; queued: number; fd: number; gone: boolean };
  s.writes = [];
  s.queued = 0;
  s.fd = fd;
  s.gone = false;
  Object.defineProperties(s, {
    writable: { get: () => !s.gone },
    destroyed: { get: () => s.gone },
    connecting: { value: false },
    writableLength: { get: () => s.queued },
    _handle: { get: () => (s.fd >= 0 ? new TCP(s.fd) : null) },
    write: {
      value: (b: Buffer) => {
        s.writes.push(Buffer.from(b));
        return true;
      },
    },
  });
  if (opts.encrypted) Object.defineProperty(s, 'encrypted', { value: true });
  return s;
}

interface WritevCall {
  fds: number[];
  frames: number[];
  /** Each frame's head as the call got it: `$` head and first part, copied from its connection's buffer. */
  heads: Buffer[];
  payloads: (Buffer | undefined)[];
}

/**
 * A writeFrames that records what it is given and "writes" the first `take(i, total)` bytes of
 * connection i (all by default), stopping with `errno` (EAGAIN 11) when that is short.
 */
function fakeWritev(take: (conn: number, total: number) => number = (_c, total) => total, errno = 11) {
  const calls: WritevCall[] = [];
  /** What each connection would have on the wire from the native call: its bytes, in order. */
  const wire = new Map<number, Buffer>();
  const addon: NativeWritev = {
    writeFrames(fds, frames, heads, ends, payloads, count, status) {
      let f = 0;
      let complete = 0;
      const call: WritevCall = { fds: [...fds.subarray(0, count)], frames: [...frames.subarray(0, count)], heads: [], payloads: [] };
      calls.push(call);
      for (let c = 0; c < count; c++) {
        const pieces: Buffer[] = [];
        let start = 0;
        for (let k = f; k < f + frames[c]!; k++) {
          const head = Buffer.from(heads[c]!.subarray(start, ends[k]));
          start = ends[k]!;
          call.heads.push(head);
          call.payloads.push(payloads[k]);
          pieces.push(head);
          if (payloads[k]) pieces.push(payloads[k]!);
        }
        f += frames[c]!;
        const all = Buffer.concat(pieces);
        const n = Math.min(all.length, take(c, all.length));
        wire.set(fds[c]!, Buffer.concat([wire.get(fds[c]!) ?? Buffer.alloc(0), all.subarray(0, n)]));
        status[2 * c] = n;
        status[2 * c + 1] = n === all.length ? 0 : errno;
        if (n === all.length) complete++;
      }
      return complete;
    },
  };
  return { addon, calls, wire };
}

/** The `$` frame (RFC 2326 §10.12) of `payload` on `channel`. */
function frame(channel: number, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  return Buffer.concat([Buffer.from([0x24, channel, body.length >> 8, body.length & 0xff]), body]);
}

describe('InterleavedBatch (native writer)', () => {
  it('hands every plain connection of a wake to one call, frame heads byte-exact, payloads not copied', async () => {
    const { addon, calls, wire } = fakeWritev();
    const batch = new InterleavedBatch(addon);
    const s1 = plainSocket(21);
    const s2 = plainSocket(22);
    const w1 = InterleavedWriter.of(s1, batch);
    const w2 = InterleavedWriter.of(s2, batch);
    const o = { dropped: 0 };
    const payload = Buffer.alloc(0x123, 0xab);
    const h = [Buffer.from([0x80, 1]), Buffer.from([0x80, 2]), Buffer.from([0x80, 3])];
    w1.add(o, 0, h[0]!, payload);
    w2.add(o, 2, h[1]!, payload);
    w1.add(o, 1, h[2]!, undefined);
    expect(calls).toHaveLength(0);
    await flushed();
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.fds).toEqual([21, 22]);
    expect(call.frames).toEqual([2, 1]);
    // Connection by connection, each one's frames in the order they came: the `$` head and the
    // RTP header copied (the sender reuses its header memory), the payload by reference.
    expect(call.heads.map((b) => [...b])).toEqual([
      [0x24, 0, 0x01, 0x25, 0x80, 1],
      [0x24, 1, 0, 2, 0x80, 3],
      [0x24, 2, 0x01, 0x25, 0x80, 2],
    ]);
    expect(call.payloads).toHaveLength(3);
    expect(call.payloads[0]).toBe(payload);
    expect(call.payloads[1]).toBeUndefined();
    expect(call.payloads[2]).toBe(payload);
    expect(wire.get(21)!.equals(Buffer.concat([frame(0, h[0]!, payload), frame(1, h[2]!)]))).toBe(true);
    expect(wire.get(22)!.equals(frame(2, h[1]!, payload))).toBe(true);
    expect(s1.writes).toHaveLength(0);
    expect(o.dropped).toBe(0);
    expect(batch.stats).toMatchObject({ frames: 3, nativeWrites: 2, nodeWrites: 0, nativeCalls: 1, partial: 0 });
    // The next wake starts empty.
    w2.add(o, 2, h[0]!, undefined);
    await flushed();
    expect(calls[1]!.fds).toEqual([22]);
    expect(calls[1]!.frames).toEqual([1]);
  });

  it('leaves to Node a connection with bytes queued in Node, a TLS one and an in-process pipe', async () => {
    const { addon, calls } = fakeWritev();
    const batch = new InterleavedBatch(addon);
    const busy = plainSocket(31);
    busy.queued = 10; // an RTSP answer Node has not sent yet: a native write would overtake it
    const tls = plainSocket(32, { encrypted: true });
    const [pipe, peer] = duplexPair();
    const got: Buffer[] = [];
    peer.on('data', (b: Buffer) => got.push(b));
    const free = plainSocket(33);
    const o = { dropped: 0 };
    for (const s of [busy, tls, pipe, free]) InterleavedWriter.of(s, batch).add(o, 0, Buffer.from([7]), Buffer.from([8]));
    await flushed();
    expect(calls.map((c) => c.fds)).toEqual([[33]]);
    expect(busy.writes).toEqual([frame(0, Buffer.from([7, 8]))]);
    expect(tls.writes).toEqual([frame(0, Buffer.from([7, 8]))]);
    await new Promise((resolve) => setImmediate(resolve)); // the pipe's reader gets it a turn later
    expect(Buffer.concat(got)).toEqual(frame(0, Buffer.from([7, 8])));
    expect(batch.stats).toMatchObject({ nativeWrites: 1, nodeWrites: 3 });
  });

  it('a partial write: Node gets the rest from the exact byte the kernel stopped at', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            channel: fc.integer({ min: 0, max: 255 }),
            a: fc.uint8Array({ minLength: 1, maxLength: 40 }),
            b: fc.option(fc.uint8Array({ maxLength: 300 })),
          }),
          {
            minLength: 1,
            maxLength: 12,
          },
        ),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (frames, cut) => {
          const { addon, wire } = fakeWritev((_c, total) => Math.floor(cut * total));
          const batch = new InterleavedBatch(addon);
          const s = plainSocket(41);
          const w = InterleavedWriter.of(s, batch);
          const o = { dropped: 0 };
          const want: Buffer[] = [];
          for (const f of frames) {
            const a = Buffer.from(f.a);
            const b = f.b === null ? undefined : Buffer.from(f.b);
            w.add(o, f.channel, a, b);
            want.push(b ? frame(f.channel, a, b) : frame(f.channel, a));
          }
          w.flush();
          const sent = Buffer.concat([wire.get(41)!, ...s.writes]);
          expect(sent.equals(Buffer.concat(want))).toBe(true);
          expect(s.writes).toHaveLength(1);
          expect(batch.stats.partial).toBe(1);
          expect(o.dropped).toBe(0);
        },
      ),
    );
  });

  it('an error other than a full socket hands the rest to Node too (which reports it), counted', async () => {
    const { addon } = fakeWritev((c) => (c === 0 ? 3 : Infinity), 32 /* EPIPE */);
    const batch = new InterleavedBatch(addon);
    const s1 = plainSocket(51);
    const s2 = plainSocket(52);
    const o = { dropped: 0 };
    InterleavedWriter.of(s1, batch).add(o, 0, Buffer.from([1, 2, 3]), undefined);
    InterleavedWriter.of(s2, batch).add(o, 0, Buffer.from([4]), undefined);
    await flushed();
    expect(s1.writes).toEqual([frame(0, Buffer.from([1, 2, 3])).subarray(3)]);
    expect(s2.writes).toHaveLength(0);
    expect(batch.stats).toMatchObject({ errors: 1, partial: 0 });
  });

  it('never hands over the descriptor of a connection closed before the flush: its frames are dropped', async () => {
    const { addon, calls } = fakeWritev();
    const batch = new InterleavedBatch(addon);
    const s = plainSocket(61);
    const gone = plainSocket(62);
    const o = { dropped: 0 };
    InterleavedWriter.of(s, batch).add(o, 0, Buffer.from([1]), undefined);
    InterleavedWriter.of(gone, batch).add(o, 0, Buffer.from([1]), undefined);
    InterleavedWriter.of(gone, batch).add(o, 0, Buffer.from([2]), undefined);
    // Node closed it (destroy() sets destroyed and drops the handle): its descriptor may already
    // be another connection's.
    gone.gone = true;
    gone.fd = -1;
    await flushed();
    expect(calls.map((c) => c.fds)).toEqual([[61]]);
    expect(o.dropped).toBe(2);
  });

  it('a descriptor Node no longer shows takes the Node path', async () => {
    const { addon, calls } = fakeWritev();
    const batch = new InterleavedBatch(addon);
    const s = plainSocket(-1);
    InterleavedWriter.of(s, batch).add({ dropped: 0 }, 0, Buffer.from([1]), undefined);
    await flushed();
    expect(calls).toHaveLength(0);
    expect(s.writes).toEqual([frame(0, Buffer.from([1]))]);
  });

  it('an RTCP flush in the middle of a wake, then more frames: every frame on the wire once, in order', async () => {
    const { addon, wire } = fakeWritev();
    const batch = new InterleavedBatch(addon);
    const s = plainSocket(71);
    const w = InterleavedWriter.of(s, batch);
    const o = { dropped: 0 };
    w.add(o, 0, Buffer.from([1]), undefined);
    w.add(o, 1, Buffer.from([0x80, 0xc8]), undefined);
    w.flush();
    w.add(o, 0, Buffer.from([2]), undefined);
    w.add(o, 0, Buffer.from([3]), undefined);
    await flushed();
    expect(wire.get(71)).toEqual(
      Buffer.concat([
        frame(0, Buffer.from([1])),
        frame(1, Buffer.from([0x80, 0xc8])),
        frame(0, Buffer.from([2])),
        frame(0, Buffer.from([3])),
      ]),
    );
    expect(w.stats).toEqual({ frames: 4, writes: 2 });
  });

  it('grows past its first arrays for a large wake (many connections, many frames)', async () => {
    const { addon, calls, wire } = fakeWritev();
    const batch = new InterleavedBatch(addon);
    const o = { dropped: 0 };
    const sockets = Array.from({ length: 700 }, (_, i) => plainSocket(1000 + i));
    for (let round = 0; round < 3; round++)
      for (const [i, s] of sockets.entries()) InterleavedWriter.of(s, batch).add(o, round, Buffer.from([i & 0xff, round]), undefined);
    await flushed();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.frames).toEqual(sockets.map(() => 3));
    for (const [i, s] of sockets.entries())
      expect(wire.get(s.fd)).toEqual(Buffer.concat([0, 1, 2].map((r) => frame(r, Buffer.from([i & 0xff, r])))));
  });

  it('without the addon every connection takes Node: the frames of a wake as one buffer, one write', async () => {
    const batch = new InterleavedBatch(undefined);
    const s = plainSocket(81);
    const w = InterleavedWriter.of(s, batch);
    const o = { dropped: 0 };
    w.add(o, 0, Buffer.from([1, 2]), Buffer.from([3]));
    w.add(o, 1, Buffer.from([4]), undefined);
    await flushed();
    expect(s.writes).toEqual([Buffer.concat([frame(0, Buffer.from([1, 2, 3])), frame(1, Buffer.from([4]))])]);
    expect(batch.stats).toMatchObject({ nativeWrites: 0, nodeWrites: 1, nativeCalls: 0 });
  });
});

describe('InterleavedBatch holding frames over wakes', () => {
  /** One wake at time `t`: `frames` queued on their writers, then the end of the synchronous run. */
  async function wake(clock: StepClock, t: number, frames: [InterleavedWriter, number, Buffer, Buffer?][]): Promise<void> {
    clock.t = t;
    for (const [w, channel, a, b] of frames) w.add(o, channel, a, b);
    await flushed();
  }
  const o = { dropped: 0 };
  const f = (n: number) => Buffer.from([0x80, n]);

  it("writes a connection's frames at the end of the first wake at which the oldest is holdMs old, in one write, in order", async () => {
    const clock = new StepClock();
    const batch = new InterleavedBatch(undefined, { clock, holdMs: 5, holdBytes: 1 << 20 });
    const s = fakeSocket();
    const w = InterleavedWriter.of(s, batch);
    await wake(clock, 0, [[w, 0, f(1)]]);
    await wake(clock, 2, [[w, 0, f(2)]]);
    await wake(clock, 4.9, [[w, 2, f(3), Buffer.alloc(300, 3)]]);
    expect(s.writes).toHaveLength(0);
    expect(batch.heldFrames()).toBe(3);
    await wake(clock, 5, [[w, 0, f(4)]]);
    expect(s.writes).toEqual([Buffer.concat([frame(0, f(1)), frame(0, f(2)), frame(2, f(3), Buffer.alloc(300, 3)), frame(0, f(4))])]);
    expect(batch.heldFrames()).toBe(0);
    expect(batch.stats).toMatchObject({ frames: 4, nodeWrites: 1, timerWrites: 0 });
    expect(w.stats).toEqual({ frames: 4, writes: 1 });
  });

  it('writes at the end of the wake at which the connection holds holdBytes, whatever the age', async () => {
    const clock = new StepClock();
    const batch = new InterleavedBatch(undefined, { clock, holdMs: 5, holdBytes: 100 });
    const s = fakeSocket();
    const w = InterleavedWriter.of(s, batch);
    await wake(clock, 0, [[w, 0, f(1), Buffer.alloc(50)]]);
    expect(s.writes).toHaveLength(0);
    await wake(clock, 1, [[w, 0, f(2), Buffer.alloc(50)]]);
    expect(s.writes).toHaveLength(1);
    expect(s.writes[0]!.length).toBe(2 * (4 + 2 + 50));
  });

  /** A batch holding 5 ms on a StepClock, and two connections writing through it. */
  function twoHeldConnections() {
    const clock = new StepClock();
    const batch = new InterleavedBatch(undefined, { clock, holdMs: 5, holdBytes: 1 << 20 });
    const a = fakeSocket();
    const b = fakeSocket();
    return { clock, batch, a, b, wa: InterleavedWriter.of(a, batch), wb: InterleavedWriter.of(b, batch) };
  }

  it('one timer for the batch, at the oldest deadline: held frames leave when no wake comes', async () => {
    const { clock, batch, a, b, wa, wb } = twoHeldConnections();
    await wake(clock, 0, [[wa, 0, f(1)]]);
    await wake(clock, 3, [[wb, 0, f(2)]]);
    await wake(clock, 4, [
      [wa, 0, f(3)],
      [wb, 0, f(4)],
    ]);
    // The last packets of both streams: no wake comes after these.
    expect(clock.pending()).toEqual([5]);
    clock.fireUntil(5);
    expect(a.writes).toEqual([Buffer.concat([frame(0, f(1)), frame(0, f(3))])]);
    expect(b.writes).toHaveLength(0);
    expect(clock.pending()).toEqual([8]);
    clock.fireUntil(8);
    expect(b.writes).toEqual([Buffer.concat([frame(0, f(2)), frame(0, f(4))])]);
    expect(clock.pending()).toEqual([]);
    expect(batch.stats.timerWrites).toBe(2);
  });

  it('a timer that finds nothing due (what it waited for left with RTCP) re-arms for the next deadline', async () => {
    const { clock, a, b, wa, wb } = twoHeldConnections();
    await wake(clock, 0, [[wa, 0, f(1)]]);
    await wake(clock, 2, [[wb, 0, f(2)]]);
    wa.add(o, 1, f(0xc8), undefined);
    wa.flush();
    expect(a.writes).toEqual([Buffer.concat([frame(0, f(1)), frame(1, f(0xc8))])]);
    clock.fireUntil(5);
    expect(b.writes).toHaveLength(0);
    expect(clock.pending()).toEqual([7]);
    clock.fireUntil(7);
    expect(b.writes).toEqual([frame(0, f(2))]);
  });

  it('RTCP and an RTSP answer: the held frames leave at once, before them; frames after them are held afresh', async () => {
    const clock = new StepClock();
    const batch = new InterleavedBatch(undefined, { clock, holdMs: 5, holdBytes: 1 << 20 });
    const s = fakeSocket();
    const w = InterleavedWriter.of(s, batch);
    await wake(clock, 0, [[w, 0, f(1)]]);
    // An SR in the next wake: written with the RTP before it, at once.
    clock.t = 1;
    w.add(o, 0, f(2), undefined);
    w.add(o, 1, f(0xc8), undefined);
    w.flush();
    expect(s.writes).toEqual([Buffer.concat([frame(0, f(1)), frame(0, f(2)), frame(1, f(0xc8))])]);
    await flushed();
    // A frame held from t = 2; an answer at t = 3 (the connection's code writes it).
    await wake(clock, 2, [[w, 0, f(3)]]);
    InterleavedWriter.flushBefore(s);
    s.write(Buffer.from('RTSP/1.0 200 OK\r\n\r\n'));
    expect(s.writes.slice(1)).toEqual([frame(0, f(3)), Buffer.from('RTSP/1.0 200 OK\r\n\r\n')]);
    // Nothing held: flushBefore writes nothing more; a socket that never had a writer is left alone.
    InterleavedWriter.flushBefore(s);
    InterleavedWriter.flushBefore(fakeSocket());
    expect(s.writes).toHaveLength(3);
    // Held afresh from t = 6: not due at t = 10, due at t = 11.
    await wake(clock, 6, [[w, 0, f(4)]]);
    await wake(clock, 10, [[w, 0, f(5)]]);
    expect(s.writes).toHaveLength(3);
    clock.fireUntil(11);
    expect(s.writes[3]).toEqual(Buffer.concat([frame(0, f(4)), frame(0, f(5))]));
  });

  it('a connection closed while it holds frames: they are dropped and counted at the deadline, nothing written', async () => {
    const clock = new StepClock();
    const batch = new InterleavedBatch(undefined, { clock, holdMs: 5, holdBytes: 1 << 20 });
    const s = fakeSocket();
    const w = InterleavedWriter.of(s, batch);
    const own = { dropped: 0 };
    clock.t = 0;
    w.add(own, 0, f(1), undefined);
    w.add(own, 0, f(2), undefined);
    await flushed();
    (s as { destroyed: boolean }).destroyed = true;
    clock.fireUntil(5);
    expect(own.dropped).toBe(2);
    expect(s.writes).toHaveLength(0);
    expect(batch.heldFrames()).toBe(0);
    expect(clock.pending()).toEqual([]);
  });

  it('the backlog bound counts the bytes held as well as those queued in Node', async () => {
    const clock = new StepClock();
    const batch = new InterleavedBatch(undefined, { clock, holdMs: 1000, holdBytes: 1 << 30 });
    const s = fakeSocket();
    const w = InterleavedWriter.of(s, batch);
    const own = { dropped: 0 };
    const payload = Buffer.alloc(60_000);
    let kept = 0;
    for (let i = 0; i < 100; i++) {
      await wake(clock, i, []);
      const before = own.dropped;
      w.add(own, 0, f(i), payload);
      if (own.dropped === before) kept++;
    }
    expect(s.writes).toHaveLength(0);
    expect(kept).toBe(Math.floor(MAX_INTERLEAVED_BACKLOG_BYTES / (4 + 2 + 60_000)) + 1);
    expect(own.dropped).toBe(100 - kept);
  });

  it('the native path: several wakes of several connections in one call, headers as they were when queued', async () => {
    const { addon, calls, wire } = fakeWritev();
    const clock = new StepClock();
    const batch = new InterleavedBatch(addon, { clock, holdMs: 4, holdBytes: 1 << 20 });
    const s1 = plainSocket(91);
    const s2 = plainSocket(92);
    const w1 = InterleavedWriter.of(s1, batch);
    const w2 = InterleavedWriter.of(s2, batch);
    const payload = Buffer.alloc(100, 0xee);
    // The sender's one header buffer, rewritten every wake (as its arena reuses slots).
    const header = Buffer.alloc(12);
    const want = new Map<number, Buffer[]>([
      [91, []],
      [92, []],
    ]);
    for (const t of [0, 2, 4]) {
      clock.t = t;
      for (const [w, fd] of [
        [w1, 91],
        [w2, 92],
      ] as const) {
        header.fill(t + fd);
        w.add(o, 0, header, payload);
        want.get(fd)!.push(frame(0, Buffer.alloc(12, t + fd), payload));
      }
      await flushed();
      header.fill(0);
    }
    expect(calls).toHaveLength(1);
    expect(calls[0]!.fds).toEqual([91, 92]);
    expect(calls[0]!.frames).toEqual([3, 3]);
    expect(calls[0]!.payloads.every((p) => p === payload)).toBe(true);
    expect(wire.get(91)).toEqual(Buffer.concat(want.get(91)!));
    expect(wire.get(92)).toEqual(Buffer.concat(want.get(92)!));
    expect(batch.stats).toMatchObject({ nativeCalls: 1, nativeWrites: 2, nodeWrites: 0 });
  });
});

/** An addon that records calls and refuses what `status` says (EAGAIN 11, ECONNREFUSED 111). */
function fakeAddon(refuse: Map<number, number> = new Map()) {
  /** Each call's datagrams as the addon reads them: descriptor, head bytes, body. */
  const calls: { fds: number[]; bufs: (Buffer | undefined)[]; count: number }[] = [];
  const addon: NativeSendmmsg = {
    version: 3,
    gso: () => ({ available: false, enabled: false, messages: 0, segments: 0, fallbacks: 0 }),
    send(fds, heads, headLengths, bodies, _dests, count, status) {
      const bufs: (Buffer | undefined)[] = [];
      for (let i = 0; i < count; i++) {
        const n = headLengths[i]!;
        if (n > 0) bufs.push(Buffer.from(heads.subarray(NATIVE_HEAD_SLOT * i, NATIVE_HEAD_SLOT * i + n)), bodies[i]);
        else bufs.push(bodies[i], undefined);
      }
      calls.push({ fds: [...fds.subarray(0, count)], bufs, count });
      let sent = 0;
      for (let i = 0; i < count; i++) {
        const e = fds[i]! < 0 ? 9 : (refuse.get(i) ?? 0);
        status[i] = e;
        if (e === 0) sent++;
      }
      return sent;
    },
  };
  return { addon, calls };
}

function owner(fd: number): BatchedSocketOwner & { drops: number; slow: Buffer[][]; fd: number } {
  return {
    fd,
    drops: 0,
    slow: [],
    laneMark: 0,
    drop() {
      this.drops++;
    },
    liveFd() {
      return this.fd;
    },
    sendSlow(a, b) {
      this.slow.push(b ? [a, b] : [a]);
    },
  };
}

describe('UdpBatch', () => {
  it("hands a wake's datagrams of every client over in one call, each client's together and in order", async () => {
    const { addon, calls } = fakeAddon();
    const batch = new UdpBatch(addon);
    const a = owner(10);
    const b = owner(11);
    const h = [Buffer.from([1]), Buffer.from([2]), Buffer.from([3])];
    const p = Buffer.from([0xaa]);
    batch.add(a, h[0]!, p);
    batch.add(b, h[1]!, p);
    batch.add(a, h[2]!, undefined);
    expect(calls).toHaveLength(0);
    await flushed();
    expect(calls).toEqual([{ fds: [10, 10, 11], bufs: [h[0], p, h[2], undefined, h[1], p], count: 3 }]);
    expect(batch.stats).toMatchObject({ datagrams: 3, flushes: 1, grouped: 1, slow: 0, errors: 0 });
  });

  it('a fan-out queued packet by packet leaves viewer by viewer (for UDP GSO); RTCP keeps its place; refusals reach their owner', async () => {
    // The kernel refuses the datagram at place 4 of the call: after grouping, viewer 0's packet 1.
    const { addon, calls } = fakeAddon(new Map([[4, 11]]));
    const batch = new UdpBatch(addon);
    const viewers = [owner(10), owner(10), owner(10)];
    const rtcp = owner(10);
    const port = (v: number) => 5000 + 2 * v;
    const head = (packet: number, v: number) => Buffer.from([packet, v]);
    const payloads = [Buffer.from([0xa0]), Buffer.from([0xa1]), Buffer.from([0xa2])];
    // Packet 0 to every viewer, then an SR to viewer 0, then packets 1 and 2 to every viewer.
    viewers.forEach((o, v) => batch.add(o, head(0, v), payloads[0], 0x7f000001, port(v)));
    const sr = Buffer.alloc(28, 0x80);
    batch.add(rtcp, sr, undefined, 0x7f000001, port(0) + 1);
    for (const packet of [1, 2]) viewers.forEach((o, v) => batch.add(o, head(packet, v), payloads[packet], 0x7f000001, port(v)));
    const dests: number[] = [];
    const send = addon.send.bind(addon);
    addon.send = (fds, heads, headLengths, bodies, d, count, status) => {
      for (let i = 0; i < count; i++) dests.push(d?.[2 * i + 1] ?? -1);
      return send(fds, heads, headLengths, bodies, d, count, status);
    };
    await flushed();
    expect(calls).toHaveLength(1);
    const heads = calls[0]!.bufs.filter((_, i) => i % 2 === 0);
    // Before the SR: packet 0 of each viewer (one each: nothing to group). After it, viewer by viewer.
    expect(heads).toEqual([head(0, 0), head(0, 1), head(0, 2), sr, head(1, 0), head(2, 0), head(1, 1), head(2, 1), head(1, 2), head(2, 2)]);
    // Each datagram keeps its destination and payload.
    expect(dests).toEqual([5000, 5002, 5004, 5001, 5000, 5000, 5002, 5002, 5004, 5004]);
    expect(calls[0]!.bufs.filter((_, i) => i % 2 === 1)).toEqual([
      payloads[0],
      payloads[0],
      payloads[0],
      undefined,
      payloads[1],
      payloads[2],
      payloads[1],
      payloads[2],
      payloads[1],
      payloads[2],
    ]);
    // Place 4 is viewer 0's packet 1: sent the slow way by its owner, with its own head.
    expect(viewers[0]!.slow).toEqual([[head(1, 0), payloads[1]]]);
    expect(viewers[1]!.slow).toEqual([]);
    expect(batch.stats).toMatchObject({ datagrams: 10, grouped: 1, slow: 1 });
    // A wake whose owners are each together is left as queued.
    batch.add(viewers[0]!, head(3, 0), payloads[0], 0x7f000001, port(0));
    batch.add(viewers[1]!, head(3, 1), payloads[0], 0x7f000001, port(1));
    await flushed();
    expect(calls[1]!.bufs.filter((_, i) => i % 2 === 0)).toEqual([head(3, 0), head(3, 1)]);
    expect(batch.stats.grouped).toBe(1);
  });

  it("sends a wake's urgent datagrams (audio) before its bulk ones (video), each lane in order", async () => {
    const { addon, calls } = fakeAddon();
    const batch = new UdpBatch(addon);
    const video = owner(10);
    const audio = owner(10);
    const p = Buffer.from([0xaa]);
    const h = (n: number) => Buffer.from([n]);
    batch.add(video, h(1), p, 0x7f000001, 5000);
    batch.add(video, h(2), p, 0x7f000001, 5002, 'bulk');
    batch.add(audio, h(3), p, 0x7f000001, 5004, 'urgent');
    batch.add(video, h(4), p, 0x7f000001, 5000);
    batch.add(audio, h(5), p, 0x7f000001, 5006, 'urgent');
    await flushed();
    expect(calls.map((c) => c.bufs.filter((_, i) => i % 2 === 0))).toEqual([
      [h(3), h(5)],
      [h(1), h(2), h(4)],
    ]);
    expect(batch.stats).toMatchObject({ datagrams: 5, flushes: 2 });
    // A wake with one lane only: one call.
    batch.add(audio, h(6), p, 0x7f000001, 5004, 'urgent');
    await flushed();
    expect(calls).toHaveLength(3);
  });

  it('never uses the descriptor of a socket closed before the flush: those datagrams are dropped', async () => {
    const { addon, calls } = fakeAddon();
    const batch = new UdpBatch(addon);
    const a = owner(10);
    batch.add(a, Buffer.from([1]), undefined);
    a.fd = -1; // Node closed the socket (its descriptor may already be another socket's)
    await flushed();
    expect(calls[0]!.fds).toEqual([-1]);
    expect(a.drops).toBe(1);
  });

  it('sends what the kernel would not take at once the slow way, and counts errors as drops', async () => {
    const { addon } = fakeAddon(
      new Map([
        [1, 11],
        [2, 111],
      ]),
    );
    const batch = new UdpBatch(addon);
    const a = owner(10);
    const p = Buffer.from([0xaa]);
    for (let i = 0; i < 3; i++) batch.add(a, Buffer.from([i]), p);
    await flushed();
    expect(a.slow).toEqual([[Buffer.from([1]), p]]);
    expect(a.drops).toBe(1);
    expect(batch.stats).toMatchObject({ datagrams: 3, slow: 1, errors: 1 });
  });

  it('copies a header when it is queued (its memory may be reused at once); a longer first part goes whole', async () => {
    const { addon, calls } = fakeAddon();
    const batch = new UdpBatch(addon);
    const a = owner(10);
    const header = Buffer.from('0123456789ab');
    const p = Buffer.from([0xaa]);
    batch.add(a, header, p);
    header.fill(0);
    const rtcp = Buffer.alloc(40, 7);
    batch.add(a, rtcp, undefined);
    const long = Buffer.alloc(NATIVE_HEAD_SLOT + 1, 1);
    batch.add(a, long, p);
    await flushed();
    expect(calls[0]!.bufs).toEqual([Buffer.from('0123456789ab'), p, rtcp, undefined, Buffer.concat([long, p]), undefined]);
  });

  it('grows past its first arrays for a large wake', async () => {
    const { addon, calls } = fakeAddon();
    const batch = new UdpBatch(addon);
    const a = owner(10);
    for (let i = 0; i < 5000; i++) batch.add(a, Buffer.from([i & 0xff]), undefined);
    await flushed();
    expect(calls[0]!.count).toBe(5000);
    expect(calls[0]!.bufs[2 * 4999]).toEqual(Buffer.from([4999 & 0xff]));
    // A fan-out larger than the arrays, twice (the regrouping's own arrays grow and are reused).
    const viewers = Array.from({ length: 700 }, () => owner(10));
    for (const round of [0, 1]) {
      for (let packet = 0; packet < 4; packet++)
        viewers.forEach((o, v) => batch.add(o, Buffer.from([packet, v >> 8, v & 0xff]), undefined));
      await flushed();
      const heads = calls[1 + round]!.bufs.filter((_, i) => i % 2 === 0) as Buffer[];
      expect(heads).toHaveLength(2800);
      heads.forEach((h, i) => expect([...h]).toEqual([i % 4, Math.floor(i / 4) >> 8, Math.floor(i / 4) & 0xff]));
    }
  });
});
