/**
 * The floor row's sender (`--compare gst` and `--floor`): the same packets as the server sends (the
 * file packetized by our own code, each with its 12-byte RTP header), written once into memory
 * before the run, then sent to every client by the cheapest path the machine offers: one
 * unconnected UDP socket and one sendmmsg call per 2 ms tick for all clients (the native sender's
 * addon with a destination per datagram, which sends a client's run of equal-sized datagrams as
 * one UDP GSO message, as it does for the server): 500 wake-ups a second, fewer than the server's
 * (~850 at 100 clients or more). No RTSP, no RTCP, no per-packet JavaScript
 * beyond filling the batch arrays: what is left is what the kernel costs. Its CPU is the floor a
 * server could reach.
 *
 * Argument: the media file, and the seconds of it to prepare (the run's ramp and hold with a margin:
 * a client that joins last must still have packets at the end of the hold).
 *
 * IPC: sends `{ type: 'ready', pid }`; takes `{ cmd: 'add', ports: [rtp per track] }` (that client
 * starts at npt 0 now, as a PLAY would), `{ cmd: 'mark' }`, `{ cmd: 'report' }` (answered with a
 * FloorReport) and `{ cmd: 'exit' }`; exits when the IPC channel closes.
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { writeRtpFixedHeader } from '../src/rtp/index.ts';
import { openFileInput } from '../src/server/push/file-input.ts';
import { NATIVE_HEAD_SLOT, dgramFd, nativeSendmmsg, nativeSenderError } from '../src/transport/index.ts';

export type FloorCommand = { cmd: 'add'; ports: number[] } | { cmd: 'mark' } | { cmd: 'report' } | { cmd: 'exit' };
export interface FloorReport {
  type: 'report';
  datagrams: number;
  calls: number;
  errors: number;
}
export type FloorMessage = { type: 'ready'; pid: number; tracks: { media: string; clockRate: number }[] } | FloorReport;

const TICK_MS = 2;

interface Packet {
  dueMs: number;
  track: number;
  data: Buffer;
}

async function packets(file: string, maxSec: number): Promise<{ list: Packet[]; tracks: { media: string; clockRate: number }[] }> {
  const input = await openFileInput(file, { mtu: 1500, loop: false });
  const list: Packet[] = [];
  const tracks: { media: string; clockRate: number }[] = [];
  for (const [ti, t] of input.tracks.entries()) {
    tracks.push({ media: t.format.media, clockRate: t.format.clockRate });
    let seq = 0;
    const ssrc = 0x5eed0000 + ti;
    const chunks = Math.ceil(t.source.sampleCount / 64);
    for (let c = 0; c < chunks; c++) {
      for (const s of await t.source.loadChunk(c)) {
        if (s.dtsSec > maxSec) break;
        for (const p of s.payloads) {
          const data = Buffer.allocUnsafe(12 + p.payload.length);
          writeRtpFixedHeader(data, 0, p.marker, t.format.payloadType, seq++ & 0xffff, s.rtpTime >>> 0, ssrc);
          p.payload.copy(data, 12);
          list.push({ dueMs: s.dtsSec * 1000, track: ti, data });
        }
      }
    }
  }
  await input.close();
  list.sort((a, b) => a.dueMs - b.dueMs);
  return { list, tracks };
}

async function main(): Promise<void> {
  const [file, seconds] = process.argv.slice(2);
  const maxSec = Number(seconds);
  if (!file || !(maxSec > 0) || !process.send) throw new Error('usage: fork(floor-process, [file, seconds]) with IPC');
  const addon = nativeSendmmsg();
  if (!addon) throw new Error(`the floor needs the native sender: ${nativeSenderError()}`);
  const { list, tracks } = await packets(file, maxSec);
  const socket = dgram.createSocket({ type: 'udp4', sendBufferSize: 8 << 20 });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const fd = dgramFd(socket);
  const clients: { startMs: number; ports: number[]; next: number }[] = [];
  let cap = 4096;
  let fds = new Int32Array(cap).fill(fd);
  let dests = new Uint32Array(2 * cap);
  let status = new Int32Array(cap);
  // Whole packets as bodies, no separate heads: the cheapest call the addon takes.
  let heads = Buffer.alloc(NATIVE_HEAD_SLOT * cap);
  let headLengths = new Int32Array(cap);
  const bufs: (Buffer | undefined)[] = [];
  const stats = { datagrams: 0, calls: 0, errors: 0 };

  const tick = (): void => {
    const now = performance.now();
    let n = 0;
    for (const c of clients) {
      const t = now - c.startMs;
      while (c.next < list.length && list[c.next]!.dueMs <= t) {
        const p = list[c.next++]!;
        if (n === cap) {
          cap *= 2;
          fds = new Int32Array(cap).fill(fd);
          const d = new Uint32Array(2 * cap);
          d.set(dests);
          dests = d;
          status = new Int32Array(cap);
          heads = Buffer.alloc(NATIVE_HEAD_SLOT * cap);
          headLengths = new Int32Array(cap);
        }
        dests[2 * n] = 0x7f000001;
        dests[2 * n + 1] = c.ports[p.track]!;
        bufs[n] = p.data;
        n++;
      }
    }
    if (n > 0) {
      const sent = addon.send(fds, heads, headLengths, bufs, dests, n, status);
      stats.datagrams += n;
      stats.calls++;
      stats.errors += n - sent;
    }
  };
  const timer = setInterval(tick, TICK_MS);

  const send = (m: FloorMessage): void => {
    if (process.connected) process.send?.(m);
  };
  const stop = (): void => {
    clearInterval(timer);
    socket.close();
    process.exit(0);
  };
  process.on('message', (m: FloorCommand) => {
    if (m.cmd === 'add') clients.push({ startMs: performance.now(), ports: m.ports, next: 0 });
    else if (m.cmd === 'mark') Object.assign(stats, { datagrams: 0, calls: 0, errors: 0 });
    else if (m.cmd === 'report') send({ type: 'report', ...stats });
    else stop();
  });
  process.on('disconnect', stop);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  send({ type: 'ready', pid: process.pid, tracks });
}

await main();
