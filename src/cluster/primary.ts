import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { realClock } from '../util/clock.ts';
import { cryptoRandom } from '../util/random.ts';
import type { Random } from '../util/random.ts';
import type { Clock, TimerHandle } from '../util/clock.ts';
import { createLogger } from '../util/log.ts';
import { pickWorker, routeKeyOf } from './affinity.ts';
import { readFirstRequest, stopReading } from './first-request.ts';
import type { FirstRead, FirstReadLimits } from './first-request.ts';
import { WORKER_ENV } from './protocol.ts';
import type { FromWorker, ToWorker, WorkerState } from './protocol.ts';
import { EVICT_TIMEOUT_MS, RoomKeeper } from './eviction.ts';
import { makeRelayDir, sweepStaleRelayDirs } from './relay-dir.ts';

const log = createLogger('cluster');

/** A worker that died is started again after this long, doubling while it keeps dying young, up to RESTART_MAX_MS. */
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;
/** A worker that lived this long before dying is restarted after RESTART_MIN_MS again. */
const STABLE_AFTER_MS = 60_000;
/** How long the primary waits for a worker's answer (query, kick, live channels). */
const ANSWER_TIMEOUT_MS = 3000;
/**
 * Messages to one worker sent and not yet written to its channel, at most, handoffs apart (they
 * are bounded by --max-connections). A worker that does not read (stopped, or stuck in a loop)
 * would otherwise make the primary queue without end what clients cause: the load after each
 * session change, the questions at the connection limit. Past it they are not sent (counted).
 */
export const MAX_WORKER_BACKLOG = 1024;
/** How long stop() waits for the workers to close their sessions before killing them. */
const STOP_GRACE_MS = 6000;

export interface ClusterOptions extends FirstReadLimits {
  workers: number;
  host: string;
  port: number;
  maxSessions: number;
  maxConnectionsPerAddress: number;
  maxConnections: number;
  /** Whether a decoded path is a live path of a config rule (live/NAME always is). */
  isLivePath: (path: string) => boolean;
  /** Workers forward request, receiver-report and session-ended events (for --http's metrics). */
  forwardEvents: boolean;
  /** The worker program: the same command line as the primary's, by default. */
  program?: { module: string; args: string[]; execArgv?: string[] };
  clock?: Clock;
  /**
   * RTSPS: the workers terminate TLS. The primary reads nothing of a connection (it cannot read
   * the request inside TLS, nor hand a TLS session to another process): it hands the raw socket
   * at once to the least loaded worker, which relays it to a live channel's owner (worker.ts).
   */
  tls?: boolean;
  /** Draws the Digest nonce key the workers share. */
  random?: Random;
}

interface Slot {
  index: number;
  child: ChildProcess | undefined;
  up: boolean;
  startedAt: number;
  /** Connections handed to this worker and not yet closed. */
  conns: Set<number>;
  sessions: number;
  restartDelayMs: number;
  /** Messages to this worker's current process not yet written (MAX_WORKER_BACKLOG). */
  backlog: { n: number };
}

interface Conn {
  ip: string;
  worker: number | undefined;
  socket: net.Socket;
  /** When it was accepted (this clock): while its first request is read here, it has been idle since. */
  acceptedAt: number;
}

/**
 * The primary of `serve --workers N`: it owns the RTSP listener, reads each connection's first
 * request (with the server's bounds), picks a worker by the request's path (affinity.ts) and hands
 * it the socket and the bytes read. It holds the limits on connections (per address and in total),
 * restarts workers that die, tells every worker the sessions of all (for GET_PARAMETER load), and
 * answers the operator's queries by asking the workers (view.ts).
 */
