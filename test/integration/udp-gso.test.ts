/**
 * Issue 11, UDP segmentation offload in the native sender (native/sendmmsg.c): consecutive
 * datagrams of one run to one destination, of one length but the last, leave as one message the
 * kernel cuts up again. On loopback the receiving sockets must see exactly the datagrams they
 * would have seen one by one: every byte, in order, none merged, none lost; and the counters say
 * which ones went segmented.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NATIVE_HEAD_SLOT, dgramFd, nativeSendmmsg, nativeSenderError } from '../../src/transport/index.ts';
import type { NativeSendmmsg, UdpGsoState } from '../../src/transport/index.ts';
import { waitUntil } from '../helpers/wait.ts';

const HOST = '127.0.0.1';
const LOOPBACK = 0x7f00_0001;

interface Receiver {
  socket: dgram.Socket;
  port: number;
  got: Buffer[];
}

async function receiver(): Promise<Receiver> {
  const got: Buffer[] = [];
  const socket = dgram.createSocket('udp4');
  socket.on('message', (m) => got.push(m));
  await new Promise<void>((r) => socket.bind(0, HOST, () => r()));
  return { socket, port: socket.address().port, got };
}

/** A datagram as the server sends it: a 12-byte head (an RTP header) and a body, numbered in both. */
function datagram(n: number, bodyLength: number): { head: Buffer; body: Buffer } {
  const head = Buffer.alloc(12, n);
  head.writeUInt16BE(n, 2);
  const body = Buffer.alloc(bodyLength, (n * 7) & 0xff);
  if (bodyLength >= 2) body.writeUInt16BE(n, 0);
  return { head, body };
}

/** Sends `list` (destination port, datagram) in one native call on `fd`; returns the kernel's count and each status. */
function send(addon: NativeSendmmsg, fd: number, list: { port: number; head: Buffer; body: Buffer }[]): { sent: number; status: number[] } {
  const n = list.length;
  const fds = new Int32Array(n).fill(fd);
  const heads = Buffer.alloc(NATIVE_HEAD_SLOT * n);
  const headLengths = new Int32Array(n);
  const dests = new Uint32Array(2 * n);
  list.forEach((d, i) => {
    d.head.copy(heads, NATIVE_HEAD_SLOT * i);
    headLengths[i] = d.head.length;
    dests[2 * i] = LOOPBACK;
    dests[2 * i + 1] = d.port;
  });
  const status = new Int32Array(n).fill(-1);
  const sent = addon.send(
    fds,
    heads,
    headLengths,
    list.map((d) => d.body),
    dests,
    n,
    status,
  );
  return { sent, status: [...status] };
}

const delta = (a: UdpGsoState, b: UdpGsoState) => ({ messages: b.messages - a.messages, segments: b.segments - a.segments });

