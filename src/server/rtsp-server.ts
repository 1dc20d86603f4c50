import { impairingEgressHook } from './egress-hook.ts';
import type { EgressHookFactory } from './egress-hook.ts';
import net from 'node:net';
import { lazyTls } from '../util/lazy-tls.ts';
import os from 'node:os';
import { realClock } from '../util/clock.ts';
import type { Clock } from '../util/clock.ts';
import { cryptoRandom } from '../util/random.ts';
import type { Random } from '../util/random.ts';
import { createLogger } from '../util/log.ts';
import {
  DEFAULT_RTP_PORT_RANGE,
  STREAM_DRAIN_PERIOD_MS,
  Scheduler,
  SharedUdpPorts,
  StreamDrain,
  duplexPair,
  preciseWakeTimer,
  udpGso,
  udpSenderKind,
  wakeFlush,
} from '../transport/index.ts';
import { MAX_TRACKS } from '../media/limits.ts';
import type { ByteStream, ImpairmentSpec, PortRange, UdpGsoState } from '../transport/index.ts';
import type { Duplex } from 'node:stream';
import type { MediaPreparer } from '../media/prepare/index.ts';
import { RtspConnection } from './connection.ts';
import type { ConnectionCounters } from './connection.ts';
import { SafeEmitter } from './events.ts';
import { logSessions } from './session-log.ts';
import { MediaCatalog } from './media-catalog.ts';
import type { ReceiverReportRecord } from '../sender/qos.ts';
import { FilePresentation } from './file-presentation.ts';
import type { FileSession } from './file-presentation.ts';
import type { ServerEvents, SessionContext } from './session/context.ts';
import type { SessionKind } from './session/server-events.ts';
import { SessionRegistry } from './session/registry.ts';
import { RtspSession } from './session/rtsp-session.ts';
import { LiveHub, LiveHubError } from './live/live-hub.ts';
import { resolveMediaPath } from './media-path.ts';
import type { LiveChannelSnapshot, LiveChannelSpec, MulticastOptions, PullTimings, PullTransport } from './live/index.ts';
import { PRODUCT } from '../util/version.ts';
import { AuthGate } from './auth/index.ts';
import { PathRules } from './path-rules.ts';
import type { PathRule } from './path-rules.ts';
import { EdgePool, RedirectFront } from './redirect/index.ts';
import type { EdgePoolOptions, EdgeState, RedirectCounters } from './redirect/index.ts';
import type { AuthCounters, AuthOptions } from './auth/index.ts';

const log = createLogger('server');