export class ClusterPrimary {
  private readonly slots: Slot[] = [];
  private readonly conns = new Map<number, Conn>();
  private readonly perAddress = new Map<string, number>();
  private readonly refusalLogged = new Set<string>();
  private nextConnId = 1;
  private nextQuery = 1;
  private readonly pending = new Map<number, { resolve: (m: FromWorker) => void; timer: TimerHandle }>();
  private readonly listener: net.Server;
  private readonly clock: Clock;
  /** Sent to each worker at start (init), never on a command line or in the environment. */
  private readonly shared: Extract<ToWorker, { t: 'init' }>;
  /** RTSPS: a folder only this user can enter (mkdtemp: 0700) for the workers' relay sockets; removed at stop (relay-dir.ts). */
  private readonly relayDir: string;
  private stopping = false;
  /** At --max-connections: who gives way to a newcomer (eviction.ts). */
  private readonly room: RoomKeeper;
  private loadQueued = false;
  /** Connections that came before every worker was ready wait for this (their first request read meanwhile). */
  private readonly ready: Promise<void>;
  private markReady: () => void = () => undefined;
  /** Handed events of the workers (view.ts re-emits them). */
  onEvent: ((m: Extract<FromWorker, { t: 'event' }>) => void) | undefined;
  readonly counters = {
    connections: 0,
    connectionsRefused: 0,
    connectionsDropped: 0,
    idleClosed: 0,
    idleEvicted: 0,
    requestTimeouts: 0,
    handedOver: 0,
    workerDeaths: 0,
    workerRestarts: 0,
    /** Messages not sent to a worker that had MAX_WORKER_BACKLOG unwritten already. */
    workerBacklogFull: 0,
  };

  private constructor(private readonly opts: ClusterOptions) {
    this.clock = opts.clock ?? realClock;
    // Relay folders that primaries killed with SIGKILL left (with their workers) go first.
    const swept = sweepStaleRelayDirs();
    if (swept.removed.length > 0) log.info('stale relay folders removed', { count: swept.removed.length, folders: swept.removed });
    this.relayDir = opts.tls && opts.workers > 1 ? makeRelayDir() : '';
    this.shared = {
      t: 'init',
      relayDir: this.relayDir,
      nonceKey: Buffer.from((opts.random ?? cryptoRandom).hex(32), 'hex'),
      // The nonces' timeline is this process's monotonic clock: its 0 is this wall-clock instant.
      nonceOriginMs: this.clock.wallNow() - this.clock.now(),
    };
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    this.room = new RoomKeeper(
      {
        open: () => this.conns.size,
        atPrimary: () => this.atPrimary(),
        workersUp: () => this.slots.filter((s) => s.up).map((s) => s.index),
        askIdlest: async (w) => {
          const a = await this.ask(w, { t: 'idlest', q: this.newQuery() }, EVICT_TIMEOUT_MS);
          return a?.t === 'idlest' ? a.idleMs : undefined;
        },
        askEvict: async (w) => {
          const a = await this.ask(w, { t: 'evict', q: this.newQuery() }, EVICT_TIMEOUT_MS);
          return a?.t === 'done' && a.ok;
        },
        evictAtPrimary: (id) => this.evictAtPrimary(id),
      },
      { maxConnections: opts.maxConnections, clock: this.clock },
    );
    this.listener = net.createServer((socket) => this.accept(socket));
    this.listener.on('error', (err) => log.error('listener error', { error: String(err) }));
  }

  /** Binds the port, starts the workers and waits for all of them to be ready. */
  static async start(opts: ClusterOptions): Promise<ClusterPrimary> {
    const p = new ClusterPrimary(opts);
    await new Promise<void>((resolve, reject) => {
      p.listener.once('error', reject);
      p.listener.listen(opts.port, opts.host, () => {
        p.listener.off('error', reject);
        resolve();
      });
    });
    p.listener.maxConnections = opts.maxConnections + 64;
    try {
      await Promise.all(Array.from({ length: opts.workers }, (_, i) => p.startWorker(i)));
    } catch (err) {
      await p.stop();
      throw err;
    } finally {
      p.markReady();
    }
    log.info('listening', { scheme: opts.tls ? 'rtsps' : 'rtsp', address: p.address, port: p.port, workers: opts.workers });
    return p;
  }