describe.runIf(process.platform === 'linux')('native sender: UDP segmentation offload', () => {
  let addon: NativeSendmmsg;
  let out: dgram.Socket;
  let fd: number;
  let a: Receiver;
  let b: Receiver;

  beforeAll(async () => {
    expect(nativeSenderError()).toBeUndefined();
    addon = nativeSendmmsg()!;
    out = dgram.createSocket('udp4');
    await new Promise<void>((r) => out.bind(0, HOST, () => r()));
    fd = dgramFd(out);
    a = await receiver();
    b = await receiver();
  });
  afterAll(() => {
    addon?.gso(true);
    for (const s of [out, a?.socket, b?.socket]) s?.close();
  });

  /** Sends `list`, waits for every datagram, and checks each receiver got its own ones byte-exact, in order. */
  async function roundTrip(list: { port: number; head: Buffer; body: Buffer }[]): Promise<void> {
    a.got.length = 0;
    b.got.length = 0;
    expect(send(addon, fd, list)).toEqual({ sent: list.length, status: new Array<number>(list.length).fill(0) });
    for (const r of [a, b]) {
      const want = list.filter((d) => d.port === r.port).map((d) => Buffer.concat([d.head, d.body]));
      await waitUntil(
        () => r.got.length >= want.length,
        3000,
        () => `${r.got.length} of ${want.length} datagrams`,
      );
      // Nothing merged or split: as many datagrams as sent, each the bytes sent.
      await new Promise((res) => setTimeout(res, 20));
      expect(r.got).toEqual(want);
    }
  }

  it('the kernel here takes UDP_SEGMENT, and the sender uses it unless told not to', () => {
    const s = addon.gso();
    expect(s.available).toBe(true);
    expect(s.enabled).toBe(process.env.STREAMLAB_UDP_GSO !== '0');
  });

  it("a frame's fragments to one client (equal lengths, a shorter last) go as one message, received as they were", async () => {
    addon.gso(true);
    const before = addon.gso();
    const frame = [1188, 1188, 1188, 1188, 403].map((len, i) => ({ port: a.port, ...datagram(i, len) }));
    const other = [900, 900].map((len, i) => ({ port: b.port, ...datagram(10 + i, len) }));
    // One more to a, after b's: not consecutive with a's frame, so a message of its own.
    const last = { port: a.port, ...datagram(20, 1188) };
    await roundTrip([...frame, ...other, last]);
    expect(delta(before, addon.gso())).toEqual({ messages: 2, segments: 7 });
  });

  it('a longer datagram, or one after a shorter last, starts a new message', async () => {
    addon.gso(true);
    const before = addon.gso();
    // [600 600 700]: 700 is longer than the segments (new message). [300]: shorter, the last of
    // 700's message. [700 700]: after a shorter last, a new message.
    const lens = [600, 600, 700, 300, 700, 700];
    await roundTrip(lens.map((len, i) => ({ port: a.port, ...datagram(i, len) })));
    expect(delta(before, addon.gso())).toEqual({ messages: 3, segments: 6 });
  });

  it('at most 64 datagrams in one message; a run longer than that takes more', async () => {
    addon.gso(true);
    const before = addon.gso();
    await roundTrip(Array.from({ length: 100 }, (_, i) => ({ port: b.port, ...datagram(i, 500) })));
    expect(delta(before, addon.gso())).toEqual({ messages: 2, segments: 100 });
  });

  it("a fan-out's packets (each to every viewer in turn) are not regrouped: one message each", async () => {
    addon.gso(true);
    const before = addon.gso();
    const list = [0, 1, 2, 3].flatMap((p) => [a, b].map((r) => ({ port: r.port, ...datagram(p, 1000) })));
    await roundTrip(list);
    expect(delta(before, addon.gso())).toEqual({ messages: 0, segments: 0 });
  });

  it('a datagram the kernel refuses (no destination) is refused alone: the segmented run around it is sent', async () => {
    addon.gso(true);
    a.got.length = 0;
    b.got.length = 0;
    // Port 0 on an unconnected socket: no destination (EDESTADDRREQ), for that datagram alone.
    const before = addon.gso();
    const list = [
      { port: a.port, ...datagram(0, 500) },
      { port: a.port, ...datagram(1, 500) },
      { port: 0, ...datagram(2, 500) },
      { port: b.port, ...datagram(3, 500) },
      { port: b.port, ...datagram(4, 500) },
    ];
    const EDESTADDRREQ = 89;
    expect(send(addon, fd, list)).toEqual({ sent: 4, status: [0, 0, EDESTADDRREQ, 0, 0] });
    await waitUntil(() => a.got.length >= 2 && b.got.length >= 2, 3000, 'the four datagrams sent');
    expect(a.got.map((m) => m.readUInt16BE(2))).toEqual([0, 1]);
    expect(b.got.map((m) => m.readUInt16BE(2))).toEqual([3, 4]);
    expect(delta(before, addon.gso())).toEqual({ messages: 2, segments: 4 });
  });

  it('turned off, the same datagrams go one message each', async () => {
    expect(addon.gso(false).enabled).toBe(false);
    const before = addon.gso();
    await roundTrip([1000, 1000, 1000, 20].map((len, i) => ({ port: a.port, ...datagram(i, len) })));
    expect(delta(before, addon.gso())).toEqual({ messages: 0, segments: 0 });
    expect(addon.gso(true).enabled).toBe(true);
  });
});
