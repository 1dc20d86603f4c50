/**
 * Issue 11, holding TCP frames (bench/RESULTS.md, "Issue 11: holding TCP frames over wakes"): the send path alone, deterministic wakes: N loopback TCP connections written through
 * InterleavedBatch (native writeFrames) with a hold of H ms, or the same packets as UDP datagrams
 * through one sendmmsg per wake (the addon's send, one socket, a destination per client). Each
 * client gets the sample's pattern: an audio packet every 21.33 ms, a video frame every 33.33 ms
 * (2-3 packets, a 12-packet keyframe every 30), phases spread. Wakes every 2 ms of virtual time
 * (ManualClock), run as real time passes; the reader is a child process. Prints process CPU
 * (user+sys) per packet over the measured span and frames per write.
 *   node bin/run-ts.js bench/interleaved-hold.ts tcp|udp HOLD_MS [clients] [seconds]
 * Prints one JSON line. Alternate modes in separate runs: the machine's load moves between them.
 */
import { fork } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  InterleavedBatch,
  InterleavedWriter,
  NATIVE_HEAD_SLOT,
  dgramFd,
  nativeSendmmsg,
  nativeWritev,
  wakeFlush,
} from '../src/transport/index.ts';
import { ManualClock } from '../src/util/clock.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

if (process.argv[2] === 'reader') {
  const mode = process.argv[3];
  const n = Number(process.argv[4]);
  if (mode === 'tcp') {
    const server = net.createServer((s) => s.on('data', () => {}));
    server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as net.AddressInfo).port }));
  } else {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const u = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
      u.on('message', () => {});
      u.bind(0, '127.0.0.1', () => {
        ports.push(u.address().port);
        if (ports.length === n) process.send!({ ports });
      });
    }
  }
} else {
  const mode = process.argv[2]!;
  const hold = Number(process.argv[3] ?? 0);
  const n = Number(process.argv[4] ?? 400);
  const seconds = Number(process.argv[5] ?? 10);
  const child = fork(path.join(here, '..', 'bin', 'run-ts.js'), [fileURLToPath(import.meta.url), 'reader', mode, String(n)]);
  const hello = await new Promise<{ port: number; ports: number[] }>((r) =>
    child.once('message', (m) => r(m as { port: number; ports: number[] })),
  );
  const clock = new ManualClock();
  const batch = new InterleavedBatch(nativeWritev(), { clock, holdMs: hold, holdBytes: 32 * 1024 });
  const writers: InterleavedWriter[] = [];
  let udp: dgram.Socket | undefined;
  let udpFd = -1;
  const dests = new Uint32Array(2 * 4096);
  const fds = new Int32Array(4096);
  const bufs: (Buffer | undefined)[] = [];
  const status = new Int32Array(4096);
  // The UDP side as the server's UdpBatch sends: each 12-byte header in a heads slot, the payload after it.
  const heads = Buffer.alloc(NATIVE_HEAD_SLOT * 4096);
  const headLengths = new Int32Array(4096);
  if (mode === 'tcp') {
    for (let i = 0; i < n; i++) {
      const s = net.connect(hello.port, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      s.setNoDelay(true);
      writers.push(InterleavedWriter.of(s, batch));
    }
  } else {
    udp = dgram.createSocket({ type: 'udp4', sendBufferSize: 4 << 20 });
    await new Promise<void>((r) => udp!.bind(0, '127.0.0.1', () => r()));
    udpFd = dgramFd(udp);
  }
  const addon = nativeSendmmsg()!;
  const o = { dropped: 0 };
  const header = Buffer.alloc(12, 0x80);
  const video = Buffer.alloc(1100, 1);
  const audio = Buffer.alloc(250, 2);
  // Per client: next audio and video times (ms), video frame count.
  const nextA = Array.from({ length: n }, (_, i) => ((i * 7919) % 2133) / 100);
  const nextV = Array.from({ length: n }, (_, i) => ((i * 104729) % 3333) / 100);
  const frameNo = new Array<number>(n).fill(0);
  let t = 0;
  let packets = 0;
  let udpCount = 0;
  const sendUdp = () => {
    addon.send(fds, heads, headLengths, bufs, dests, udpCount, status);
    udpCount = 0;
    bufs.length = 0;
  };
  const udpPacket = (i: number, payload: Buffer) => {
    if (udpCount === fds.length) sendUdp();
    fds[udpCount] = udpFd;
    dests[2 * udpCount] = 0x7f000001;
    dests[2 * udpCount + 1] = hello.ports[i]!;
    header.copy(heads, NATIVE_HEAD_SLOT * udpCount);
    headLengths[udpCount] = header.length;
    bufs.push(payload);
    udpCount++;
  };
  const send = (i: number, channel: number, payload: Buffer) => {
    packets++;
    if (mode === 'tcp') writers[i]!.add(o, channel, header, payload);
    else udpPacket(i, payload);
  };
  function wake(): void {
    clock.advance(2);
    t += 2;
    for (let i = 0; i < n; i++) {
      while (nextA[i]! <= t) {
        send(i, 2, audio);
        nextA[i]! += 21.333;
      }
      while (nextV[i]! <= t) {
        const k = frameNo[i]!++ % 30 === 0 ? 12 : 2 + (frameNo[i]! % 2);
        for (let p = 0; p < k; p++) send(i, 0, video);
        nextV[i]! += 33.333;
      }
    }
    if (mode === 'udp' && udpCount > 0) sendUdp();
    wakeFlush.run();
  }
  const start = performance.now();
  let cpu0: NodeJS.CpuUsage | undefined;
  let p0 = 0;
  let s0 = { ...batch.stats };
  const warm = 2000;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const real = performance.now() - start;
      while (t + 2 <= real) wake();
      if (!cpu0 && real >= warm) {
        cpu0 = process.cpuUsage();
        p0 = packets;
        s0 = { ...batch.stats };
      }
      if (real >= warm + seconds * 1000) return resolve();
      setTimeout(tick, 1);
    };
    tick();
  });
  const cpu = process.cpuUsage(cpu0);
  const pk = packets - p0;
  const writes = batch.stats.nativeWrites + batch.stats.nodeWrites - s0.nativeWrites - s0.nodeWrites;
  const frames = batch.stats.frames - s0.frames;
  console.log(
    JSON.stringify({
      mode,
      hold,
      n,
      usPerPkt: +((cpu.user + cpu.system) / pk).toFixed(3),
      userUs: +(cpu.user / pk).toFixed(3),
      sysUs: +(cpu.system / pk).toFixed(3),
      pktPerSec: Math.round(pk / seconds),
      framesPerWrite: mode === 'tcp' ? +(frames / writes).toFixed(2) : undefined,
      partial: batch.stats.partial,
      dropped: o.dropped,
    }),
  );
  child.kill();
  process.exit(0);
}