export interface ServerOptions {
  /** Directory whose files are served: `rtsp://HOST:PORT/<path inside it>`. */
  mediaDir: string;
  host?: string;
  /** RTSP port; 0 picks a free one (tests). */
  port?: number;
  rtpPortRange?: PortRange;
  /**
   * The server's UDP ports for RTP/RTCP to clients that play over UDP (`serve --udp-ports`).
   * `shared` (default): one unconnected even/odd pair, a free one of rtpPortRange chosen at
   * listen, that every UDP play track sends from and every UDP SETUP answers as `server_port`;
   * incoming datagrams are told apart by source address:port. `{ rtpPort }`: that pair exactly.
   * `per-session`: every UDP track binds a pair of its own, connected to its client's ports.
   * Publishers (RECORD over UDP) bind their own pair whatever this says.
   */
  udpPorts?: UdpPortsOption;
  /** Largest IP packet: RTP payloads are sized so IP + UDP + RTP headers + payload fit. */
  mtu?: number;
  /** Session timeout advertised to clients, seconds. */
  sessionTimeoutSec?: number;
  /** Grace after the advertised timeout before an idle session expires, seconds (default 5). */
  sessionTimeoutGraceSec?: number;
  maxSessions?: number;
  maxRequestHeaderBytes?: number;
  maxRequestBodyBytes?: number;
  /** A connection with no complete request for this long and no live session is closed (ms). */
  idleTimeoutMs?: number;
  /** A request begun but not complete after this long closes its connection (ms; slowloris). */
  requestTimeoutMs?: number;
  /** RTSP connections open at once from one client address; more are refused (closed at once). */
  maxConnectionsPerAddress?: number;
  /** RTSP connections open at once in total (default 2 × maxSessions); more are dropped. */
  maxConnections?: number;
  /** Answers queued unread on a connection beyond this many bytes close it (plus the RTP bound when it carries interleaved media). */
  maxWriteBacklogBytes?: number;
  clock?: Clock;
  /** Where ids, SSRCs, sequence numbers and intervals come from (default cryptoRandom; the lab seeds one). */
  random?: Random;
  serverName?: string;
  /** Network emulation on every session's egress unless its URL asks for another (lab). */
  impairment?: ImpairmentSpec;
  /**
   * Wraps each track's path to its client (default: the session's impairment, if any), made from
   * the server's clock and scheduler. The lab passes its own to hold the emulator and its fate
   * log; see egress-hook.ts.
   */
  egress?: EgressHookFactory;
  /**
   * RTSPS: the control connection over TLS (RFC 7826 §19.2, `rtsps://`, port 322 by default for
   * clients). PEM certificate chain and key. Interleaved media travels inside TLS; RTP over UDP
   * is not encrypted (no SRTP).
   */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Live channels from files or ffmpeg (`serve --live`); publishing to `live/NAME` works without. */
  live?: LiveChannelSpec[];
  /** Multicast SETUP for live channels (`serve --multicast`); refused (461) when absent. */
  multicast?: MulticastOptions;
  /** Timings of live channels pulled from an origin (`--live NAME=rtsp://...`): backoff, grace. */
  pull?: Partial<PullTimings>;
  /** Pulls from `rtsps://` origins: the CA (PEM) to check their certificate, or accept any (`--pull-tls-*`). */
  pullTls?: { ca?: Buffer; insecure?: boolean };
  /** Transport of pulls that name none (`--pull-transport`): tcp (default) or udp. */
  pullTransport?: PullTransport;
  /** Prepared files of non-MP4 media (default `<mediaDir>/.streamlab-cache`). */
  cacheDir?: string;
  /** DESCRIBE waits this long for a running preparation, then answers 503 + Retry-After. */
  prepareWaitMs?: number;
  /** Runs preparations (default: a Preparer on cacheDir). */
  preparer?: MediaPreparer;
  /** RTSP authentication (`serve --auth-file`); absent, nothing needs credentials. */
  auth?: AuthOptions;
  /**
   * Per-path rules (`serve --config` paths:, path-rules.ts): sources (a file, a folder, a looped
   * file, an ffmpeg input, a publisher on any path), who may read and publish, an impairment.
   * Looped-file and ffmpeg rules are given as `live` channels with a `path` as well.
   */
  paths?: PathRule[];
  /**
   * A redirecting front (`serve --redirect-to`): DESCRIBE is answered 302 (or 301) with the same
   * path on the least loaded of these edges (`rtsp://host:port`), polled every `pollMs`.
   */
  redirect?: { edges: string[]; status?: 301 | 302 } & Partial<EdgePoolOptions>;
  /** Put before every session id: a worker's own, so ids stay unique across `serve --workers`. */
  sessionIdPrefix?: string;
}

/** ServerOptions.udpPorts. */
export type UdpPortsOption = 'shared' | 'per-session' | { rtpPort: number };

export const DEFAULTS = {
  host: '0.0.0.0',
  port: 8554,
  mtu: 1500,
  sessionTimeoutSec: 60,
  sessionTimeoutGraceSec: 5,
  maxSessions: 1000,
  maxRequestHeaderBytes: 16 * 1024,
  maxRequestBodyBytes: 64 * 1024,
  idleTimeoutMs: 60_000,
  requestTimeoutMs: 20_000,
  maxConnectionsPerAddress: 32,
  maxWriteBacklogBytes: 256 * 1024,
} as const;

/** Connections past maxConnections the listener still takes while evicted ones close. */
const EVICTION_HEADROOM = 64;

/** IPv4 (20) + UDP (8) + RTP fixed header (12). */
const HEADER_OVERHEAD = 20 + 8 + 12;

export interface StreamSnapshot {
  control: string;
  ssrc: number;
  payloadType: number;
  clockRate: number;
  transport: 'udp' | 'tcp';
  packets: number;
  octets: number;
  dropped: number;
  ended: boolean;
  receiverReports: number;
  lastReport: ReceiverReportRecord | undefined;
}

/** One RTSP session in the operator's list (RtspServer.sessionList). */
export interface SessionInfo {
  id: string;
  kind: SessionKind;
  path: string;
  client: string;
  state: string;
  ageSec: number;
  transport: string;
  packetsSent: number;
  bytesSent: number;
  /** Publishers: RTP packets taken in. */
  packetsReceived?: number;
  /** The last receiver report about each track that had one (with XR VoIP metrics when sent). */
  reports: ReceiverReportRecord[];
}

