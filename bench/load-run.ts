/**
 * One load run: a fresh server process, N load clients joining one after another (staggered),
 * all N held for a fixed time, then TEARDOWN. Measures the server process from outside (/proc:
 * CPU, RSS) and, for streamlab, from inside (event-loop delay); the clients give delivered
 * packets, RFC 3550 loss and jitter, and the time from TCP connect to the first RTP packet.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { eldFromHistogram, startEventLoopMonitor } from './eld.ts';
import type { EventLoopDelay } from './eld.ts';
import { BareClient, LoadClient, PHASE_JOIN, PHASE_STEADY, type BenchClient, type PhaseCounts } from './load-client.ts';
import { at } from '../src/util/narrow.ts';
import type { PhaseClock } from './load-client.ts';
import os from 'node:os';
import { readCpuOf, readRssOf, readRunQueueWaitOf, readUdpCounters, RssSampler } from './proc-stats.ts';
import type { ProbeReport } from './probe-process.ts';
import type { ServerProcessReport } from './server-process.ts';
import { SelfCpu } from './scale.ts';
import { startProbe } from './probe.ts';
import type { Probe } from './probe.ts';
import { compileBench, startTarget } from './targets.ts';
import { startClientHosts } from './client-hosts.ts';
import type { ClientHosts } from './client-hosts.ts';
import { clientRead } from './rtp-reader.ts';
import type { ClientRead } from './rtp-reader.ts';
import type { Runner, SenderChoice, TargetKind, TimelineChoice, UdpPortsChoice } from './targets.ts';

export interface RunOptions {
  server: TargetKind;
  runner: Runner;
  /** streamlab's sender (UDP and interleaved). */
  sender: SenderChoice;
  /** streamlab's server UDP ports: the shared pair or a pair per track. */
  udpPorts?: UdpPortsChoice;
  /** How the clients get RTP: UDP port pairs, or interleaved in the RTSP connection. */
  transport: 'udp' | 'tcp';
  /** Extra node flags for the streamlab server process (profiling). */
  serverExecArgv?: string[];
  /** streamlab's worker processes (serve --workers; default 1: one process). */
  workers?: number;
  /** streamlab's clients: each on its own timeline of the file (default), or one shared live channel. */
  timeline?: TimelineChoice;
  mediaFile: string;
  clients: number;
  /** Delay between two clients joining, ms. */
  staggerMs: number;
  /** How long all clients stay together once the last has joined, s. */
  holdSec: number;
  rrIntervalMs: number;
  requestTimeoutMs: number;
  /** Time the server idles after start before its idle RSS is read, ms. */
  settleMs: number;
  /**
   * Seconds of a warm-up round before the measured one (0: none): the same clients join the same
   * way, stay this long and leave, so the measured round meets a server whose code V8 has
   * compiled, as a server that has run for a while. Not for the floor (nothing to warm, and it
   * cannot drop a client). Idle RSS is read before it.
   */
  warmupSec?: number;
  /**
   * Processes the load clients run in (client-hosts.ts, client i in process i % N); 1 (the default):
   * in the bench process, as before the option existed.
   */
  clientProcesses?: number;
}

