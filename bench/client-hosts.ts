/**
 * `--client-processes N`: the load clients of a run hosted in N child processes
 * (bench/client-host-process.ts), client i in process i % N. Each client is a RemoteClient in the
 * bench process, a BenchClient whose figures the host relays, so load-run.ts ramps, aggregates and
 * tears down as with clients in its own process. What changes: each host receives 1/N of the
 * datagrams, so the clients' jitter holds less of their own event loop's lag.
 *
 * The bench still decides when each client starts (a 'start' message at its ramp time) and when the
 * run turns steady (a 'phase' message: the hosts see the switch one IPC hop, well under a
 * millisecond, later). Before TEARDOWN, `collect()` takes every host's figures at once (counters,
 * jitter samples, receive snapshots); each client's stop then brings its final counters. A host
 * that exits early fails its clients ("client host k exited ..."); every wait on a host is bounded.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { registerChild, stopChild } from './children.ts';
import type { ClientSpec, CollectedTrack, HostCommand, HostMessage, TrackCounts } from './client-host-process.ts';
import type { EventLoopDelay } from './eld.ts';
import type { BenchClient, Phase, PhaseCounts, TrackFigures } from './load-client.ts';
import { REPO_ROOT, compileBench } from './targets.ts';
import type { ReceiverSourceSnapshot } from '../src/stats/index.ts';

/** How long a host may take to load and answer its init. */
const HOST_START_MS = 10_000;
/** How long a collect may take (one message with every client's figures). */
const COLLECT_MS = 10_000;
/** Slack on a client's start and stop beyond its own RTSP request timeouts. */
const SLACK_MS = 5_000;
/** A client start is OPTIONS, DESCRIBE, a SETUP per track (two) and PLAY, each bounded by the request timeout. */
const START_REQUESTS = 5;

/** One track's figures as a host relayed them: at the collect, then as they ended at the stop. */
class RemoteTrack implements TrackFigures {
  packets: number;
  received: PhaseCounts;
  gapLost: PhaseCounts;
  late: PhaseCounts;
  readonly media: string;
  readonly jitterSamplesMs: number[];
  readonly arrivalExact: boolean;
  readonly source: { readonly jitterMs: number; snapshot(): ReceiverSourceSnapshot };

  constructor(c: CollectedTrack) {
    this.media = c.media;
    this.packets = c.packets;
    this.received = c.received;
    this.gapLost = c.gapLost;
    this.late = c.late;
    this.jitterSamplesMs = c.jitterSamplesMs;
    this.arrivalExact = c.arrivalExact;
    this.source = { jitterMs: c.jitterMs, snapshot: () => c.snapshot };
  }

  /** The counters as they ended, and the jitter samples taken after the collect (the last at the stop). */
  end(c: TrackCounts & { newJitterSamplesMs: number[] }): void {
    this.packets = c.packets;
    this.received = c.received;
    this.gapLost = c.gapLost;
    this.late = c.late;
    this.jitterSamplesMs.push(...c.newJitterSamplesMs);
  }
}

/** A load client living in a host process: what the run reads of it, filled from the host's messages. */
export class RemoteClient implements BenchClient {
  tracks: RemoteTrack[] = [];
  error: string | undefined;
  teardownOk = false;
  mediaDurationSec: number | undefined;
  timeToFirstRtpMs: number | undefined;
  /** Settles a pending start or stop (with the host's answer, or after a timeout or the host's exit). */
  settle: (() => void) | undefined;
  onStopped: ((m: Extract<HostMessage, { type: 'stopped' }>) => void) | undefined;

  constructor(
    private readonly host: Host,
    readonly id: number,
  ) {}

  start(): Promise<void> {
    return this.host.wait(this, { cmd: 'start', id: this.id }, this.host.startMs, 'start');
  }

  stop(): Promise<void> {
    if (this.host.gone) return Promise.resolve();
    this.onStopped = (m) => {
      this.teardownOk = m.teardownOk;
      for (const [i, t] of m.tracks.entries()) this.tracks[i]?.end(t);
    };
    return this.host.wait(this, { cmd: 'stop', id: this.id }, this.host.stopMs, 'stop');
  }

  /** The host closes its clients when it exits (ClientHosts.close). */
  close(): void {}
}

class Host {
  readonly clients = new Map<number, RemoteClient>();
  gone = false;
  eld: EventLoopDelay | undefined;
  private expectExit = false;
  private collected: (() => void) | undefined;

