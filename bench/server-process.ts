/**
 * The streamlab server as the bench runs it: a child process of its own (so that its CPU and RSS
 * are measured alone): compiled by tsc and run with plain node (`--runner js`, as shipped, the
 * default), or started with `fork('bin/run-ts.js', ['bench/server-process.ts', mediaDir])` through
 * tsx (`--runner tsx`).
 * It listens on 127.0.0.1 with a free port, sends `{ type: 'ready', port }` over IPC, and answers
 * `{ cmd: 'mark' }` (start of a run: resets the event-loop delay histogram) and
 * `{ cmd: 'report' }` with a ServerProcessReport. It exits when told `{ cmd: 'exit' }`, on
 * SIGTERM/SIGINT, and when the IPC channel closes (the bench died), so it never outlives the bench.
 */
import { createRequire } from 'node:module';
import type * as V8Module from 'node:v8';
import { RtspServer } from '../src/server/index.ts';
import { parseLiveSpec } from '../src/server/live/live-hub.ts';
import type { ServerOptions, ServerSnapshot } from '../src/server/index.ts';
import { interleavedBatchStats, latenessPercentile, udpBatchStats, udpGso } from '../src/transport/index.ts';
import type { UdpGsoState } from '../src/transport/index.ts';
import { eldFromHistogram, startEventLoopMonitor } from './eld.ts';
import type { EventLoopDelay } from './eld.ts';

export interface ServerProcessReport {
  type: 'report';
  /** Event-loop delay since the mark (ramp and hold). */
  eld: EventLoopDelay;
  /** Event-loop delay since the hold began (every client in), when the bench said so. */
  eldHold: EventLoopDelay | undefined;
  /** process.cpuUsage() since the mark, seconds (cross-check of /proc). */
  cpuUserSec: number;
  cpuSysSec: number;
  rssBytes: number;
  heapUsedBytes: number;
  sessions: number;
  streams: number;
  packetsSent: number;
  egressDropped: number;
  receiverReports: number;
  scheduler: { tasks: number; wakeups: number; tasksRun?: number; maxLateMs: number; timer?: 'native' | 'node' };
  /**
   * How late the scheduler's wake-ups came after the time their timer was armed for, since the
   * mark, ms (negative: early); one process only (not with workers).
   */
  wakeLateMs?: { p50: number; p90: number; p99: number } | undefined;
  cache: { bytes: number; hits: number; misses: number; evictions: number };
  counters: Record<string, number>;
  /** The native sender's batch (datagrams, native calls, sendmmsg runs) and the UDP ports' state. */
  udpBatch?: Record<string, number> | undefined;
  /** The native sender's segmentation offload: on or off, segmented messages and the datagrams they carried. */
  gso?: UdpGsoState | undefined;
  /** Interleaved connections: frames, native and Node writes, native calls, partial writes, errors. */
  interleavedBatch?: Record<string, number> | undefined;
  udp?: unknown;
}

/** The bench server's --max-sessions: above the bench's largest client count (5,000). */
export const BENCH_MAX_SESSIONS = 6000;

export type ServerProcessCommand = { cmd: 'mark' } | { cmd: 'hold' } | { cmd: 'report' } | { cmd: 'heap' } | { cmd: 'exit' };

/** The heap after a full collection (`--expose-gc`): what the server retains, without garbage (with workers: the primary's only). */
export interface ServerHeapReport {
  type: 'heap';
  heapUsedBytes: number;
  /** After the same collection: the heap V8 holds (used + free), memory outside it, and RSS. */
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  rssBytes: number;
  /** V8's spaces (new, old, code, large object, ...): bytes held and bytes used. */
  spaces: { name: string; sizeBytes: number; usedBytes: number }[];
}
export type ServerProcessMessage =
  { type: 'ready'; port: number; pid: number; workerPids?: number[] } | ServerProcessReport | ServerHeapReport;

/** Percentiles of the wake-up lateness histogram's growth since `mark`. */
function wakeLateness(now: Uint32Array | undefined, mark: Uint32Array | undefined): ServerProcessReport['wakeLateMs'] {
  if (!now || !mark) return undefined;
  const d = now.map((n, i) => n - mark[i]!);
  return { p50: latenessPercentile(d, 50), p90: latenessPercentile(d, 90), p99: latenessPercentile(d, 99) };
}