export interface RunResult {
  server: TargetKind;
  /** How streamlab ran (js: compiled by tsc, as shipped; tsx: src/ through tsx); undefined for GStreamer. */
  runner: Runner | undefined;
  /** streamlab's sender (UDP and interleaved); undefined for the others. */
  sender: SenderChoice | undefined;
  /** streamlab's server UDP ports (UDP rows); undefined for the others. */
  udpPorts?: UdpPortsChoice | undefined;
  transport: 'udp' | 'tcp';
  /** streamlab's worker processes (CPU and RSS are summed over the primary and its workers); 1 for the others. */
  workers: number;
  /**
   * streamlab's clients' timeline (own: the file per session; shared: one live channel), or
   * GStreamer's media (own: per client; shared: one for all); undefined for the floor.
   */
  timeline?: TimelineChoice | undefined;
  /** Server CPU time per RTP packet delivered during the hold, µs. */
  cpuUsPerPacket: number;
  clients: number;
  clientsOk: number;
  errors: string[];
  /** Ramp (first connect → every client has RTP, + 0.5 s) and hold, s. */
  rampSec: number;
  holdSec: number;
  /** The warm-up round the server had before the measured one, s (0: none; always 0 for the floor). */
  warmupSec: number;
  /** Server CPU (user + sys) over ramp + hold, % of one core; and over the hold alone. */
  cpuPct: number;
  cpuPctHold: number;
  /** The busiest single process during the hold (with workers: the hottest of primary and workers), % of one core. */
  cpuPctHoldMaxProcess: number;
  rssIdleMB: number;
  /** Heap retained per session: heap used after a full GC with every client in, less idle, per client (streamlab). */
  heapPerSessionKB: number | undefined;
  rssPeakMB: number;
  /** Packets per second delivered to all clients during the hold. */
  pktsPerSec: number;
  packetsReceived: number;
  /** RFC 3550 A.3 over the whole run, all clients and tracks. */
  expected: number;
  lost: number;
  lossPct: number;
  /** Loss from sequence gaps seen while clients were joining / once all were in. */
  joinLost: number;
  joinLossPct: number;
  steadyLost: number;
  steadyLossPct: number;
  /** A.8 interarrival jitter at the clients, ms (samples at every RR and at the end). */
  jitterMeanMs: number;
  jitterMaxMs: number;
  jitterByMedia: Record<string, { meanMs: number; medianMs: number; maxMs: number }>;
  /** TCP connect → first RTP packet, ms. */
  firstRtpMedianMs: number;
  firstRtpP95Ms: number;
  /** Event-loop delay of the server process over ramp + hold (streamlab only). */
  serverEld: EventLoopDelay | undefined;
  /** The same over the hold alone, every client in. */
  serverEldHold: EventLoopDelay | undefined;
  /** Event-loop delay of the bench process (with clients in it, their own lag inflates their jitter). */
  clientEld: EventLoopDelay;
  /** Processes the load clients ran in: 1, the bench process; N > 1, N client hosts. */
  clientProcesses: number;
  /** How the clients read RTP over UDP (bench/rtp-reader.ts). */
  clientRead: ClientRead;
  /** With client hosts: each host's event-loop delay from its start to the end of the hold. */
  clientHostEld: (EventLoopDelay | undefined)[] | undefined;
  /** Share of ramp + hold the server's main thread waited for a CPU (run queue), %. */
  serverRunQueueWaitPct: number;
  /** 1-minute load average when the run started. */
  loadAvg1: number;
  /** Host-wide UDP receive-buffer overflows during the run (loss the clients caused themselves). */
  udpRcvbufErrors: number;
  /** Host-wide UDP send-buffer failures during the run (the senders' side). */
  udpSndbufErrors: number;
  /**
   * CPU of the clients during the hold, % of one core: the bench process's, plus, with client hosts,
   * the sum over the host processes.
   */
  clientCpuPctHold: number;
  teardownsOk: number;
  /** Server CPU % in the 1.5 s after all clients tore down (should be near 0), and what it still held. */
  cpuAfterTeardownPct: number;
  sessionsAfterTeardown: number | undefined;
  schedulerTasksAfterTeardown: number | undefined;
  mediaDurationSec: number | undefined;
  serverReport: ServerProcessReport | undefined;
  /**
   * The probe client (probe-process.ts): one more viewer in a process of its own, joined after the
   * ramp; per media the median of its A.8 jitter over the hold (ms) and its loss. What one client sees,
   * without the load clients' own lag.
   */
  probe: ProbeReport['media'] | undefined;
}

const MB = 1024 * 1024;

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = at(s, lo);
  return a + (at(s, hi) - a) * (rank - lo);
}

function pct(part: number, whole: number): number {
  return whole > 0 ? (100 * part) / whole : 0;
}

/**
 * The warm-up round (RunOptions.warmupSec): clients in this process, joining as the measured ones
 * will, held `seconds`, torn down; then a second of quiet.
 */