  constructor(
    readonly index: number,
    readonly child: ChildProcess,
    readonly startMs: number,
    readonly stopMs: number,
    onJoin: (ports: number[]) => void,
  ) {
    child.on('message', (m: HostMessage) => {
      if (m.type === 'ready') return;
      if (m.type === 'collected') {
        this.eld = m.eld;
        for (const { id, tracks } of m.clients) {
          const c = this.clients.get(id);
          if (c) c.tracks = tracks.map((t) => new RemoteTrack(t));
        }
        this.collected?.();
        return;
      }
      const c = this.clients.get(m.id);
      if (!c) return;
      if (m.type === 'join') onJoin(m.ports);
      else if (m.type === 'first') c.timeToFirstRtpMs = m.ms;
      else if (m.type === 'started') {
        // A start that timed out has failed already: a late answer does not undo it.
        if (!c.settle) return;
        c.error = m.error;
        c.mediaDurationSec = m.mediaDurationSec;
        c.settle();
      } else {
        c.onStopped?.(m);
        c.settle?.();
      }
    });
    child.once('exit', (code, signal) => {
      this.gone = true;
      if (!this.expectExit) {
        const why = `client host ${index} (pid ${child.pid}) exited (code ${code}, signal ${signal})`;
        for (const c of this.clients.values()) c.error ??= why;
      }
      for (const c of this.clients.values()) c.settle?.();
      this.collected?.();
    });
  }

  send(c: HostCommand): void {
    if (this.child.connected) this.child.send(c);
  }

  /** Sends `cmd` for `c` and resolves on the answer; on a timeout or the host's exit, `c` fails. */
  wait(c: RemoteClient, cmd: HostCommand, ms: number, what: string): Promise<void> {
    if (this.gone) {
      c.error ??= `client host ${this.index} had exited before ${what}`;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        c.error ??= `client host ${this.index}: no answer to ${what} in ${ms} ms`;
        c.settle?.();
      }, ms);
      c.settle = () => {
        clearTimeout(timer);
        c.settle = undefined;
        resolve();
      };
      this.send(cmd);
    });
  }

  collect(): Promise<void> {
    if (this.gone) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        for (const c of this.clients.values()) c.error ??= `client host ${this.index}: no answer to collect in ${COLLECT_MS} ms`;
        this.collected?.();
      }, COLLECT_MS);
      this.collected = () => {
        clearTimeout(timer);
        this.collected = undefined;
        resolve();
      };
      this.send({ cmd: 'collect' });
    });
  }

  async close(): Promise<void> {
    this.expectExit = true;
    if (!this.gone) {
      const exited = once(this.child, 'exit');
      this.send({ cmd: 'exit' });
      await Promise.race([exited, sleep(HOST_START_MS)]);
    }
    await stopChild(this.child);
  }
}

/** The host processes of one run. */
export interface ClientHosts {
  /** The hosts' pids (their CPU is the clients'). */
  readonly pids: number[];
  /** Load client `i` of the run, in host i % N; its start() sends the host its start. */
  client(i: number): BenchClient;
  /** The run's phase, for the hosts' loss split. */
  setPhase(phase: Phase): void;
  /** Every client's figures as they are now (the receive snapshots before TEARDOWN). */
  collect(): Promise<void>;
  /** Each host's event-loop delay from its start to the collect (undefined for a host that did not answer). */
  eld(): (EventLoopDelay | undefined)[];
  /** Tells every host to exit (closing its clients), waits, kills what is left. */
  close(): Promise<void>;
}

/**
 * Forks `n` client hosts (the compiled bench, as the probe) and waits until each is ready;
 * `onJoin` gets the RTP ports of each floor client (`spec.kind === 'bare'`).
 */
export async function startClientHosts(n: number, spec: ClientSpec, onJoin: (ports: number[]) => void): Promise<ClientHosts> {
  const entry = path.join(compileBench(), 'client-host-process.js');
  const requestMs = spec.kind === 'rtsp' ? spec.requestTimeoutMs : 0;
  const hosts: Host[] = [];
  try {
    for (let k = 0; k < n; k++) {
      const child = fork(entry, [], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      registerChild(child);
      hosts.push(new Host(k, child, START_REQUESTS * requestMs + SLACK_MS, requestMs + SLACK_MS, onJoin));
    }
    await Promise.all(hosts.map((h) => ready(h, spec)));
  } catch (e) {
    await Promise.all(hosts.map((h) => h.close()));
    throw e;
  }
  return {
    pids: hosts.map((h) => h.child.pid as number),
    client(i) {
      const h = hosts[i % n] as Host; // n ≥ 1 hosts, i % n indexes one
      const c = new RemoteClient(h, i);
      h.clients.set(i, c);
      return c;
    },
    setPhase(phase) {
      for (const h of hosts) h.send({ cmd: 'phase', phase });
    },
    async collect() {
      await Promise.all(hosts.map((h) => h.collect()));
    },
    eld: () => hosts.map((h) => h.eld),
    async close() {
      await Promise.all(hosts.map((h) => h.close()));
    },
  };
}

function ready(h: Host, spec: ClientSpec): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`client host ${h.index}: not ready in ${HOST_START_MS} ms`)), HOST_START_MS);
    const onMsg = (m: HostMessage): void => {
      if (m.type !== 'ready') return;
      clearTimeout(timer);
      h.child.off('message', onMsg);
      h.child.off('exit', onExit);
      resolve();
    };
    const onExit = (code: number | null, signal: string | null): void => {
      clearTimeout(timer);
      reject(new Error(`client host ${h.index} exited before it was ready (code ${code}, signal ${signal})`));
    };
    h.child.on('message', onMsg);
    h.child.once('exit', onExit);
    h.send({ cmd: 'init', spec });
  });
}
