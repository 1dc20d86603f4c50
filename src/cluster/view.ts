import { LiveHubError } from '../server/index.ts';
import type { ServerEvents, ServerSnapshot, SessionInfo } from '../server/index.ts';
import { SafeEmitter } from '../server/events.ts';
import type { OperatorServer } from '../operator/index.ts';
import { pickWorker } from './affinity.ts';
import type { ClusterPrimary } from './primary.ts';
import type { WorkerState } from './protocol.ts';

/** How often the view asks the workers on its own (the dashboard's feed reads it once a second). */
export const VIEW_REFRESH_MS = 1000;

/** A session of the cluster: the worker that serves it too. */
export type ClusterSessionInfo = SessionInfo & { worker: number };

/**
 * What the operator's HTTP side (`--http`) sees of `serve --workers N`: the workers' sessions
 * listed together (each with its worker), their counters summed with the primary's (connections
 * are counted where they are accepted), their live channels, and the events they forward. The
 * API refreshes it before each request; the dashboard's feed reads it as last refreshed (at most
 * VIEW_REFRESH_MS old). Kicks and live channels go to the worker that holds them.
 */
export class ClusterView implements OperatorServer {
  readonly events = new SafeEmitter<ServerEvents>();
  readonly secure = false;
  private states: { worker: number; state: WorkerState }[] = [];
  private list: ClusterSessionInfo[] = [];
  private inflight: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly primary: ClusterPrimary,
    private readonly mediaDir: string,
  ) {
    // Each forwarded event carries its own payload type (protocol.ts): re-emitted as it came.
    const emit = this.events.emit.bind(this.events) as (name: string, e: unknown) => void;
    primary.onEvent = (m) => emit(m.name, m.e);
    this.timer = setInterval(() => void this.refresh(), VIEW_REFRESH_MS);
    this.timer.unref();
  }

  get address(): string {
    return this.primary.address;
  }

  get port(): number {
    return this.primary.port;
  }

  readonly registry = { values: (): Iterable<ClusterSessionInfo> => this.list };

  get catalog(): OperatorServer['catalog'] {
    const stats: Record<string, number> = {};
    let running = 0;
    for (const { state } of this.states) {
      running += state.preparationsRunning;
      for (const [k, v] of Object.entries(state.preparationStats)) stats[k] = (stats[k] ?? 0) + v;
    }
    return { rootDir: this.mediaDir, preparationsRunning: running, preparationStats: stats };
  }

  /** Asks every worker now (concurrent callers share one round). */
  refresh(): Promise<void> {
    this.inflight ??= this.primary.states().then((states) => {
      this.inflight = undefined;
      this.states = states;
      this.list = states.flatMap(({ worker, state }) => state.sessions.map((s) => ({ ...s, worker })));
    });
    return this.inflight;
  }

  sessionList(): ClusterSessionInfo[] {
    return this.list;
  }

  snapshot(): ServerSnapshot {
    const snaps = this.states.map((s) => s.state.snapshot);
    const sum = sumRecords(snaps.map((s) => s.counters));
    const p = this.primary.counters;
    // Connections are accepted, refused and dropped by the primary; workers time out only what they were handed.
    sum.connections = p.connections;
    for (const k of ['connectionsRefused', 'connectionsDropped', 'idleClosed', 'idleEvicted', 'requestTimeouts'] as const)
      sum[k] = (sum[k] ?? 0) + p[k];
    const counters = sum as unknown as ServerSnapshot['counters'];
    const auths = snaps.flatMap((s) => (s.auth ? [s.auth] : []));
    const redirect = snaps.find((s) => s.redirect)?.redirect;
    // Each worker has its own shared pair: the routes and drops are summed, the ports differ.
    const shared = snaps.flatMap((s) => (s.udp.mode === 'shared' ? [s.udp] : []));
    const udp: ServerSnapshot['udp'] =
      shared.length === 0
        ? { mode: 'per-session' }
        : {
            mode: 'shared',
            routes: shared.reduce((n, u) => n + u.routes, 0),
            unknownSource: shared.reduce((n, u) => n + u.unknownSource, 0),
            sendErrors: shared.reduce((n, u) => n + u.sendErrors, 0),
          };
    return {
      address: this.address,
      port: this.port,
      sessions: snaps.flatMap((s) => s.sessions),
      counters,
      openConnections: this.primary.openConnections,
      scheduler: {
        tasks: snaps.reduce((n, s) => n + s.scheduler.tasks, 0),
        wakeups: snaps.reduce((n, s) => n + s.scheduler.wakeups, 0),
        tasksRun: snaps.reduce((n, s) => n + s.scheduler.tasksRun, 0),
        maxLateMs: Math.max(0, ...snaps.map((s) => s.scheduler.maxLateMs)),
        runLimitHits: snaps.reduce((n, s) => n + s.scheduler.runLimitHits, 0),
        // 'native' when every worker wakes on the addon's timer.
        timer: snaps.length > 0 && snaps.every((s) => s.scheduler.timer === 'native') ? 'native' : 'node',
      },
      cache: { bytes: 0, hits: 0, misses: 0, evictions: 0, ...sumRecords(snaps.map((s) => s.cache)) },
      live: snaps.flatMap((s) => s.live),
      udp,
      ...(auths.length > 0 ? { auth: sumRecords(auths) as unknown as NonNullable<ServerSnapshot['auth']> } : {}),
      ...(redirect ? { redirect } : {}),
    };
  }

  /** Sends the kick to the session's worker; false when no worker had it at the last refresh. */
  kick(id: string): boolean {
    const s = this.list.find((x) => x.id === id);
    if (!s) return false;
    void this.primary.ask(s.worker, { t: 'kick', q: this.primary.newQuery(), id });
    return true;
  }

  async startLiveChannel(spec: { name: string; file: string; loop?: boolean }): Promise<void> {
    const worker = pickWorker({ kind: 'live', key: `live/${spec.name}` }, this.primary.loads());
    if (worker === undefined) throw new Error('no worker is up');
    const a = await this.primary.ask(worker, { t: 'live-start', q: this.primary.newQuery(), spec });
    if (a?.t !== 'done') throw new Error(`worker ${worker} did not answer`);
    if (!a.ok) throw new LiveHubError((a.code ?? 'LIVE_ERR_OPEN') as LiveHubError['code'], a.message ?? 'failed');
  }

  async stopLiveChannel(name: string): Promise<boolean> {
    const worker = pickWorker({ kind: 'live', key: `live/${name}` }, this.primary.loads());
    if (worker === undefined) return false;
    const a = await this.primary.ask(worker, { t: 'live-stop', q: this.primary.newQuery(), name });
    return a?.t === 'done' && a.ok;
  }

  close(): void {
    clearInterval(this.timer);
    this.primary.onEvent = undefined;
  }
}

/** Field-wise sums of records of numbers (other fields: the first record's). */
function sumRecords(records: readonly object[]): Partial<Record<string, number>> {
  const out: Partial<Record<string, number>> = {};
  for (const r of records)
    for (const [k, v] of Object.entries(r)) {
      if (typeof v === 'number') out[k] = (out[k] ?? 0) + v;
      else if (!(k in out)) (out as Record<string, unknown>)[k] = v;
    }
  return out;
}