export interface SessionSnapshot {
  id: string;
  media: string;
  client: string;
  state: string;
  streams: StreamSnapshot[];
}

export interface ServerSnapshot {
  address: string;
  port: number;
  sessions: SessionSnapshot[];
  counters: ConnectionCounters &
    SessionContext['counters'] & {
      connections: number;
      sessionsCreated: number;
      /** Connections refused because their address had maxConnectionsPerAddress open. */
      connectionsRefused: number;
      /** Connections dropped because maxConnections were open. */
      connectionsDropped: number;
      /** RTSPS: TLS handshakes that failed or timed out (no RTSP request was read from them). */
      tlsHandshakeFailures: number;
    };
  /** RTSP connections open now. */
  openConnections: number;
  /**
   * The scheduler: tasks, wake-ups, task runs, the latest a task ran, and wake-ups cut at
   * MAX_RUNS_PER_WAKE; `timer`: what it wakes on, 'native' (sub-millisecond, precise-timer.ts) or
   * 'node' (whole milliseconds).
   */
  scheduler: { tasks: number; wakeups: number; tasksRun: number; maxLateMs: number; runLimitHits: number; timer: 'native' | 'node' };
  cache: { bytes: number; hits: number; misses: number; evictions: number };
  live: LiveChannelSnapshot[];
  /**
   * The UDP ports of play tracks: `shared` with the pair, the tracks routed through it now and
   * the datagrams dropped because no track claims their source, and `rtcpDrain` when its RTCP
   * socket is read in batches at the scheduler's wake-ups (datagram-drain.ts: reads, datagrams,
   * datagrams cut for being longer than a slot, errors); or `per-session`.
   */
  udp:
    | { mode: 'per-session' }
    | {
        mode: 'shared';
        rtpPort?: number;
        rtcpPort?: number;
        routes: number;
        unknownSource: number;
        sendErrors: number;
        rtcpDrain?: { runs: number; datagrams: number; cut: number; errors: number };
      };
  /**
   * The RTSP connections of interleaved players read at the scheduler's wake-ups (stream-drain.ts),
   * when on: connections read that way now, runs, reads with bytes, bytes, connections taken and
   * given back to Node, poll errors.
   */
  tcpDrain?: { connections: number } & StreamDrain['stats'];
  /**
   * The native UDP sender's segmentation offload (the process's, when UDP goes through the native
   * sender): on or off, the segmented messages, the datagrams they carried, and fallbacks.
   */
  gso?: UdpGsoState;
  /** Authentication counters, when authentication is on. */
  auth?: AuthCounters;
  /** A redirecting front: what it sent where, and the edges' load as last polled. */
  redirect?: RedirectCounters & { edges: EdgeState[] };
}

/**
 * The server's wake-up grouping (Scheduler resolution): packets due within half of it (0.5 ms)
 * leave with the wake-up that found them. Node's timers count whole milliseconds, which already
 * groups the wake-ups: with a hundred sessions or more something is due in almost every
 * millisecond, and the server wakes ~850 times a second with 1 ms as with 2 ms. What 2 ms added
 * was sending up to 1 ms early: a probe client's audio jitter was 1.14-1.46 ms with 2 and
 * 0.48-0.74 ms with 1 at 100-400 clients, same CPU (bench/RESULTS.md, "wake-up grouping"). 4 ms halved the
 * wake-ups (-7 to -15 % CPU) and doubled the jitter.
 */
export const SEND_RESOLUTION_MS = 1;

/**
 * `streamlab serve`: RTSP 1.0 over TCP, RTP/RTCP over UDP or interleaved. Typed API for the
 * dashboard and the lab: `events` (session and receiver-report events) and `snapshot()`.
 */