  get port(): number {
    const a = this.listener.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  get address(): string {
    const a = this.listener.address();
    return typeof a === 'object' && a ? a.address : '';
  }

  get workerCount(): number {
    return this.slots.length;
  }

  /** Connections open now (being read here or served by a worker). */
  get openConnections(): number {
    return this.conns.size;
  }

  /** Each worker's pid (undefined while it restarts). */
  get pids(): (number | undefined)[] {
    return this.slots.map((s) => (s.up ? s.child?.pid : undefined));
  }

  /** Each worker's open connections (undefined while it is down). */
  loads(): (number | undefined)[] {
    return this.slots.map((s) => (s.up ? s.conns.size : undefined));
  }

  private startWorker(index: number): Promise<void> {
    const prog = this.opts.program ?? { module: process.argv[1] ?? '', args: process.argv.slice(2) };
    const slot: Slot = this.slots[index] ?? {
      index,
      child: undefined,
      up: false,
      startedAt: 0,
      conns: new Set(),
      sessions: 0,
      restartDelayMs: RESTART_MIN_MS,
      backlog: { n: 0 },
    };
    this.slots[index] = slot;
    const child = fork(prog.module, prog.args, {
      execArgv: prog.execArgv ?? process.execArgv,
      env: {
        ...process.env,
        [WORKER_ENV.index]: String(index),
        [WORKER_ENV.count]: String(this.opts.workers),
        [WORKER_ENV.port]: String(this.port),
        [WORKER_ENV.events]: this.opts.forwardEvents ? '1' : '0',
      },
      serialization: 'advanced',
      // A worker prints nothing on stdout; its log lines (with worker=N) go to our stderr.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    slot.child = child;
    slot.backlog = { n: 0 };
    slot.startedAt = this.clock.now();
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      child.on('message', (m: FromWorker) => {
        if (m.t === 'hello') {
          child.send(this.shared, (err) => err && log.debug('init to worker lost', { worker: index, error: String(err) }));
          return;
        }
        if (m.t === 'ready') {
          ready = true;
          slot.up = true;
          log.info('worker started', { worker: index, pid: child.pid });
          this.loadChanged();
          resolve();
          return;
        }
        this.fromWorker(slot, m);
      });
      child.on('error', (err) => log.error('worker error', { worker: index, error: String(err) }));
      child.on('exit', (code, signal) => {
        if (slot.child !== child) return;
        this.workerExited(slot, code, signal);
        if (!ready) reject(new Error(`worker ${index} exited before it was ready (code ${code}, signal ${signal})`));
      });
    });
  }

  private workerExited(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    const wasUp = slot.up;
    slot.up = false;
    slot.child = undefined;
    const lost = slot.conns.size;
    for (const id of slot.conns) this.forget(id);
    slot.conns.clear();
    const sessions = slot.sessions;
    slot.sessions = 0;
    this.loadChanged();
    if (this.stopping || !wasUp) return;
    this.counters.workerDeaths++;
    const lived = this.clock.now() - slot.startedAt;
    slot.restartDelayMs = lived >= STABLE_AFTER_MS ? RESTART_MIN_MS : Math.min(RESTART_MAX_MS, slot.restartDelayMs * 2);
    const delay = lived >= STABLE_AFTER_MS ? RESTART_MIN_MS : slot.restartDelayMs;
    log.error('worker died; its sessions and connections are lost', {
      worker: slot.index,
      code,
      signal,
      sessionsLost: sessions,
      connectionsLost: lost,
      restartInMs: delay,
    });
    this.clock.setTimeout(() => {
      if (this.stopping) return;
      this.counters.workerRestarts++;
      this.startWorker(slot.index).then(
        () => undefined,
        (err: unknown) => log.error('worker restart failed', { worker: slot.index, error: String(err) }),
      );
    }, delay);
  }

  private fromWorker(slot: Slot, m: FromWorker): void {
    switch (m.t) {
      case 'closed':
        slot.conns.delete(m.id);
        this.forget(m.id);
        return;
      case 'sessions':
        slot.sessions = m.n;
        this.loadChanged();
        return;
      case 'event':
        this.onEvent?.(m);
        return;
      case 'state':
      case 'idlest':
      case 'done': {
        const p = this.pending.get(m.q);
        if (!p) return;
        this.pending.delete(m.q);
        this.clock.clearTimeout(p.timer);
        p.resolve(m);
        return;
      }
      case 'ready':
      case 'hello':
        return;
    }
  }

  /** Sessions of all workers, told to every worker once per turn of the event loop at most. */
  private loadChanged(): void {
    if (this.loadQueued) return;
    this.loadQueued = true;
    setImmediate(() => {
      this.loadQueued = false;
      const sessions = this.slots.reduce((n, s) => n + s.sessions, 0);
      for (const s of this.slots) this.post(s, { t: 'load', sessions, maxSessions: this.opts.maxSessions });
    });
  }

  private post(slot: Slot, m: ToWorker, handle?: net.Socket, done?: (err: Error | null) => void): boolean {
    const child = slot.child;
    if (!slot.up || !child?.connected) return false;
    const backlog = slot.backlog;
    if (!handle && backlog.n >= MAX_WORKER_BACKLOG) {
      this.counters.workerBacklogFull++;
      const n = this.counters.workerBacklogFull;
      if (n === 1 || n % 1000 === 0)
        log.warn('message to a worker not sent: it has not read the ones before', {
          worker: slot.index,
          max: MAX_WORKER_BACKLOG,
          count: n,
        });
      return false;
    }
    try {
      backlog.n++;
      if (handle)
        child.send(m, handle, { keepOpen: false }, (err) => {
          backlog.n--;
          done?.(err);
        });
      else
        child.send(m, (err) => {
          backlog.n--;
          if (err) log.debug('message to worker lost', { worker: slot.index, error: String(err) });
        });
      return true;
    } catch (err) {
      backlog.n--;
      log.debug('message to worker failed', { worker: slot.index, error: String(err) });
      return false;
    }
  }

  /** Asks one worker and waits for its answer (undefined when it is down or does not answer in time). */
  ask(index: number, m: ToWorker & { q: number }, timeoutMs = ANSWER_TIMEOUT_MS): Promise<FromWorker | undefined> {
    const slot = this.slots[index];
    if (!slot) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.pending.delete(m.q);
        resolve(undefined);
      }, timeoutMs);
      this.pending.set(m.q, { resolve, timer });
      if (!this.post(slot, m)) {
        this.pending.delete(m.q);
        this.clock.clearTimeout(timer);
        resolve(undefined);
      }
    });
  }

  newQuery(): number {
    return this.nextQuery++;
  }

  /** Every worker's state (those that answer), with its index. */
  async states(): Promise<{ worker: number; state: WorkerState }[]> {
    const answers = await Promise.all(this.slots.map((s) => this.ask(s.index, { t: 'query', q: this.newQuery() })));
    const out: { worker: number; state: WorkerState }[] = [];
    answers.forEach((a, worker) => {
      if (a?.t === 'state') out.push({ worker, state: a.state });
    });
    return out;
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => undefined);
    if (this.stopping) return void socket.destroy();
    const ip = normalizeIp(socket.remoteAddress ?? '');
    const open = this.perAddress.get(ip) ?? 0;
    if (open >= this.opts.maxConnectionsPerAddress) {
      this.counters.connectionsRefused++;
      if (!this.refusalLogged.has(ip)) {
        this.refusalLogged.add(ip);
        log.warn('connection refused: too many from this address', {
          peer: ip,
          max: this.opts.maxConnectionsPerAddress,
          count: this.counters.connectionsRefused,
        });
      }
      return void socket.destroy();
    }
    const room = this.room.newcomer();
    if (room === 'admit') return this.admit(socket, ip);
    if (room === 'drop') return this.drop(socket, ip);
    // Until there is room the newcomer waits unread (the kernel keeps its bytes).
    void room.then((ok) => {
      if (!ok || this.stopping) return this.drop(socket, ip);
      // Others from the same address may have come in while this one waited.
      if ((this.perAddress.get(ip) ?? 0) >= this.opts.maxConnectionsPerAddress) {
        this.counters.connectionsRefused++;
        return void socket.destroy();
      }
      this.admit(socket, ip);
    });
  }

  private drop(socket: net.Socket, ip: string): void {
    this.counters.connectionsDropped++;
    const n = this.counters.connectionsDropped;
    if (n === 1 || n % 1000 === 0)
      log.warn('connection dropped: too many connections', { peer: ip, max: this.opts.maxConnections, count: n });
    socket.destroy();
  }

  /** The connections still read here (not handed to a worker yet): eviction.ts's candidates at the primary. */
  private *atPrimary(): Generator<{ id: number; since: number }> {
    for (const [id, c] of this.conns) if (c.worker === undefined) yield { id, since: c.acceptedAt };
  }

  /** Closes a connection still read here for a newcomer, and stops counting it now (not when its read ends). */
  private evictAtPrimary(id: number): boolean {
    const victim = this.conns.get(id);
    if (!victim || victim.worker !== undefined) return false;
    this.counters.idleEvicted++;
    const n = this.counters.idleEvicted;
    if (n <= 10 || n % 1000 === 0) log.warn('idle connection closed to make room for a new one', { peer: victim.ip, count: n });
    victim.socket.destroy();
    this.forget(id);
    return true;
  }

  private admit(socket: net.Socket, ip: string): void {
    const open = this.perAddress.get(ip) ?? 0;
    const id = this.nextConnId++;
    this.conns.set(id, { ip, worker: undefined, socket, acceptedAt: this.clock.now() });
    this.perAddress.set(ip, open + 1);
    this.counters.connections++;
    // TLS: not a byte is read here (what the kernel gave already, the ClientHello's start, goes along).
    const first: Promise<FirstRead> = this.opts.tls
      ? Promise.resolve({ kind: 'other', head: stopReading(socket) })
      : readFirstRequest(socket, this.opts, this.clock);
    void Promise.all([first, this.ready]).then(([r]) => {
      // Destroyed: evicted for a newcomer while its first request was read (already forgotten).
      if (r.kind === 'closed' || this.stopping || socket.destroyed) {
        socket.destroy();
        this.forget(id);
        return;
      }
      if (r.kind === 'timeout') {
        if (r.what === 'idle') {
          this.counters.idleClosed++;
          log.info('idle connection closed', { peer: ip, timeoutMs: this.opts.idleTimeoutMs });
        } else {
          this.counters.requestTimeouts++;
          const n = this.counters.requestTimeouts;
          if (n <= 10 || n % 1000 === 0)
            log.warn('request not completed in time; connection closed', { peer: ip, timeoutMs: this.opts.requestTimeoutMs, count: n });
        }
        socket.destroy();
        this.forget(id);
        return;
      }
      const route = r.kind === 'request' ? routeKeyOf(r.uri, this.opts.isLivePath) : ({ kind: 'any' } as const);
      const index = pickWorker(route, this.loads());
      const slot = index === undefined ? undefined : this.slots[index];
      if (!slot) {
        log.warn('connection closed: no worker is up', { peer: ip });
        socket.destroy();
        this.forget(id);
        return;
      }
      slot.conns.add(id);
      const conn = this.conns.get(id);
      if (conn) conn.worker = slot.index;
      this.counters.handedOver++;
      const sent = this.post(slot, { t: 'conn', id, head: r.head }, socket, (err) => {
        if (!err) return;
        log.warn('connection lost on its way to a worker', { peer: ip, worker: slot.index, error: String(err) });
        slot.conns.delete(id);
        this.forget(id);
        socket.destroy();
      });
      if (!sent) {
        slot.conns.delete(id);
        this.forget(id);
        socket.destroy();
      }
    });
  }

  private forget(id: number): void {
    const c = this.conns.get(id);
    if (!c) return;
    this.conns.delete(id);
    const left = (this.perAddress.get(c.ip) ?? 1) - 1;
    if (left > 0) this.perAddress.set(c.ip, left);
    else this.perAddress.delete(c.ip);
    if (left < this.opts.maxConnectionsPerAddress) this.refusalLogged.delete(c.ip);
  }

  /** Stops taking connections, tells every worker to stop (BYE to their clients) and waits for them; kills those that hang. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.listener.close();
    const exits = this.slots.map((s) => {
      const child = s.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        const kill = this.clock.setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        child.once('exit', () => this.clock.clearTimeout(kill));
        if (child.connected) child.send({ t: 'stop' } satisfies ToWorker, () => undefined);
        else child.kill('SIGTERM');
      });
    });
    await Promise.all(exits);
    if (this.relayDir) rmSync(this.relayDir, { recursive: true, force: true });
  }
}

function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
