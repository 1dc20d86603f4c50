import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServerSnapshot, SessionKind } from '../server/index.ts';
import type { OperatorServer } from './operator-server.ts';

/** RTSP methods counted by name; any other a client sends is OTHER, so labels stay bounded. `-`: unparseable. */
const METHODS = new Set([
  'OPTIONS',
  'DESCRIBE',
  'SETUP',
  'PLAY',
  'PAUSE',
  'TEARDOWN',
  'GET_PARAMETER',
  'SET_PARAMETER',
  'ANNOUNCE',
  'RECORD',
  '-',
]);

/** Connections refused or closed at a limit, read from the server's counters: reason → counter. */
const CONNECTION_REFUSALS: Record<string, (s: ServerSnapshot) => number> = {
  per_address: (s) => s.counters.connectionsRefused,
  too_many_connections: (s) => s.counters.connectionsDropped,
  write_backlog: (s) => s.counters.writeBacklogClosed,
  request_timeout: (s) => s.counters.requestTimeouts,
  tls_handshake: (s) => s.counters.tlsHandshakeFailures,
};

const KINDS: readonly SessionKind[] = ['file', 'live-viewer', 'publisher'];

/**
 * The server's Prometheus metrics (text format at GET /metrics), in a registry of its own (not
 * prom-client's global one, so two servers in one process do not mix). Gauges and the server's own
 * counters are read when scraped (one snapshot per scrape); requests and receiver reports are
 * counted from the server's events as they happen. Every label has a bounded set of values.
 *
 *   streamlab_sessions{kind}                    sessions open (file, live-viewer, publisher)
 *   streamlab_connections                       RTSP connections open
 *   streamlab_sessions_created_total            file sessions and live viewers created
 *   streamlab_connections_total                 RTSP connections accepted
 *   streamlab_sent_packets_total{kind}          RTP packets sent to clients, by session kind
 *   streamlab_sent_bytes_total{kind}            RTP bytes sent to clients, by session kind
 *   streamlab_received_packets_total            RTP packets taken in from publishers
 *   streamlab_rtsp_requests_total{method,status}
 *   streamlab_rtsp_refusals_total{status,code}  refused requests by status and reason code
 *   streamlab_connection_refusals_total{reason} connections refused or closed at a limit
 *   streamlab_operator_refusals_total{reason}   the HTTP side's own refusals
 *   streamlab_rtcp_fraction_lost                histogram, one observation per report block
 *   streamlab_rtcp_jitter_seconds               histogram
 *   streamlab_rtcp_rtt_seconds                  histogram (reports with LSR/DLSR)
 *   streamlab_rtcp_xr_mos_lq                    histogram (RTCP XR VoIP metrics with a MOS)
 *   streamlab_preparations_running              ffmpeg preparations running now
 *   streamlab_preparations_total{outcome}       started, succeeded, failed
 *   streamlab_live_channels{state}              all, live
 *   streamlab_live_fanout_held_packets_total    live packets whose fan-out was held for a later ms
 *   streamlab_live_fanout_overflows_total       full fan-out holds (everything held sent at once)
 *   streamlab_scheduler_run_limit_hits_total    wake-ups cut at MAX_RUNS_PER_WAKE (a runaway task)
 *   streamlab_udp_gso_datagrams_total           UDP datagrams sent in segmented messages (native sender)
 *   streamlab_udp_gso_fallbacks_total           segmented messages the kernel refused, sent again one by one
 *   streamlab_operator_feed_clients             dashboard pages connected
 *   streamlab_process_*, streamlab_nodejs_*     prom-client's default process metrics
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly offs: (() => void)[] = [];
  private readonly operatorRefusals: Counter<'reason'>;
  private feedClientCount: () => number = () => 0;
  /** One snapshot per scrape: prom-client runs every collect in turn. */
  private current: ServerSnapshot | undefined;
  /** Traffic of the sessions that ended, by kind (the open ones are read at scrape time). */
  private readonly ended = {
    packets: { file: 0, 'live-viewer': 0, publisher: 0 },
    bytes: { file: 0, 'live-viewer': 0, publisher: 0 },
    received: 0,
  };
  /** Last value exposed per counter series: a counter never goes back, whatever the sum read. */
  private readonly last = new Map<string, number>();

  constructor(server: OperatorServer) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'streamlab_' });
    const snap = (): ServerSnapshot => (this.current ??= server.snapshot());
    /** The value to expose for one series: never below the last one exposed. */
    const monotonic = (key: string, value: number): number => {
      const v = Math.max(this.last.get(key) ?? 0, value);
      this.last.set(key, v);
      return v;
    };
    const feedClients = () => this.feedClientCount();
    new Gauge({
      name: 'streamlab_sessions',
      help: 'RTSP sessions open now, by kind (file, live-viewer, publisher)',
      labelNames: ['kind'],
      registers,
      collect() {
        const n: Record<SessionKind, number> = { file: 0, 'live-viewer': 0, publisher: 0 };
        for (const s of server.registry.values()) n[s.kind]++;
        for (const kind of KINDS) this.set({ kind }, n[kind]);
      },
    });
    new Gauge({
      name: 'streamlab_connections',
      help: 'RTSP connections open now',
      registers,
      collect() {
        this.set(snap().openConnections);
      },
    });
    new Counter({
      name: 'streamlab_sessions_created_total',
      help: 'RTSP file sessions and live viewers created',
      registers,
      collect() {
        this.reset();
        this.inc(monotonic('sessionsCreated', snap().counters.sessionsCreated));
      },
    });
    new Counter({
      name: 'streamlab_connections_total',
      help: 'RTSP connections accepted',
      registers,
      collect() {
        this.reset();
        this.inc(monotonic('connections', snap().counters.connections));
      },
    });
    const openTraffic = () => {
      const t = { packets: { ...this.ended.packets }, bytes: { ...this.ended.bytes }, received: this.ended.received };
      for (const s of server.sessionList()) {
        t.packets[s.kind] += s.packetsSent;
        t.bytes[s.kind] += s.bytesSent;
        t.received += s.packetsReceived ?? 0;
      }
      return t;
    };
    new Counter({
      name: 'streamlab_sent_packets_total',
      help: 'RTP packets sent to clients, by the kind of session that sent them',
      labelNames: ['kind'],
      registers,
      collect() {
        const t = openTraffic();
        this.reset();
        for (const kind of KINDS) if (kind !== 'publisher') this.inc({ kind }, monotonic(`packets-${kind}`, t.packets[kind]));
      },
    });
    new Counter({
      name: 'streamlab_sent_bytes_total',
      help: 'RTP bytes (header and payload) sent to clients, by the kind of session that sent them',
      labelNames: ['kind'],
      registers,
      collect() {
        const t = openTraffic();
        this.reset();
        for (const kind of KINDS) if (kind !== 'publisher') this.inc({ kind }, monotonic(`bytes-${kind}`, t.bytes[kind]));
      },
    });
    new Counter({
      name: 'streamlab_received_packets_total',
      help: 'RTP packets taken in from publishers',
      registers,
      collect() {
        this.reset();
        this.inc(monotonic('received', openTraffic().received));
      },
    });
    const requests = new Counter({
      name: 'streamlab_rtsp_requests_total',
      help: 'RTSP requests answered, by method (OTHER for unknown ones, - for unparseable ones) and status',
      labelNames: ['method', 'status'],
      registers,
    });
    const refusals = new Counter({
      name: 'streamlab_rtsp_refusals_total',
      help: 'RTSP requests refused, by status and reason code (e.g. SRV_ERR_NOT_FOUND, AUTH_ERR_..., CONN_ERR_BAD_REQUEST)',
      labelNames: ['status', 'code'],
      registers,
    });
    new Counter({
      name: 'streamlab_connection_refusals_total',
      help: 'RTSP connections refused or closed at a limit, by reason',
      labelNames: ['reason'],
      registers,
      collect() {
        const s = snap();
        this.reset();
        for (const [reason, read] of Object.entries(CONNECTION_REFUSALS)) this.inc({ reason }, monotonic(`conn-${reason}`, read(s)));
      },
    });
    this.operatorRefusals = new Counter({
      name: 'streamlab_operator_refusals_total',
      help: "Requests to the operator's HTTP side refused (Host, Origin, body size, bad JSON, dashboard pages full or not reading)",
      labelNames: ['reason'],
      registers,
    });
    const seconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
    const fractionLost = new Histogram({
      name: 'streamlab_rtcp_fraction_lost',
      help: 'Fraction lost in RTCP receiver reports (0..1), one observation per report block',
      buckets: [0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
      registers,
    });
    const jitter = new Histogram({
      name: 'streamlab_rtcp_jitter_seconds',
      help: 'Interarrival jitter in RTCP receiver reports, seconds',
      buckets: seconds,
      registers,
    });
    const rtt = new Histogram({
      name: 'streamlab_rtcp_rtt_seconds',
      help: 'Round-trip time from RTCP receiver reports (LSR/DLSR), seconds',
      buckets: seconds,
      registers,
    });
    const mos = new Histogram({
      name: 'streamlab_rtcp_xr_mos_lq',
      help: 'Listening-quality MOS in RTCP XR VoIP metrics blocks (1..5)',
      buckets: [1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5],
      registers,
    });
    new Gauge({
      name: 'streamlab_preparations_running',
      help: 'Files being prepared through ffmpeg now',
      registers,
      collect() {
        this.set(server.catalog.preparationsRunning);
      },
    });
    new Counter({
      name: 'streamlab_preparations_total',
      help: 'Preparations of files through ffmpeg, by outcome (started, succeeded, failed)',
      labelNames: ['outcome'],
      registers,
      collect() {
        this.reset();
        for (const [outcome, v] of Object.entries(server.catalog.preparationStats)) this.inc({ outcome }, monotonic(`prep-${outcome}`, v));
      },
    });
    new Gauge({
      name: 'streamlab_live_channels',
      help: 'Live channels (all), and those with media flowing (live)',
      labelNames: ['state'],
      registers,
      collect() {
        const live = snap().live;
        this.set({ state: 'all' }, live.length);
        this.set({ state: 'live' }, live.filter((c) => c.live).length);
      },
    });
    new Counter({
      name: 'streamlab_live_fanout_held_packets_total',
      help: 'Live packets whose fan-out to the viewers was held for a later millisecond (pacing a burst)',
      registers,
      collect() {
        this.reset();
        this.inc(monotonic('fanout-held', snap().counters.fanoutHeld));
      },
    });
    new Counter({
      name: 'streamlab_live_fanout_overflows_total',
      help: 'Live fan-out holds that were full: everything held went to the viewers at once',
      registers,
      collect() {
        this.reset();
        this.inc(monotonic('fanout-overflows', snap().counters.fanoutOverflows));
      },
    });
    new Counter({
      name: 'streamlab_scheduler_run_limit_hits_total',
      help: 'Scheduler wake-ups cut at their run limit (a task that keeps scheduling work due now; the rest ran in the next wake-up)',
      registers,
      collect() {
        this.reset();
        this.inc(monotonic('run-limit', snap().scheduler.runLimitHits));
      },
    });
    new Counter({
      name: 'streamlab_udp_gso_datagrams_total',
      help: "UDP datagrams the native sender handed to the kernel in segmented messages (UDP GSO: one message for a run of one client's equal-sized datagrams)",
      registers,
      collect() {
        this.reset();
        this.inc(monotonic('gsoDatagrams', snap().gso?.segments ?? 0));
      },
    });
    new Counter({
      name: 'streamlab_udp_gso_fallbacks_total',
      help: 'Segmented UDP messages the kernel refused (a route MTU below a segment, a device without checksum offload), sent again datagram by datagram',
      registers,
      collect() {
        this.reset();
        this.inc(monotonic('gsoFallbacks', snap().gso?.fallbacks ?? 0));
      },
    });
    if (server.redirect) {
      const front = server.redirect;
      new Counter({
        name: 'streamlab_redirects_total',
        help: 'A redirecting front: clients sent to an edge (redirected), answered 503 with no edge up (no_edge), or 404/503 as no edge up serves the path (no_path)',
        labelNames: ['outcome'],
        registers,
        collect() {
          this.reset();
          this.inc({ outcome: 'redirected' }, monotonic('redirect-redirected', front.counters.redirected));
          this.inc({ outcome: 'no_edge' }, monotonic('redirect-no-edge', front.counters.noEdge));
          this.inc({ outcome: 'no_path' }, monotonic('redirect-no-path', front.counters.noPath));
        },
      });
      new Gauge({
        name: 'streamlab_edge_up',
        help: 'A redirecting front: 1 when the edge answered its last load poll, else 0',
        labelNames: ['edge'],
        registers,
        collect() {
          for (const e of front.pool.edges) this.set({ edge: e.base }, e.up ? 1 : 0);
        },
      });
      new Gauge({
        name: 'streamlab_edge_sessions',
        help: 'A redirecting front: sessions each edge reported at its last answered poll',
        labelNames: ['edge'],
        registers,
        collect() {
          for (const e of front.pool.edges) this.set({ edge: e.base }, e.sessions);
        },
      });
    }
    new Gauge({
      name: 'streamlab_operator_feed_clients',
      help: 'Dashboard pages connected to the live feed',
      registers,
      collect() {
        this.set(feedClients());
      },
    });
    this.offs.push(
      server.events.on('request', (e) => {
        const method = METHODS.has(e.method) ? e.method : 'OTHER';
        requests.inc({ method, status: String(e.status) });
        if (e.status >= 400) refusals.inc({ status: String(e.status), code: e.code ?? 'none' });
      }),
      server.events.on('receiver-report', (rep) => {
        fractionLost.observe(rep.qos.fractionLost);
        jitter.observe(rep.jitterMs / 1000);
        if (rep.rttMs !== undefined) rtt.observe(rep.rttMs / 1000);
        if (rep.voip?.mosLq !== undefined) mos.observe(rep.voip.mosLq);
      }),
      server.events.on('session-ended', (e) => {
        this.ended.packets[e.kind] += e.traffic?.packetsSent ?? 0;
        this.ended.bytes[e.kind] += e.traffic?.bytesSent ?? 0;
        this.ended.received += e.traffic?.packetsReceived ?? 0;
      }),
    );
  }

  /** Where the dashboard's page count comes from (the HTTP side's live feed). */
  feedClients(read: () => number): void {
    this.feedClientCount = read;
  }

  operatorRefused(reason: string): void {
    this.operatorRefusals.inc({ reason });
  }

  async text(): Promise<string> {
    this.current = undefined;
    try {
      return await this.registry.metrics();
    } finally {
      this.current = undefined;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
    this.registry.clear();
  }
}