export class RtspServer {
  readonly events = new SafeEmitter<ServerEvents>();
  readonly registry: SessionRegistry;
  readonly catalog: MediaCatalog;
  readonly scheduler: Scheduler;
  private readonly streamDrain: StreamDrain | undefined;
  private readonly wakeTimerKind: 'native' | 'node';
  readonly live: LiveHub;
  readonly auth: AuthGate | undefined;
  readonly paths: PathRules | undefined;
  readonly redirect: RedirectFront | undefined;
  private readonly connections = new Set<RtspConnection>();
  /** RTSP connections open at once; past it the longest idle gives way (makeRoom). */
  private readonly maxConnections: number;
  private readonly bySocket = new Map<ByteStream, RtspConnection>();
  /** Open connections per client address (only addresses with one open). */
  private readonly perAddress = new Map<string, number>();
  /** Addresses whose refusals were logged since they last went below the limit (one line per burst). */
  private readonly refusalLogged = new Set<string>();
  /** The listener; none for a server whose clients connect in-process (inProcess(), connect()). */
  private readonly tcp: net.Server | undefined;
  /** Listening for RTSPS (TLS) rather than plain RTSP. */
  readonly secure: boolean;
  private readonly counters = {
    requests: 0,
    badRequests: 0,
    interleavedIn: 0,
    readYields: 0,
    idleClosed: 0,
    requestTimeouts: 0,
    writeBacklogClosed: 0,
    expiredClosed: 0,
    connections: 0,
    connectionsRefused: 0,
    connectionsDropped: 0,
    idleEvicted: 0,
    tlsHandshakeFailures: 0,
    sessionsCreated: 0,
    rtcpMalformed: 0,
    natKeepAlives: 0,
    rtcpReceived: 0,
    sessionsExpired: 0,
    fanoutHeld: 0,
    fanoutOverflows: 0,
  };
  private readonly sessionContext: SessionContext;
  /** The shared UDP pair (ServerOptions.udpPorts), once binding began; undefined for per-session. */
  private sharedUdp: Promise<SharedUdpPorts> | undefined;
  private sharedUdpBound: SharedUdpPorts | undefined;
  private readonly udpPorts: UdpPortsOption;
  private readonly opts: Required<
    Omit<
      ServerOptions,
      | 'clock'
      | 'random'
      | 'rtpPortRange'
      | 'impairment'
      | 'egress'
      | 'live'
      | 'multicast'
      | 'pull'
      | 'pullTls'
      | 'pullTransport'
      | 'cacheDir'
      | 'prepareWaitMs'
      | 'preparer'
      | 'maxConnections'
      | 'auth'
      | 'tls'
      | 'paths'
      | 'redirect'
      | 'udpPorts'
      | 'sessionIdPrefix'
    >
  > &
    Pick<ServerOptions, 'impairment' | 'cacheDir' | 'prepareWaitMs' | 'preparer'> & {
      clock: Clock;
      random: Random;
      rtpPortRange: PortRange;
    };