async function main(): Promise<void> {
  const mediaDir = process.argv[2] ?? 'media';
  const workers = Number(process.argv[3] ?? '1');
  // `NAME=FILE` (as `serve --live`): the live channel of the bench's --timeline shared.
  const live = process.argv[4] !== undefined ? [parseLiveSpec(process.argv[4])] : undefined;
  if (!process.send) throw new Error('bench/server-process.ts must be started with fork() (IPC)');
  // Every load client connects from 127.0.0.1: no per-address bound (it would refuse beyond 32).
  const udpPorts = process.env.STREAMLAB_UDP_PORTS === 'per-session' ? 'per-session' : 'shared';
  // The bench runs up to 5,000 clients: --max-sessions (default 1,000) raised as an operator would.
  const options: ServerOptions = {
    mediaDir,
    host: '127.0.0.1',
    port: 0,
    maxConnectionsPerAddress: 1_000_000,
    maxSessions: BENCH_MAX_SESSIONS,
    udpPorts,
    ...(live ? { live } : {}),
  };
  // With a worker count above 1 this process is the primary, and forks itself as the workers.
  // The cluster's modules are loaded only then, as `serve` does: without workers the idle RSS
  // measured is that of `serve` without --workers.
  const cluster = workers > 1 || process.env.STREAMLAB_WORKER !== undefined ? await import('../src/cluster/index.ts') : undefined;
  const worker = cluster?.workerFromEnv();
  if (cluster && worker) return cluster.runWorker(options, worker);
  const send = (m: ServerProcessMessage): void => {
    if (process.connected) process.send?.(m);
  };
  const server: {
    port: number;
    snapshot(): ServerSnapshot;
    refresh(): Promise<void>;
    close(): Promise<void>;
    workerPids: number[];
    lateness?: Uint32Array;
  } =
    cluster && workers > 1
      ? await cluster.startCluster(options, workers, { forwardEvents: false }).then((c) => ({
          port: c.port,
          snapshot: () => c.view.snapshot(),
          refresh: () => c.view.refresh(),
          close: () => c.close(),
          workerPids: c.primary.pids.filter((p): p is number => p !== undefined),
        }))
      : await RtspServer.listen(options).then((s) => ({
          port: s.port,
          snapshot: () => s.snapshot(),
          refresh: () => Promise.resolve(),
          close: () => s.close(),
          workerPids: [],
          lateness: s.scheduler.lateness,
        }));
  const eld = startEventLoopMonitor();
  let eldHold: ReturnType<typeof startEventLoopMonitor> | undefined;
  let cpuMark = process.cpuUsage();
  let lateMark = server.lateness?.slice();
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    eld.disable();
    eldHold?.disable();
    const force = setTimeout(() => process.exit(0), 2000);
    force.unref();
    void server.close().finally(() => process.exit(0));
  };
  process.on('message', (m: ServerProcessCommand) => {
    if (m.cmd === 'mark') {
      eld.reset();
      eldHold?.disable();
      eldHold = undefined;
      cpuMark = process.cpuUsage();
      lateMark = server.lateness?.slice();
    } else if (m.cmd === 'hold') {
      eldHold?.disable();
      eldHold = startEventLoopMonitor();
    } else if (m.cmd === 'report') {
      void report();
    } else if (m.cmd === 'heap') {
      (globalThis as { gc?: () => void }).gc?.();
      const mem = process.memoryUsage();
      send({
        type: 'heap',
        heapUsedBytes: mem.heapUsed,
        heapTotalBytes: mem.heapTotal,
        externalBytes: mem.external,
        arrayBuffersBytes: mem.arrayBuffers,
        rssBytes: mem.rss,
        // node:v8 here, not at the top: the idle RSS is read before the first heap report.
        spaces: (createRequire(import.meta.url)('node:v8') as typeof V8Module)
          .getHeapSpaceStatistics()
          .map((x) => ({ name: x.space_name, sizeBytes: x.space_size, usedBytes: x.space_used_size })),
      });
    } else if (m.cmd === 'exit') {
      stop();
    }
  });
  // With workers: the sessions are theirs (asked over IPC); the event-loop delay and cpuUsage are this process's.
  const report = async (): Promise<void> => {
    {
      await server.refresh();
      const cpu = process.cpuUsage(cpuMark);
      const snap = server.snapshot();
      let streams = 0;
      let packetsSent = 0;
      let egressDropped = 0;
      let receiverReports = 0;
      for (const s of snap.sessions) {
        for (const x of s.streams) {
          streams++;
          packetsSent += x.packets;
          egressDropped += x.dropped;
          receiverReports += x.receiverReports;
        }
      }
      const mem = process.memoryUsage();
      send({
        type: 'report',
        eld: eldFromHistogram(eld),
        eldHold: eldHold && eldFromHistogram(eldHold),
        cpuUserSec: cpu.user / 1e6,
        cpuSysSec: cpu.system / 1e6,
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        sessions: snap.sessions.length,
        streams,
        packetsSent,
        egressDropped,
        receiverReports,
        scheduler: snap.scheduler,
        wakeLateMs: wakeLateness(server.lateness, lateMark),
        cache: snap.cache,
        counters: { ...snap.counters },
        udpBatch: udpBatchStats(),
        gso: udpGso(),
        interleavedBatch: interleavedBatchStats(),
        udp: snap.udp,
      });
    }
  };
  process.on('disconnect', stop);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  send({ type: 'ready', port: server.port, pid: process.pid, workerPids: server.workerPids });
}

await main();
