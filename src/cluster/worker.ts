import type net from 'node:net';
import { DEFAULTS, LiveHubError, PathRules, RtspServer } from '../server/index.ts';
import type { ServerOptions, ServerSnapshot } from '../server/index.ts';
import { liveSpecPath } from '../server/live/live-hub.ts';
import { realClock } from '../util/clock.ts';
import { createLogger, setProcessLogFields } from '../util/log.ts';
import { ownerOf, routeKeyOf } from './affinity.ts';
import { FORWARDED_EVENTS, WORKER_ENV, sessionIdPrefix, sessionShare } from './protocol.ts';
import type { FromWorker, ToWorker } from './protocol.ts';
import { removeRelayDir } from './relay-dir.ts';
import { WorkerTls } from './tls-relay.ts';

const log = createLogger('worker');

/**
 * Forwarded events sent to the primary and not yet written to its channel, at most. Clients drive
 * them (one per request, one per receiver report): a primary reading them slower than they come
 * (busy, or stopped) would otherwise make this process queue them without end. Past it they are
 * dropped and counted (--http's request and report counts then miss them).
 */
export const MAX_EVENTS_IN_FLIGHT = 1024;

/** A worker's place, from the environment the primary started it with; undefined in a process that is no worker. */
export function workerFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): { index: number; count: number; port: number; events: boolean } | undefined {
  const index = env[WORKER_ENV.index];
  if (index === undefined || !process.send) return undefined;
  return {
    index: Number(index),
    count: Number(env[WORKER_ENV.count]),
    port: Number(env[WORKER_ENV.port]),
    events: env[WORKER_ENV.events] === '1',
  };
}

/**
 * One worker of `serve --workers N`: the server of the command line without a listener. It starts
 * only the live channels whose path is its own (the primary sends their viewers and publishers
 * here), takes its share of maxSessions, and serves each connection the primary hands it as a
 * single server would. It stops when told, and when the IPC channel closes (the primary died).
 */
