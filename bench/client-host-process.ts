/**
 * A client host: load clients of a run (`--client-processes N`) in a process of their own, so that
 * the jitter they measure is not inflated by one process receiving every client's datagrams. The
 * bench process still decides when each client starts (the ramp) and when the run turns steady;
 * this process runs the clients (LoadClient, or BareClient for the floor) and relays their figures.
 * bench/client-hosts.ts is the bench's side.
 *
 * IPC, each client named by the bench's id:
 * - `{ cmd: 'init', spec }` (how every client of this host plays) → `{ type: 'ready' }`;
 * - `{ cmd: 'start', id }` → `{ type: 'join', id, ports }` (floor clients: RTP ports for the floor),
 *   `{ type: 'started', id, error?, mediaDurationSec? }`, then `{ type: 'first', id, ms }` once it
 *   has RTP (its time from connect to the first RTP packet, measured here);
 * - `{ cmd: 'phase', phase }`: the run's phase (joining, steady) for the loss split;
 * - `{ cmd: 'collect' }` → `{ type: 'collected', clients, eld }`: every client's track figures and
 *   receive snapshot, taken now (before TEARDOWN), and this process's event-loop delay since init;
 * - `{ cmd: 'stop', id }` → `{ type: 'stopped', id, teardownOk, tracks }`: TEARDOWN, then the
 *   counters as they ended and the jitter samples taken since the collect;
 * - `{ cmd: 'exit' }`, or the IPC channel closing: closes every client and exits.
 */
import { eldFromHistogram, startEventLoopMonitor } from './eld.ts';
import type { EventLoopDelay } from './eld.ts';
import { BareClient, LoadClient, PHASE_JOIN } from './load-client.ts';
import type { BenchClient, Phase, PhaseClock, PhaseCounts, TrackFigures } from './load-client.ts';
import type { ReceiverSourceSnapshot } from '../src/stats/index.ts';

/** How the clients of a host play: an RTSP URL as LoadClients, or the floor's tracks as BareClients. */
export type ClientSpec =
  | { kind: 'rtsp'; url: string; transport: 'udp' | 'tcp'; rrIntervalMs: number; requestTimeoutMs: number }
  | { kind: 'bare'; tracks: { media: string; clockRate: number }[] };

export type HostCommand =
  | { cmd: 'init'; spec: ClientSpec }
  | { cmd: 'start'; id: number }
  | { cmd: 'phase'; phase: Phase }
  | { cmd: 'collect' }
  | { cmd: 'stop'; id: number }
  | { cmd: 'exit' };

/** One track's counters (TrackFigures without the receive statistics). */
export interface TrackCounts {
  packets: number;
  received: PhaseCounts;
  gapLost: PhaseCounts;
  late: PhaseCounts;
}

/** A track as collected: its counters, its jitter samples so far, the A.8 jitter now and the receive snapshot. */
export interface CollectedTrack extends TrackCounts {
  media: string;
  jitterSamplesMs: number[];
  arrivalExact: boolean;
  jitterMs: number;
  snapshot: ReceiverSourceSnapshot;
}

export type HostMessage =
  | { type: 'ready' }
  | { type: 'join'; id: number; ports: number[] }
  | { type: 'started'; id: number; error?: string; mediaDurationSec?: number }
  | { type: 'first'; id: number; ms: number }
  | { type: 'collected'; clients: { id: number; tracks: CollectedTrack[] }[]; eld: EventLoopDelay }
  | { type: 'stopped'; id: number; teardownOk: boolean; tracks: (TrackCounts & { newJitterSamplesMs: number[] })[] };

/** How often clients still waiting for their first RTP packet are looked at (load-run.ts polls as often). */
const FIRST_RTP_POLL_MS = 20;

let spec: ClientSpec | undefined;
const phase: PhaseClock = { phase: PHASE_JOIN };
const clients = new Map<number, BenchClient>();
/** Per client, per track: how many jitter samples the collect sent (the stop sends the rest). */
const collectedSamples = new Map<number, number[]>();
const waitingFirst = new Set<number>();
let firstPoll: NodeJS.Timeout | undefined;
const eld = startEventLoopMonitor();
let eldAtCollect: EventLoopDelay | undefined;

function send(m: HostMessage): void {
  if (process.connected) process.send?.(m);
}

function counts(t: TrackFigures): TrackCounts {
  return { packets: t.packets, received: [...t.received], gapLost: [...t.gapLost], late: [...t.late] };
}

function pollFirst(): void {
  for (const id of waitingFirst) {
    const ms = clients.get(id)?.timeToFirstRtpMs;
    if (ms === undefined) continue;
    waitingFirst.delete(id);
    send({ type: 'first', id, ms });
  }
  if (waitingFirst.size === 0) {
    clearInterval(firstPoll);
    firstPoll = undefined;
  }
}

function start(id: number, s: ClientSpec): void {
  const c: BenchClient =
    s.kind === 'rtsp'
      ? new LoadClient({ url: s.url, phase, rrIntervalMs: s.rrIntervalMs, requestTimeoutMs: s.requestTimeoutMs, transport: s.transport })
      : new BareClient(s.tracks, phase, (ports) => send({ type: 'join', id, ports }));
  clients.set(id, c);
  void c.start().then(() => {
    send({
      type: 'started',
      id,
      ...(c.error !== undefined ? { error: c.error } : {}),
      ...(c.mediaDurationSec !== undefined ? { mediaDurationSec: c.mediaDurationSec } : {}),
    });
    if (c.error !== undefined) return;
    waitingFirst.add(id);
    pollFirst();
    firstPoll ??= setInterval(pollFirst, FIRST_RTP_POLL_MS);
  });
}

function collect(): void {
  eldAtCollect ??= eldFromHistogram(eld);
  eld.disable();
  const out: { id: number; tracks: CollectedTrack[] }[] = [];
  for (const [id, c] of clients) {
    collectedSamples.set(
      id,
      c.tracks.map((t) => t.jitterSamplesMs.length),
    );
    out.push({
      id,
      tracks: c.tracks.map((t) => ({
        media: t.media,
        ...counts(t),
        jitterSamplesMs: [...t.jitterSamplesMs],
        arrivalExact: t.arrivalExact,
        jitterMs: t.source.jitterMs,
        snapshot: t.source.snapshot(),
      })),
    });
  }
  send({ type: 'collected', clients: out, eld: eldAtCollect });
}

async function stop(id: number): Promise<void> {
  const c = clients.get(id);
  if (!c) return send({ type: 'stopped', id, teardownOk: false, tracks: [] });
  await c.stop().catch(() => undefined);
  const from = collectedSamples.get(id) ?? [];
  send({
    type: 'stopped',
    id,
    teardownOk: c.teardownOk,
    tracks: c.tracks.map((t, i) => ({ ...counts(t), newJitterSamplesMs: t.jitterSamplesMs.slice(from[i] ?? 0) })),
  });
}

function exit(): void {
  clearInterval(firstPoll);
  for (const c of clients.values()) c.close();
  process.exit(0);
}

process.on('message', (m: HostCommand) => {
  switch (m.cmd) {
    case 'init':
      spec = m.spec;
      send({ type: 'ready' });
      break;
    case 'start':
      if (spec) start(m.id, spec);
      else send({ type: 'started', id: m.id, error: 'client host: start before init' });
      break;
    case 'phase':
      phase.phase = m.phase;
      break;
    case 'collect':
      collect();
      break;
    case 'stop':
      void stop(m.id);
      break;
    case 'exit':
      exit();
  }
});
process.on('disconnect', exit);