  private constructor(options: ServerOptions, listener = true) {
    const clock = options.clock ?? realClock;
    this.opts = {
      ...DEFAULTS,
      serverName: PRODUCT,
      ...stripUndefined(options),
      mediaDir: options.mediaDir,
      clock,
      random: options.random ?? cryptoRandom,
      rtpPortRange: options.rtpPortRange ?? DEFAULT_RTP_PORT_RANGE,
    };
    this.udpPorts = options.udpPorts ?? 'shared';
    // On the real clock the scheduler wakes on the addon's sub-millisecond timer when it loaded.
    const wakeTimer = clock === realClock ? preciseWakeTimer() : undefined;
    this.wakeTimerKind = wakeTimer ? 'native' : 'node';
    this.scheduler = new Scheduler(clock, SEND_RESOLUTION_MS, wakeFlush, wakeTimer);
    // On the real clock interleaved players' connections are read at the scheduler's wake-ups.
    this.streamDrain = clock === realClock ? StreamDrain.open(this.scheduler, clock, STREAM_DRAIN_PERIOD_MS) : undefined;
    this.registry = new SessionRegistry(this.opts.maxSessions, this.events, () => clock.now());
    const paths = options.paths && options.paths.length > 0 ? new PathRules(options.paths) : undefined;
    this.paths = paths;
    this.catalog = new MediaCatalog(this.opts.mediaDir, {
      maxPayloadSize: this.opts.mtu - HEADER_OVERHEAD,
      ...stripUndefined({ cacheDir: options.cacheDir, prepareWaitMs: options.prepareWaitMs, preparer: options.preparer }),
      ...(paths ? { mount: (p: string) => paths.mount(p) } : {}),
    });
    this.sessionContext = {
      clock,
      random: this.opts.random,
      scheduler: this.scheduler,
      events: this.events,
      host: this.opts.host,
      rtpPortRange: this.opts.rtpPortRange,
      timeoutSec: this.opts.sessionTimeoutSec,
      timeoutGraceSec: this.opts.sessionTimeoutGraceSec,
      cname: `streamlab-${this.opts.random.hex(4)}@${os.hostname()}`,
      ...(options.sessionIdPrefix !== undefined ? { sessionIdPrefix: options.sessionIdPrefix } : {}),
      counters: this.counters,
      registry: this.registry,
      trackEgress: (options.egress ?? impairingEgressHook)(clock, this.scheduler),
      releaseEntry: (entry) => this.catalog.release(entry),
      ...(this.udpPorts !== 'per-session' ? { sharedUdp: () => this.bindSharedUdp() } : {}),
    };
    this.live = new LiveHub(this.sessionContext, {
      channels: options.live ?? [],
      multicast: options.multicast,
      ...(options.pull ? { pull: options.pull } : {}),
      ...(options.pullTls ? { pullTls: options.pullTls } : {}),
      ...(options.pullTransport ? { pullTransport: options.pullTransport } : {}),
      maxPayloadSize: this.opts.mtu - HEADER_OVERHEAD,
      cache: this.catalog.cache,
      ...(paths ? { isLivePath: (p: string) => paths.isLivePath(p) } : {}),
    });
    this.auth = options.auth ? new AuthGate(options.auth, clock, this.opts.random) : undefined;
    this.redirect = options.redirect
      ? new RedirectFront(
          new EdgePool(options.redirect.edges, clock, { ...options.redirect, ...(options.pullTls ? { tls: options.pullTls } : {}) }),
          options.redirect.status,
        )
      : undefined;
    this.events.on('session-created', () => this.counters.sessionsCreated++);
    logSessions(this.events, createLogger('session'));
    this.registry.onBoundSessionsExpired = (socket) => this.bySocket.get(socket)?.sessionExpired();
    this.secure = options.tls !== undefined;
    if (!listener) {
      this.tcp = undefined;
    } else if (options.tls) {
      // A handshake that does not complete in the request deadline is dropped, like a slow request.
      const server = lazyTls().createServer(
        { cert: options.tls.cert, key: options.tls.key, handshakeTimeout: this.opts.requestTimeoutMs },
        (socket) => this.accept(socket),
      );
      server.on('tlsClientError', (err, socket) => {
        this.counters.tlsHandshakeFailures++;
        log.debug('TLS handshake failed', { peer: normalizeIp(socket.remoteAddress ?? ''), error: err.message });
      });
      this.tcp = server;
    } else {
      this.tcp = net.createServer((socket) => this.accept(socket));
    }
    this.maxConnections = options.maxConnections ?? this.opts.maxSessions * 2;
    if (!this.tcp) return;
    // A hard ceiling a little above ours, for connections being evicted but not yet closed.
    this.tcp.maxConnections = this.maxConnections + EVICTION_HEADROOM;
    this.tcp.on('drop', (d?: { remoteAddress?: string }) => this.dropped(d?.remoteAddress ?? ''));
  }

  /**
   * The shared UDP pair, bound once (at listen; on the first UDP SETUP of an in-process server).
   * A failed bind is retried by the next SETUP.
   */
  private bindSharedUdp(): Promise<SharedUdpPorts> {
    if (!this.sharedUdp) {
      const at = typeof this.udpPorts === 'object' ? this.udpPorts : { range: this.opts.rtpPortRange };
      // Every track of every session at most: the demux table's bound.
      const maxRoutes = this.opts.maxSessions * MAX_TRACKS;
      // On the real clock the RTCP socket is read at the scheduler's wake-ups (DatagramDrain).
      const drain = this.opts.clock === realClock ? { scheduler: this.scheduler, clock: this.opts.clock } : undefined;
      const p = SharedUdpPorts.bind(this.opts.host, at, maxRoutes, drain);
      this.sharedUdp = p;
      p.then(
        (ports) => {
          this.sharedUdpBound = ports;
        },
        () => {
          if (this.sharedUdp === p) this.sharedUdp = undefined;
        },
      );
    }
    return this.sharedUdp;
  }

  private dropped(peer: string): void {
    this.counters.connectionsDropped++;
    const n = this.counters.connectionsDropped;
    // First and every 1000th: a flood must not become a flood of log lines.
    if (n === 1 || n % 1000 === 0)
      log.warn('connection dropped: too many connections', { peer: normalizeIp(peer), max: this.maxConnections, count: n });
  }

  /**
   * At maxConnections a new connection takes the place of the one idle longest without a session
   * (silent, or dribbling a request); if every connection is busy or carries a session, the new one
   * is dropped. So idle connections from many addresses cannot lock newcomers out.
   */
  private makeRoom(): boolean {
    if (this.connections.size < this.maxConnections) return true;
    return this.evictIdlest();
  }