async function warmUp(url: string, o: RunOptions, seconds: number, log: (s: string) => void): Promise<void> {
  const phase: PhaseClock = { phase: PHASE_STEADY };
  const clients: LoadClient[] = [];
  const starts: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < o.clients; i++) {
    const wait = t0 + i * o.staggerMs - performance.now();
    if (wait > 0) await sleep(wait);
    const c = new LoadClient({ url, phase, rrIntervalMs: o.rrIntervalMs, requestTimeoutMs: o.requestTimeoutMs, transport: o.transport });
    clients.push(c);
    starts.push(c.start());
  }
  await Promise.all(starts);
  await sleep(seconds * 1000);
  await Promise.all(clients.map((c) => c.stop()));
  const failed = clients.filter((c) => c.error !== undefined).length;
  log(`  warm-up: ${o.clients - failed}/${o.clients} client(s) for ${seconds} s${failed > 0 ? ` (${failed} failed)` : ''}`);
  await sleep(1000);
}

export async function runLoad(o: RunOptions, log: (s: string) => void): Promise<RunResult> {
  const target = await startTarget(o.server, o.mediaFile, {
    runner: o.runner,
    execArgv: o.serverExecArgv,
    sender: o.sender,
    ...(o.udpPorts ? { udpPorts: o.udpPorts } : {}),
    workers: o.workers ?? 1,
    timeline: o.timeline ?? 'own',
    // The last client joins after the ramp and plays through the hold; 10 s for slow joins.
    mediaSec: (o.clients * o.staggerMs) / 1000 + o.holdSec + 10,
  });
  const clients: BenchClient[] = [];
  let probe: Probe | undefined;
  let hosts: ClientHosts | undefined;
  try {
    const clientProcesses = o.clientProcesses ?? 1;
    if (clientProcesses > 1)
      hosts = await startClientHosts(
        clientProcesses,
        target.floor
          ? { kind: 'bare', tracks: target.floor.tracks }
          : { kind: 'rtsp', url: target.url, transport: o.transport, rrIntervalMs: o.rrIntervalMs, requestTimeoutMs: o.requestTimeoutMs },
        (ports) => target.floor?.join(ports),
      );
    // The probe's compiled code (tsc, seconds) is made now, not when the probe starts in the run.
    compileBench();
    await sleep(o.settleMs);
    const rssIdle = readRssOf(target.pids) ?? 0;
    const heapIdle = await target.heap?.();
    if ((o.warmupSec ?? 0) > 0 && !target.floor) await warmUp(target.url, o, o.warmupSec!, log);
    const phase: PhaseClock = { phase: PHASE_JOIN };
    const benchEld = startEventLoopMonitor();
    target.mark();
    const [loadAvg1] = os.loadavg() as [number, number, number]; // Node always returns three averages
    const udp0 = readUdpCounters();
    const cpu0 = readCpuOf(target.pids);
    const wait0 = readRunQueueWaitOf(target.pids);
    const t0 = performance.now();
    const rss = new RssSampler(target.pids);
    rss.start();

    // Ramp: client i starts at t0 + i * stagger.
    const starts: Promise<void>[] = [];
    for (let i = 0; i < o.clients; i++) {
      const wait = t0 + i * o.staggerMs - performance.now();
      if (wait > 0) await sleep(wait);
      const c: BenchClient = hosts
        ? hosts.client(i)
        : target.floor
          ? new BareClient(target.floor.tracks, phase, target.floor.join)
          : new LoadClient({
              url: target.url,
              phase,
              rrIntervalMs: o.rrIntervalMs,
              requestTimeoutMs: o.requestTimeoutMs,
              transport: o.transport,
            });
      clients.push(c);
      starts.push(c.start());
    }
    await Promise.all(starts);
    const deadline = performance.now() + 5000;
    while (performance.now() < deadline && clients.some((c) => c.error === undefined && c.timeToFirstRtpMs === undefined)) await sleep(20);
    await sleep(500);
    probe = await startProbe(target, { transport: o.transport, rrIntervalMs: o.rrIntervalMs, requestTimeoutMs: o.requestTimeoutMs });
    if (probe.error !== undefined) log(`  probe client failed: ${probe.error}`);
    // The hold starts once the probe is in: the packets counted as steady are those of holdSec.
    phase.phase = PHASE_STEADY;
    hosts?.setPhase(PHASE_STEADY);
    const tHold = performance.now();
    target.markHold?.();
    const cpuHold0 = readCpuOf(target.pids);
    const perProcess0 = target.pids.map((pid) => readCpuOf([pid]));
    const benchCpu = new SelfCpu();
    const hostsCpu0 = hosts ? readCpuOf(hosts.pids) : undefined;
    await sleep(o.holdSec * 1000);
    const hostsCpu1 = hosts ? readCpuOf(hosts.pids) : undefined;
    const t1 = performance.now();
    const clientCpuPctHold =
      benchCpu.lap() + (hosts ? (hostsCpu0 && hostsCpu1 ? (100 * (hostsCpu1.cpuSec - hostsCpu0.cpuSec)) / ((t1 - tHold) / 1000) : NaN) : 0);
    const cpu1 = readCpuOf(target.pids);
    const perProcess1 = target.pids.map((pid) => readCpuOf([pid]));
    const wait1 = readRunQueueWaitOf(target.pids);
    rss.stop();
    const serverReport = await target.report();
    const probeReport = await probe.report();
    benchEld.disable();
    const udp1 = readUdpCounters();
    // Client hosts: every client's figures now, as those of clients in this process are read here.
    await hosts?.collect();
    for (const c of clients) for (const t of c.tracks) t.jitterSamplesMs.push(t.source.jitterMs);
    // Snapshot the receive statistics before TEARDOWN, so the tail is not counted.
    const snaps = clients.flatMap((c) => c.tracks.map((t) => ({ t, s: t.source.snapshot() })));
    // After the statistics: the full collection's pause must not show in the clients' figures.
    const heapLive = await target.heap?.();
    await Promise.all([...clients.map((c) => c.stop()), probe.stop()]);
    await sleep(1000);
    const cpuIdle0 = readCpuOf(target.pids);
    const tIdle0 = performance.now();
    await sleep(1500);
    const cpuIdle1 = readCpuOf(target.pids);
    const tIdle1 = performance.now();
    const after = await target.report();

    const cpuSec = (a: ReturnType<typeof readCpuOf>, b: ReturnType<typeof readCpuOf>): number => (a && b ? b.cpuSec - a.cpuSec : NaN);
    const holdSec = (t1 - tHold) / 1000;
    let expected = 0;
    let lost = 0;
    let packetsReceived = 0;
    let steadyReceived = 0;
    const joinLost: PhaseCounts = [0, 0];
    const joinRecv: PhaseCounts = [0, 0];
    const jitter: number[] = [];
    const jitterByMedia: Record<string, number[]> = {};
    for (const { t, s } of snaps) {
      expected += s.expected;
      lost += s.expected - s.received;
      packetsReceived += t.packets;
      steadyReceived += t.received[PHASE_STEADY];
      for (const ph of [PHASE_JOIN, PHASE_STEADY] as const) {
        joinLost[ph] += Math.max(0, t.gapLost[ph] - t.late[ph]);
        joinRecv[ph] += t.received[ph];
      }
      if (!t.arrivalExact) continue;
      jitter.push(...t.jitterSamplesMs);
      (jitterByMedia[t.media] ??= []).push(...t.jitterSamplesMs);
    }
    const ok = clients.filter((c) => c.error === undefined);
    const firstRtp = ok.map((c) => c.timeToFirstRtpMs).filter((x): x is number => x !== undefined);
    const errors = [...new Set(clients.filter((c) => c.error !== undefined).map((c) => c.error as string))];
    const result: RunResult = {
      server: o.server,
      runner: o.server === 'streamlab' ? o.runner : undefined,
      sender: o.server === 'streamlab' ? o.sender : undefined,
      udpPorts: o.server === 'streamlab' && o.transport === 'udp' ? (o.udpPorts ?? 'shared') : undefined,
      transport: o.transport,
      workers: o.server === 'streamlab' ? (o.workers ?? 1) : 1,
      timeline: o.server === 'streamlab' ? (o.timeline ?? 'own') : o.server === 'gst' ? (o.timeline ?? 'shared') : undefined,
      cpuUsPerPacket: (1e6 * cpuSec(cpuHold0, cpu1)) / steadyReceived,
      clients: o.clients,
      clientsOk: ok.length,
      errors,
      rampSec: (tHold - t0) / 1000,
      holdSec,
      warmupSec: target.floor ? 0 : (o.warmupSec ?? 0),
      cpuPct: (100 * cpuSec(cpu0, cpu1)) / ((t1 - t0) / 1000),
      cpuPctHold: (100 * cpuSec(cpuHold0, cpu1)) / holdSec,
      cpuPctHoldMaxProcess: Math.max(...perProcess0.map((a, i) => (100 * cpuSec(a, perProcess1[i])) / holdSec)),
      rssIdleMB: rssIdle / MB,
      rssPeakMB: rss.peak / MB,
      heapPerSessionKB:
        heapIdle !== undefined && heapLive !== undefined && ok.length > 0 ? (heapLive - heapIdle) / 1024 / ok.length : undefined,
      pktsPerSec: steadyReceived / holdSec,
      packetsReceived,
      expected,
      lost,
      lossPct: pct(lost, expected),
      joinLost: joinLost[PHASE_JOIN],
      joinLossPct: pct(joinLost[PHASE_JOIN], joinLost[PHASE_JOIN] + joinRecv[PHASE_JOIN]),
      steadyLost: joinLost[PHASE_STEADY],
      steadyLossPct: pct(joinLost[PHASE_STEADY], joinLost[PHASE_STEADY] + joinRecv[PHASE_STEADY]),
      jitterMeanMs: jitter.length ? jitter.reduce((a, b) => a + b, 0) / jitter.length : NaN,
      jitterMaxMs: jitter.length ? Math.max(...jitter) : NaN,
      jitterByMedia: Object.fromEntries(
        Object.entries(jitterByMedia).map(([k, v]) => [
          k,
          { meanMs: v.reduce((a, b) => a + b, 0) / v.length, medianMs: percentile(v, 50), maxMs: Math.max(...v) },
        ]),
      ),
      firstRtpMedianMs: percentile(firstRtp, 50),
      firstRtpP95Ms: percentile(firstRtp, 95),
      serverEld: serverReport?.eld,
      serverEldHold: serverReport?.eldHold,
      clientEld: eldFromHistogram(benchEld),
      clientProcesses,
      clientRead: clientRead(),
      clientHostEld: hosts?.eld(),
      serverRunQueueWaitPct: wait0 !== undefined && wait1 !== undefined ? (100 * (wait1 - wait0)) / ((t1 - t0) / 1000) : NaN,
      loadAvg1,
      udpRcvbufErrors: udp0 && udp1 ? udp1.rcvbufErrors - udp0.rcvbufErrors : NaN,
      udpSndbufErrors: udp0 && udp1 ? udp1.sndbufErrors - udp0.sndbufErrors : NaN,
      clientCpuPctHold,
      teardownsOk: clients.filter((c) => c.teardownOk).length,
      cpuAfterTeardownPct: (100 * cpuSec(cpuIdle0, cpuIdle1)) / ((tIdle1 - tIdle0) / 1000),
      sessionsAfterTeardown: after?.sessions,
      schedulerTasksAfterTeardown: after?.scheduler.tasks,
      mediaDurationSec: clients.find((c) => c.mediaDurationSec !== undefined)?.mediaDurationSec,
      serverReport,
      probe: probeReport?.media,
    };
    if (errors.length > 0) log(`  ${o.clients - ok.length} client(s) failed: ${errors.slice(0, 3).join('; ')}`);
    return result;
  } finally {
    for (const c of clients) c.close();
    await hosts?.close();
    await probe?.stop();
    await target.stop();
  }
}
