/**
 * One run in real time, in-process: an RtspServer on 127.0.0.1 (port 0) whose egress hook puts the
 * run's netem impairment and seed on every track (an ImpairedEgress the lab keeps, with its fate
 * log), and a PlaySession (UDP or TCP) that records what it plays out. Everything about the server
 * side comes through its public API: the egress hook (fates), the stream-started event (first
 * sequence number per track) and the receiver-report event. The fate logs are the ground truth.
 */

import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LAB_ELD_RESOLUTION_MS, eventLoopFigures } from './event-loop.ts';
import type { FateRecord } from '../impair/index.ts';
import { PlaySession } from '../receiver/index.ts';
import type { Sink } from '../receiver/index.ts';
import { RtspServer } from '../server/index.ts';
import type { EgressHookFactory, ReceiverReportRecord } from '../server/index.ts';
import { udpKernelDrops } from '../transport/index.ts';
import { RunImpairment, presentationTracks } from './impairment.ts';
import { seededRandom } from '../util/random.ts';
import { sampleReceivers } from './collect.ts';
import type { RunSpec } from './experiment.ts';
import type { RunObservation } from './observation.ts';
import type { SeriesPoint } from './result-types.ts';

/** Separates the run's identifier/interval stream from the netem seeds (as run-fast.ts). */
const RANDOM_SEED_SALT = 0x1ab5_eed0;

/** The receiver gives up when the server sends nothing for this long. */
const IDLE_TIMEOUT_MS = 10_000;
/** End of a run: how long to wait at most for the emulators to empty, and for the final RRs. */
const MAX_DRAIN_MS = 10_000;
const MAX_REPORT_WAIT_MS = 2_000;
/** After the emulators hold nothing: what loopback delivery of their last datagrams may take. */
const LOOPBACK_MARGIN_MS = 50;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `done` every 5 ms until it holds or `maxMs` passed. */
async function until(done: () => boolean, maxMs: number): Promise<void> {
  const end = performance.now() + maxMs;
  while (!done() && performance.now() < end) await sleep(5);
}

export async function runRealtime(spec: RunSpec, sink: Sink | undefined): Promise<RunObservation> {
  // Identifiers and RTCP intervals from the run's seed on both sides, as in --fast (the lab's own
  // loopback server: predictable session ids harm nobody here).
  const random = seededRandom((spec.seed ^ RANDOM_SEED_SALT) >>> 0);
  /** Per track control: the fate log of its emulated path (the lab's run has one session). */
  const fatesOf = new Map<string, readonly FateRecord[]>();
  /** Per track control: the first sequence number of the run's PLAY. */
  const seq0Of = new Map<string, number>();
  let kernelDrops: number | undefined;
  // The lab is the observer that asks for per-packet fates (a served session keeps counters only).
  const impairment = new RunImpairment(spec);
  const hook = impairment.hook();
  const egress: EgressHookFactory = (clock, scheduler) => {
    const wrap = hook(clock, scheduler);
    return (direct, t) => {
      const e = wrap(direct, t);
      fatesOf.set(t.control, impairment.rtpFates(t.trackIndex));
      return e;
    };
  };
  const server = await RtspServer.listen({ random, mediaDir: path.dirname(spec.media), host: '127.0.0.1', port: 0, egress });
  const records: ReceiverReportRecord[] = [];
  let sessionId: string | undefined;
  const offStarted = server.events.on('stream-started', (s) => {
    sessionId ??= s.id;
    if (s.id !== sessionId) return;
    for (const t of s.tracks) if (!seq0Of.has(t.control)) seq0Of.set(t.control, t.seq);
  });
  const offRr = server.events.on('receiver-report', (r) => {
    if (r.sessionId === sessionId) records.push(r);
  });
  const url = `rtsp://127.0.0.1:${server.port}/${encodeURIComponent(path.basename(spec.media))}`;
  const eld = monitorEventLoopDelay({ resolution: LAB_ELD_RESOLUTION_MS });
  const series: SeriesPoint[] = [];
  const session = new PlaySession({
    url,
    random,
    transport: spec.transport,
    udpFallbackMs: 0,
    startNpt: spec.startNpt,
    durationSec: spec.durationSec,
    jitter: spec.jitter.settings,
    waitKeyframe: spec.waitKeyframe,
    idleTimeoutMs: IDLE_TIMEOUT_MS,
    returnImpairment: impairment.returnSpec,
    onTracks: (tracks) => {
      // Throws, before any SETUP, when a per-track key names no track: the run fails with why.
      impairment.bind(presentationTracks(tracks));
      void sink?.open(tracks);
    },
    onUnit: (u) => sink?.write(u),
    // The end of the run, defined so that the fate logs and the final RRs count the same packets:
    // the server stops (PAUSE), what the emulators still hold arrives, the final RR of every
    // track reaches the server, then TEARDOWN.
    endOfRun: {
      drained: async () => {
        await until(() => impairment.heldPackets === 0, MAX_DRAIN_MS);
        await sleep(LOOPBACK_MARGIN_MS);
      },
      reported: async () => {
        const before = records.length;
        const tracks = session.receivers.length;
        await until(() => records.length >= before + tracks, MAX_REPORT_WAIT_MS);
        // Still open: what the kernel dropped before the receiver could read it is invisible to it.
        kernelDrops = await udpKernelDrops(session.udpPorts);
      },
    },
  });
  const started = performance.now();
  eld.enable();
  const ticker = setInterval(() => {
    series.push(...sampleReceivers(session.receivers, (performance.now() - started) / 1000));
  }, 1000);
  let end;
  try {
    end = await session.run();
  } finally {
    clearInterval(ticker);
    eld.disable();
    offStarted();
    offRr();
    await server.close();
  }
  series.push(...sampleReceivers(session.receivers, (performance.now() - started) / 1000));
  const receivers = session.receivers;
  impairment.adoptReturnStages(session.returnStages);
  const fates: (readonly FateRecord[])[] = [];
  const seq0: (number | undefined)[] = [];
  const reports: ReceiverReportRecord[][] = [];
  for (const rx of receivers) {
    const control = rx.track.controlUrl.split('/').pop() ?? '';
    fates[rx.track.index] = fatesOf.get(control) ?? [];
    seq0[rx.track.index] = seq0Of.get(control);
    reports[rx.track.index] = records.filter((r) => r.control === control);
  }
  if (!end.ok) throw new Error(end.reason);
  return {
    receivers,
    fates,
    rtcpFates: receivers.map((rx) => impairment.rtcpFates(rx.track.index)),
    returnFates: receivers.map((rx) => impairment.returnFates(rx.track.index)),
    seq0,
    reports,
    series,
    end: end.reason,
    startNpt: spec.startNpt,
    endNpt: spec.startNpt + spec.durationSec,
    eventLoop: eventLoopFigures(eld),
    kernelDrops,
    traceOffsets: impairment.traceOffsets(),
  };
}
