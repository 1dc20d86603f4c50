/**
 * Issue 11, batching per wake without sockets: the interleaved writer's frames are byte-exact and
 * leave in one write per connection per wake; the native UDP batch hands a wake's datagrams over in
 * one call, in order, never on a closed socket's descriptor, and sends what the kernel would not
 * take at once the slow way; a sender's header ring never reuses a slot before its wake flushed.
 */
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HEADER_ARENA_SLOTS, HeaderArena } from '../../src/sender/rtp-sender.ts';
import { InterleavedWriter, MAX_INTERLEAVED_BACKLOG_BYTES, UdpBatch, sendEpoch, wakeFlush } from '../../src/transport/index.ts';
import type { BatchedSocketOwner, NativeSendmmsg } from '../../src/transport/index.ts';

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
    const w = InterleavedWriter.of(s);
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
    const w = InterleavedWriter.of(s);
    const o = { dropped: 0 };
    w.add(o, 0, Buffer.from([9]), undefined);
    w.add(o, 1, Buffer.from([0x80, 0xc8]), undefined);
    w.flush();
    expect(s.writes.map((b) => [...b])).toEqual([[0x24, 0, 0, 1, 9, 0x24, 1, 0, 2, 0x80, 0xc8]]);
  });

  it('drops (counted) past the backlog bound, on a closed connection, and at a flush after it closed', async () => {
    const s = fakeSocket();
    const w = InterleavedWriter.of(s);
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

/** An addon that records calls and refuses what `status` says (EAGAIN 11, ECONNREFUSED 111). */
function fakeAddon(refuse: Map<number, number> = new Map()) {
  const calls: { fds: number[]; bufs: (Buffer | undefined)[]; count: number }[] = [];
  const addon: NativeSendmmsg = {
    send(fds, bufs, _dests, count, status) {
      calls.push({ fds: [...fds.subarray(0, count)], bufs: bufs.slice(0, 2 * count), count });
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
  it("hands a wake's datagrams of every client over in one call, in order", async () => {
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
    expect(calls).toEqual([{ fds: [10, 11, 10], bufs: [h[0], p, h[1], p, h[2], undefined], count: 3 }]);
    expect(batch.stats).toMatchObject({ datagrams: 3, flushes: 1, slow: 0, errors: 0 });
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

  it('grows past its first arrays for a large wake', async () => {
    const { addon, calls } = fakeAddon();
    const batch = new UdpBatch(addon);
    const a = owner(10);
    for (let i = 0; i < 5000; i++) batch.add(a, Buffer.from([i & 0xff]), undefined);
    await flushed();
    expect(calls[0]!.count).toBe(5000);
    expect(calls[0]!.bufs[2 * 4999]).toEqual(Buffer.from([4999 & 0xff]));
  });
});

describe('HeaderArena', () => {
  it('hands a slot out once per flush epoch, and again from the start after the flush', () => {
    const arena = new HeaderArena();
    const first: Buffer[] = [];
    for (let i = 0; i < HEADER_ARENA_SLOTS; i++) first.push(arena.take());
    expect(new Set(first).size).toBe(HEADER_ARENA_SLOTS);
    // Distinct memory: writing one header leaves the others alone.
    first[0]!.fill(0xaa);
    first[1]!.fill(0x55);
    expect(first[0]!.equals(Buffer.alloc(12, 0xaa))).toBe(true);
    // Same wake, arena used up: fresh buffers, not a slot still waiting to be sent.
    const extra = arena.take();
    expect(first.includes(extra)).toBe(false);
    expect(arena.overflows).toBe(1);
    const epoch = sendEpoch();
    wakeFlush.run();
    expect(sendEpoch()).toBe(epoch + 1);
    expect(arena.take()).toBe(first[0]);
    expect(arena.take()).toBe(first[1]);
    expect(arena.overflows).toBe(1);
    expect(arena.size).toBe(HEADER_ARENA_SLOTS);
  });

  it('makes views only as far as the busiest wake needs', () => {
    const arena = new HeaderArena();
    for (let wake = 0; wake < 5; wake++) {
      for (let i = 0; i < 3 + wake; i++) arena.take();
      wakeFlush.run();
    }
    expect(arena.size).toBe(7);
  });
});