export async function runWorker(options: ServerOptions, w: { index: number; count: number; port: number; events: boolean }): Promise<void> {
  setProcessLogFields({ worker: w.index });
  const send = (m: FromWorker): void => {
    if (process.connected) process.send?.(m);
  };
  const mine = (path: string): boolean => {
    const r = routeKeyOf(`/${path}`, () => true);
    return r.kind === 'any' || ownerOf(r.key, w.count) === w.index;
  };
  const init = await initFromPrimary();
  const maxSessions = options.maxSessions ?? 1000;
  const server = await RtspServer.detached(
    {
      ...options,
      ...(options.auth ? { auth: { ...options.auth, nonceSecret: { key: init.nonceKey, originMs: init.nonceOriginMs } } } : {}),
      live: (options.live ?? []).filter((c) => mine(liveSpecPath(c))),
      maxSessions: sessionShare(maxSessions, w.count, w.index),
      sessionIdPrefix: sessionIdPrefix(w.index),
      // A fixed shared pair (--udp-ports N-N+1) cannot be bound by every worker: worker i takes N+2i.
      ...(typeof options.udpPorts === 'object' ? { udpPorts: { rtpPort: options.udpPorts.rtpPort + 2 * w.index } } : {}),
    },
    w.port,
  );
  server.registry.clusterLoad = { sessions: 0, maxSessions };
  const rules = options.paths && options.paths.length > 0 ? new PathRules(options.paths) : undefined;
  const secure = options.tls
    ? new WorkerTls(server, {
        tls: options.tls,
        limits: {
          maxHeaderBytes: options.maxRequestHeaderBytes ?? DEFAULTS.maxRequestHeaderBytes,
          maxBodyBytes: options.maxRequestBodyBytes ?? DEFAULTS.maxRequestBodyBytes,
          idleTimeoutMs: options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
          requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
        },
        index: w.index,
        count: w.count,
        relayDir: init.relayDir,
        isLivePath: (p) => rules?.isLivePath(p) ?? false,
        clock: options.clock ?? realClock,
      })
    : undefined;
  if (secure && init.relayDir) await secure.listen();
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(0), 5000);
    force.unref();
    secure?.close();
    void server.close().finally(() => process.exit(0));
  };
  // The terminal's Ctrl-C and hangup reach the whole process group: the primary stops us.
  process.on('SIGINT', () => undefined);
  process.on('SIGHUP', () => undefined);
  process.on('SIGTERM', stop);
  process.on('disconnect', () => {
    stop();
    // The primary is gone (killed: it removes the relay folder at its own stop): the last worker
    // to get here removes it, each having closed its own socket (sockets of workers dead meanwhile too).
    if (init.relayDir) removeRelayDir(init.relayDir);
  });

  let countQueued = false;
  const countChanged = (): void => {
    if (countQueued) return;
    countQueued = true;
    setImmediate(() => {
      countQueued = false;
      send({ t: 'sessions', n: server.registry.size });
    });
  };
  server.events.on('session-started', countChanged);
  server.events.on('session-ended', countChanged);
  if (w.events) {
    let inFlight = 0;
    let dropped = 0;
    const forward = (m: Extract<FromWorker, { t: 'event' }>): void => {
      if (!process.connected) return;
      if (inFlight >= MAX_EVENTS_IN_FLIGHT) {
        dropped++;
        if (dropped === 1 || dropped % 1000 === 0)
          log.warn('events to the primary dropped: it reads them slower than they come', { count: dropped, max: MAX_EVENTS_IN_FLIGHT });
        return;
      }
      inFlight++;
      process.send?.(m, undefined, {}, () => inFlight--);
    };
    for (const name of FORWARDED_EVENTS) server.events.on(name, (e) => forward({ t: 'event', name, e }));
  }

  process.on('message', (m: ToWorker, handle: unknown) => {
    switch (m.t) {
      case 'init':
        return;
      case 'conn': {
        const socket = handle as net.Socket | undefined;
        if (!socket) return;
        socket.once('close', () => send({ t: 'closed', id: m.id }));
        if (secure) secure.take(socket, Buffer.from(m.head));
        else server.adopt(socket, Buffer.from(m.head));
        return;
      }
      case 'load':
        server.registry.clusterLoad = { sessions: m.sessions, maxSessions: m.maxSessions };
        return;
      case 'query':
        send({
          t: 'state',
          q: m.q,
          state: {
            sessions: server.sessionList(),
            snapshot: withTlsCounters(server.snapshot(), secure),
            preparationsRunning: server.catalog.preparationsRunning,
            preparationStats: { ...server.catalog.preparationStats },
          },
        });
        return;
      case 'idlest':
        send({ t: 'idlest', q: m.q, idleMs: server.evictableIdleMs((options.clock ?? realClock).now()) });
        return;
      case 'evict':
        send({ t: 'done', q: m.q, ok: server.evictIdlest() });
        return;
      case 'kick':
        send({ t: 'done', q: m.q, ok: server.kick(m.id) });
        return;
      case 'live-start':
      case 'live-stop': {
        const run = m.t === 'live-start' ? server.startLiveChannel(m.spec).then(() => true) : server.stopLiveChannel(m.name);
        run.then(
          (ok) => send({ t: 'done', q: m.q, ok }),
          (err: unknown) =>
            send({
              t: 'done',
              q: m.q,
              ok: false,
              code: err instanceof LiveHubError ? err.code : 'ERR',
              message: String((err as Error).message ?? err),
            }),
        );
        return;
      }
      case 'stop':
        stop();
        return;
    }
  });
  log.debug('worker ready', { sessions: sessionShare(maxSessions, w.count, w.index) });
  send({ t: 'ready' });
}

/** Says hello to the primary and waits for what the workers share (init). */
function initFromPrimary(): Promise<Extract<ToWorker, { t: 'init' }>> {
  return new Promise((resolve) => {
    // The primary gone before it answered: nothing to serve for.
    const orphaned = (): never => process.exit(0);
    const onMessage = (m: ToWorker): void => {
      if (m.t !== 'init') return;
      process.off('message', onMessage);
      process.off('disconnect', orphaned);
      resolve(m);
    };
    process.on('message', onMessage);
    process.once('disconnect', orphaned);
    process.send?.({ t: 'hello' } satisfies FromWorker);
  });
}

/** The snapshot with what the TLS side counted before a connection reached the server. */
function withTlsCounters(snap: ServerSnapshot, secure: WorkerTls | undefined): ServerSnapshot {
  if (!secure) return snap;
  const c = snap.counters;
  const t = secure.counters;
  return {
    ...snap,
    counters: {
      ...c,
      tlsHandshakeFailures: c.tlsHandshakeFailures + t.tlsHandshakeFailures,
      idleClosed: c.idleClosed + t.idleClosed,
      requestTimeouts: c.requestTimeouts + t.requestTimeouts,
    },
  };
}
