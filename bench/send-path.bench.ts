/**
 * `npm run bench:path`: the JavaScript of the file-session send path alone, without the kernel
 * and without real time, so that changes of a few percent to it can be measured at all (the
 * server bench's run-to-run noise at 100 clients is ±15 %). An in-process server on a manual
 * clock; N sessions of the sample file PLAY at staggered positions; every track's egress is the
 * native UDP batch's (UdpBatch: the header copied into its slot, the lanes, one call per wake)
 * over an addon that counts instead of sending. The clock is advanced through `--seconds` of
 * media; the CPU time of this process over that span, divided by the packets sent, is the cost
 * per packet of the scheduler, the streams, the senders and the batch. Rounds repeat the same
 * work (the first ones only warm V8 up); the median is printed.
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import { RtspServer } from '../src/server/index.ts';
import { RtspClientConnection } from '../src/transport/rtsp-client.ts';
import { UdpBatch } from '../src/transport/index.ts';
import type { BatchedSocketOwner, Egress, NativeSendmmsg, SendLane } from '../src/transport/index.ts';
import { ManualClock } from '../src/util/clock.ts';
import { seededRandom } from '../src/util/random.ts';
import { machineInfo } from './proc-stats.ts';
import { REPO_ROOT } from './targets.ts';
import { intOption, median } from './numbers.ts';

const HELP = `npm run bench:path -- [options]
  --sessions N        file sessions (default 100)
  --seconds S         media seconds sent per round, all sessions in (default 12; the sample is 20 s)
  --rounds R          measured rounds, each a fresh server (default 5)
  --warmup-rounds R   rounds run first and not counted, while V8 compiles the path (default 2)`;

/** Counts what it is handed, reads each body's length (as the addon reads each Buffer), sends nothing. */
function countingAddon(): NativeSendmmsg & { datagrams: number; bytes: number; calls: number } {
  const addon = {
    version: 3,
    datagrams: 0,
    bytes: 0,
    calls: 0,
    gso: () => ({ available: false, enabled: false, messages: 0, segments: 0, fallbacks: 0 }),
    send(
      _fds: Int32Array,
      _heads: Buffer,
      headLengths: Int32Array,
      bodies: (Buffer | undefined)[],
      _d: unknown,
      count: number,
      status: Int32Array,
    ) {
      addon.calls++;
      for (let i = 0; i < count; i++) {
        addon.bytes += headLengths[i]! + (bodies[i]?.length ?? 0);
        status[i] = 0;
      }
      addon.datagrams += count;
      return count;
    },
  };
  return addon;
}

interface Round {
  packets: number;
  cpuUs: number;
  wakeups: number;
  calls: number;
}

async function round(sessions: number, seconds: number): Promise<Round> {
  const clock = new ManualClock();
  const addon = countingAddon();
  const batch = new UdpBatch(addon);
  const owner: BatchedSocketOwner = { drop: () => undefined, liveFd: () => 3, sendSlow: () => undefined, laneMark: 0 };
  let port = 20000;
  const server = await RtspServer.inProcess({
    clock,
    random: seededRandom(7),
    mediaDir: path.join(REPO_ROOT, 'media'),
    host: '127.0.0.1',
    serverName: 'bench',
    maxConnectionsPerAddress: 5000,
    maxSessions: 5000,
    // Each track as a UDP client of the shared pair: its datagrams to 127.0.0.1:port through the batch.
    egress: () => (direct) => {
      const to = port++;
      const egress: Egress = {
        kind: 'udp',
        copiesHeader: true,
        sendRtp: (h: Buffer, p: Buffer, lane?: SendLane) => batch.add(owner, h, p, 0x7f00_0001, to, lane),
        sendRtcp: (p: Buffer) => batch.add(owner, p, undefined, 0x7f00_0001, to + 1),
        get dropped() {
          return direct.dropped;
        },
      };
      return { egress, release: () => undefined };
    },
  });
  try {
    const entry = await server.catalog.acquire('sample.mp4');
    for (const t of entry.tracks) for (let c = 0; c <= t.source.chunkOf(t.source.sampleCount - 1); c++) await t.source.loadChunk(c);
    const url = 'rtsp://127.0.0.1/sample.mp4';
    const clients: RtspClientConnection[] = [];
    // Sessions join 20 ms apart at positions spread over the first 4 s: a payload per session, as
    // clients that joined at different moments get.
    for (let i = 0; i < sessions; i++) {
      const c = RtspClientConnection.over(server.connect(), { host: 'in-process', port: 554, random: seededRandom(i) });
      clients.push(c);
      const a = await c.request('SETUP', `${url}/trackID=1`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
      const session = a.headers.get('Session')!.split(';')[0]!;
      await c.request('SETUP', `${url}/trackID=2`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3', Session: session });
      await c.request('PLAY', url, { Session: session, Range: `npt=${((i * 0.04) % 4).toFixed(3)}-` });
      clock.advance(20);
    }
    clock.advance(500);
    // The earlier rounds' garbage collected now, not in the measured span.
    (globalThis as { gc?: () => void }).gc?.();
    const wakeups0 = server.snapshot().scheduler.wakeups;
    const packets0 = addon.datagrams;
    const calls0 = addon.calls;
    const cpu0 = process.cpuUsage();
    // Whole milliseconds, as the process's timers fire; the scheduler's own timer does the rest.
    for (let ms = 0; ms < seconds * 1000; ms++) clock.advance(1);
    const cpu = process.cpuUsage(cpu0);
    const result = {
      packets: addon.datagrams - packets0,
      cpuUs: cpu.user + cpu.system,
      wakeups: server.snapshot().scheduler.wakeups - wakeups0,
      calls: addon.calls - calls0,
    };
    for (const c of clients) c.close();
    server.catalog.release(entry);
    return result;
  } finally {
    await server.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sessions: { type: 'string', default: '100' },
      seconds: { type: 'string', default: '12' },
      rounds: { type: 'string', default: '5' },
      'warmup-rounds': { type: 'string', default: '2' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const sessions = intOption('sessions', values.sessions, 1, 2000);
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 15)) throw new Error(`--seconds wants 0..15 (the sample is 20 s), got ${values.seconds}`);
  const rounds = intOption('rounds', values.rounds, 1, 50);
  const warmup = intOption('warmup-rounds', values['warmup-rounds'], 0, 10);
  const m = machineInfo();
  process.stdout.write(
    `send path bench, ${new Date().toISOString()}\nmachine: ${m.cpuModel}, ${m.cores} cores, node ${m.node}; load average ${m.loadAvg.join(' / ')}\n`,
  );
  process.stdout.write(`${sessions} file sessions of media/sample.mp4, ${seconds} s of media per round, manual clock, counting addon\n\n`);
  const ns: number[] = [];
  for (let r = 0; r < warmup + rounds; r++) {
    const x = await round(sessions, seconds);
    const perPacket = (x.cpuUs * 1000) / x.packets;
    if (r >= warmup) ns.push(perPacket);
    process.stdout.write(
      `${r < warmup ? 'warm-up' : `round ${r - warmup + 1}`}: ${x.packets} packets, ${x.wakeups} wake-ups, ${x.calls} native calls, CPU ${(x.cpuUs / 1000).toFixed(1)} ms, ${perPacket.toFixed(0)} ns/packet\n`,
    );
  }
  process.stdout.write(
    `\nmedian ${median(ns).toFixed(0)} ns/packet (min ${Math.min(...ns).toFixed(0)}, max ${Math.max(...ns).toFixed(0)})\n`,
  );
}

await main();