  /** The connection idle longest without a session (makeRoom's victim), and since when. */
  private idlest(): { conn: RtspConnection; since: number } | undefined {
    let best: { conn: RtspConnection; since: number } | undefined;
    for (const c of this.connections) {
      const t = c.evictableSince();
      if (t !== undefined && (!best || t < best.since)) best = { conn: c, since: t };
    }
    return best;
  }

  /**
   * How long makeRoom's victim has been idle at `nowMs` (the server's clock), undefined when no
   * connection could give way: what a worker of `serve --workers` tells its primary at the limit.
   */
  evictableIdleMs(nowMs: number): number | undefined {
    const v = this.idlest();
    return v ? Math.max(0, nowMs - v.since) : undefined;
  }

  /** Closes the connection idle longest without a session (counted idleEvicted); false when none could go. */
  evictIdlest(): boolean {
    const v = this.idlest();
    if (!v) return false;
    v.conn.evict();
    this.connections.delete(v.conn);
    return true;
  }

  static async listen(options: ServerOptions): Promise<RtspServer> {
    const server = new RtspServer(options);
    const tcp = server.tcp;
    if (!tcp) throw new Error('internal: a listening server without its listener');
    if (server.sessionContext.sharedUdp) {
      // Ports named by the operator must be ours at start; a range that is full now is tried
      // again by each UDP SETUP (453 meanwhile; TCP clients are served).
      await server.sessionContext.sharedUdp().catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        if (typeof server.udpPorts === 'object') throw new Error(`cannot bind the shared UDP ports: ${message}`);
        log.warn('no shared UDP port pair yet: UDP SETUPs will try again', { error: message });
      });
    }
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(server.opts.port, server.opts.host, () => {
        tcp.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      server.sharedUdpBound?.close();
      throw err;
    });
    tcp.on('error', (err) => log.error('listener error', { error: String(err) }));
    try {
      await server.live.start(server.port, server.secure);
      await server.redirect?.pool.start();
    } catch (err) {
      await server.close();
      throw err;
    }
    log.info('listening', {
      scheme: server.secure ? 'rtsps' : 'rtsp',
      address: server.address,
      port: server.port,
      media: server.opts.mediaDir,
      udpPorts: server.sharedUdpBound ? `${server.sharedUdpBound.rtpPort}-${server.sharedUdpBound.rtcpPort}` : server.udpPorts,
    });
    return server;
  }

  /**
   * A server that listens nowhere: its clients connect in-process through connect(). Everything
   * else is the served code path (sessions, senders, RTCP, the egress hook) on the injected clock,
   * scheduler and Random: `lab --fast` runs on it with no socket at all. No TLS (nothing to encrypt).
   */
  static async inProcess(options: Omit<ServerOptions, 'port' | 'tls'>): Promise<RtspServer> {
    const server = new RtspServer(options, false);
    await server.live.start(0, false);
    return server;
  }

  /**
   * A server whose connections another process accepted (a worker of `serve --workers`, see
   * src/cluster/): no listener of its own; `publicPort` is the port its clients (and its ffmpeg
   * live sources) connect to, and each connection comes in through adopt().
   */
  static async detached(options: ServerOptions, publicPort: number): Promise<RtspServer> {
    const server = new RtspServer(options, false);
    server.publicPort = publicPort;
    await server.live.start(publicPort, server.secure);
    await server.redirect?.pool.start();
    return server;
  }

  /** A detached server's port (what its listener would have). */
  private publicPort = 0;

  /**
   * Serves a connection another process accepted and began to read (a worker's): the bytes it
   * read come first, then the socket's own, exactly as if this server had accepted it. `peer`:
   * the client's addresses when the stream is not the client's socket (a worker's relay of a TLS
   * connection another worker decrypted).
   */
  adopt(
    socket: Duplex & { remoteAddress?: string; localAddress?: string },
    head: Buffer,
    peer?: { clientIp: string; localIp: string },
  ): void {
    if (head.length > 0) socket.unshift(head);
    if (peer) this.accept(socket, peer.clientIp, peer.localIp);
    else this.accept(socket);
  }

  /** The port listened on; 0 for an in-process server. */
  get port(): number {
    const a = this.tcp?.address();
    return typeof a === 'object' && a ? a.port : this.publicPort;
  }

  /** The address listened on; `in-process` for an in-process server. */
  get address(): string {
    const a = this.tcp?.address();
    return typeof a === 'object' && a ? a.address : this.publicPort ? this.opts.host : 'in-process';
  }

  /**
   * An RTSP connection from inside the process: the server serves one end of an in-memory pipe as
   * a connection from `clientIp` (the per-address and connection limits apply) and returns the
   * other, for a client to write requests to and read answers (and `$` frames) from.
   */
  connect(clientIp = '127.0.0.1'): Duplex {
    const [server, client] = duplexPair();
    this.accept(server, clientIp, this.opts.host === '0.0.0.0' ? '127.0.0.1' : this.opts.host);
    return client;
  }

  private accept(
    socket: ByteStream,
    clientIp = normalizeIp(socket.remoteAddress ?? ''),
    localIp = normalizeIp(socket.localAddress ?? this.opts.host),
  ): void {
    const open = this.perAddress.get(clientIp) ?? 0;
    if (open >= this.opts.maxConnectionsPerAddress) {
      this.counters.connectionsRefused++;
      if (!this.refusalLogged.has(clientIp)) {
        this.refusalLogged.add(clientIp);
        log.warn('connection refused: too many from this address', {
          peer: clientIp,
          max: this.opts.maxConnectionsPerAddress,
          count: this.counters.connectionsRefused,
        });
      }
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    if (!this.makeRoom()) {
      this.dropped(clientIp);
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    this.perAddress.set(clientIp, open + 1);
    this.counters.connections++;
    const conn = new RtspConnection(
      socket,
      {
        catalog: this.catalog,
        sessionContext: this.sessionContext,
        clientIp,
        localIp,
        socket,
        serverName: this.opts.serverName,
        defaultImpairment: this.opts.impairment,
        describedImpairments: new Map(),
        live: this.live,
        ...(this.auth ? { auth: this.auth } : {}),
        ...(this.paths ? { paths: this.paths } : {}),
        ...(this.redirect ? { redirect: this.redirect } : {}),
      },
      this.counters,
      {
        maxHeaderBytes: this.opts.maxRequestHeaderBytes,
        maxBodyBytes: this.opts.maxRequestBodyBytes,
        idleTimeoutMs: this.opts.idleTimeoutMs,
        requestTimeoutMs: this.opts.requestTimeoutMs,
        maxWriteBacklogBytes: this.opts.maxWriteBacklogBytes,
      },
      this.streamDrain,
      (c) => {
        this.connections.delete(c);
        this.bySocket.delete(socket);
        const left = (this.perAddress.get(clientIp) ?? 1) - 1;
        if (left > 0) this.perAddress.set(clientIp, left);
        else this.perAddress.delete(clientIp);
        if (left < this.opts.maxConnectionsPerAddress) this.refusalLogged.delete(clientIp);
      },
    );
    this.connections.add(conn);
    this.bySocket.set(socket, conn);
  }

  /** The file sessions (live viewers and publishers are in `live`), by id. */
  get sessions(): Map<string, FileSession> {
    const m = new Map<string, FileSession>();
    for (const s of this.registry.values()) if (isFileSession(s)) m.set(s.id, s);
    return m;
  }

  snapshot(): ServerSnapshot {
    return {
      address: this.address,
      port: this.port,
      sessions: [...this.sessions.values()].map((s) => ({
        id: s.id,
        media: s.media,
        client: s.clientIp,
        state: s.state,
        streams: [...s.setups.values()].map((x) => ({
          control: x.track.control,
          ssrc: x.stream.sender.ssrc,
          payloadType: x.stream.sender.format.payloadType,
          clockRate: x.stream.clockRate,
          transport: x.egress.kind,
          packets: x.stream.sender.stats.packets,
          octets: x.stream.sender.stats.octets,
          dropped: x.egress.dropped,
          ended: x.stream.ended,
          receiverReports: x.rtcp.reportsReceived,
          lastReport: x.rtcp.lastReport,
        })),
      })),
      counters: { ...this.counters },
      openConnections: this.connections.size,
      scheduler: {
        tasks: this.scheduler.size,
        wakeups: this.scheduler.stats.wakeups,
        tasksRun: this.scheduler.stats.tasksRun,
        maxLateMs: this.scheduler.stats.maxLateMs,
        runLimitHits: this.scheduler.stats.runLimitHits,
        timer: this.wakeTimerKind,
      },
      cache: { bytes: this.catalog.cache.sizeBytes, ...this.catalog.cache.stats },
      live: this.live.snapshot(),
      udp: this.udpSnapshot(),
      ...(this.streamDrain ? { tcpDrain: { connections: this.streamDrain.size, ...this.streamDrain.stats } } : {}),
      ...(udpSenderKind() === 'native' ? { gso: udpGso() } : {}),
      ...(this.auth ? { auth: this.auth.counters } : {}),
      ...(this.redirect ? { redirect: { ...this.redirect.counters, edges: this.redirect.pool.edges.map((e) => ({ ...e })) } } : {}),
    };
  }

  private udpSnapshot(): ServerSnapshot['udp'] {
    if (this.udpPorts === 'per-session') return { mode: 'per-session' };
    const p = this.sharedUdpBound;
    if (!p) return { mode: 'shared', routes: 0, unknownSource: 0, sendErrors: 0 };
    const drain = p.rtcpDrain;
    return {
      mode: 'shared',
      rtpPort: p.rtpPort,
      rtcpPort: p.rtcpPort,
      routes: p.routes,
      ...p.stats,
      ...(drain ? { rtcpDrain: { ...drain } } : {}),
    };
  }

  /** The shared UDP pair's ports (undefined for per-session, or before it is bound). */
  get sharedUdpPorts(): { rtpPort: number; rtcpPort: number } | undefined {
    const p = this.sharedUdpBound;
    return p ? { rtpPort: p.rtpPort, rtcpPort: p.rtcpPort } : undefined;
  }

  /**
   * Every RTSP session (file sessions, live viewers, publishers) as the operator sees it: who,
   * what, how, since when, what it moved and what its receivers reported last.
   */
  sessionList(): SessionInfo[] {
    const now = this.opts.clock.now();
    return this.registry.list().map(({ session: s, startedAt }) => {
      const t = s.traffic?.();
      return {
        id: s.id,
        kind: s.kind,
        path: s.media,
        client: s.clientIp,
        state: s.state,
        ageSec: Math.round((now - startedAt) / 100) / 10,
        transport: t?.transport ?? 'none',
        packetsSent: t?.packetsSent ?? 0,
        bytesSent: t?.bytesSent ?? 0,
        ...(t?.packetsReceived !== undefined ? { packetsReceived: t.packetsReceived } : {}),
        reports: t?.lastReports ?? [],
      };
    });
  }

  /**
   * Ends a session as its TEARDOWN would (its clients get a BYE), from the operator. False when
   * there is no session with that id.
   */
  kick(id: string): boolean {
    const s = this.registry.get(id);
    if (!s) return false;
    s.close('kicked by the operator');
    return true;
  }

  /**
   * Starts live channel `live/NAME` from a file of the media directory (`file` is a path inside
   * it, resolved as an URL path is: nothing outside can be named, nor the preparation cache),
   * looped unless `loop` is false (then it stops at the end of the file). Throws LiveHubError.
   */
  async startLiveChannel(spec: { name: string; file: string; loop?: boolean }): Promise<void> {
    const r = await resolveMediaPath(this.opts.mediaDir, spec.file);
    if (!r.ok) throw new LiveHubError('LIVE_ERR_NOT_FOUND', `${spec.file}: ${r.reason}`);
    if (r.relPath.split('/').some((s) => s.startsWith('.'))) throw new LiveHubError('LIVE_ERR_NOT_FOUND', `${spec.file}: not served`);
    await this.live.addFileChannel(spec.name, r.filePath, spec.loop ?? true);
  }

  /** Stops live channel `name` whatever feeds it (its viewers get BYE, an ffmpeg: source is stopped); false when there is none. */
  stopLiveChannel(name: string): Promise<boolean> {
    return this.live.removeChannel(name);
  }

  async close(): Promise<void> {
    this.redirect?.pool.close();
    for (const s of [...this.sessions.values()]) s.close('server shutdown');
    await this.live.close();
    for (const c of this.connections) c.destroy();
    this.streamDrain?.close();
    const tcp = this.tcp;
    if (tcp) await new Promise<void>((resolve) => tcp.close(() => resolve()));
    await this.catalog.close();
    const shared = this.sharedUdp;
    if (shared) {
      // After the sessions' last datagrams (BYE): dgram sends on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      (await shared.catch(() => undefined))?.close();
    }
  }
}

function isFileSession(s: unknown): s is FileSession {
  return s instanceof RtspSession && s.presentation instanceof FilePresentation;
}

function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
