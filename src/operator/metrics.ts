import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RtspServer } from '../server/index.ts';

/**
 * The server's Prometheus metrics (text format at GET /metrics), in a registry of its own (not
 * prom-client's global one, so two servers in one process do not mix). Gauges are read from the
 * server when scraped; request and report figures are counted from its events as they happen.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly offs: (() => void)[] = [];

  constructor(server: RtspServer) {
    const r = this.registry;
    const snapshotGauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [r],
        collect() {
          this.set(read());
        },
      });
    snapshotGauge('streamlab_sessions', 'RTSP sessions open (file sessions, live viewers, publishers)', () => server.registry.size);
    snapshotGauge('streamlab_connections', 'RTSP connections open', () => server.snapshot().openConnections);
    const bySession = (pick: (s: ReturnType<RtspServer['sessionList']>[number]) => number) => () =>
      server.sessionList().reduce((n, s) => n + pick(s), 0);
    snapshotGauge(
      'streamlab_session_packets_sent',
      'RTP packets sent by the open sessions',
      bySession((s) => s.packetsSent),
    );
    snapshotGauge(
      'streamlab_session_bytes_sent',
      'RTP bytes sent by the open sessions',
      bySession((s) => s.bytesSent),
    );
    const counterGauge = (name: string, help: string, read: () => number) => {
      // Monotonic figures kept by the server itself: exposed as counters at scrape time.
      new Counter({
        name,
        help,
        registers: [r],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    };
    counterGauge(
      'streamlab_sessions_created_total',
      'file sessions and live viewers created',
      () => server.snapshot().counters.sessionsCreated,
    );
    counterGauge('streamlab_connections_total', 'RTSP connections accepted', () => server.snapshot().counters.connections);
    counterGauge('streamlab_rtcp_malformed_total', 'malformed RTCP packets dropped', () => server.snapshot().counters.rtcpMalformed);
    const requests = new Counter({
      name: 'streamlab_rtsp_requests_total',
      help: 'RTSP requests answered, by method and status',
      labelNames: ['method', 'status'],
      registers: [r],
    });
    const refusals = new Counter({
      name: 'streamlab_rtsp_refusals_total',
      help: 'RTSP requests refused, by status and reason code',
      labelNames: ['status', 'code'],
      registers: [r],
    });
    const fractionLost = new Histogram({
      name: 'streamlab_rtcp_fraction_lost',
      help: 'fraction lost in receiver reports (per report, 0..1)',
      buckets: [0, 0.001, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
      registers: [r],
    });
    const jitter = new Histogram({
      name: 'streamlab_rtcp_jitter_ms',
      help: 'interarrival jitter in receiver reports, ms',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers: [r],
    });
    this.offs.push(
      server.events.on('request', (e) => {
        requests.inc({ method: e.method, status: String(e.status) });
        if (e.status >= 400) refusals.inc({ status: String(e.status), code: e.code ?? 'none' });
      }),
      server.events.on('receiver-report', (rep) => {
        fractionLost.observe(rep.qos.fractionLost);
        jitter.observe(rep.jitterMs);
      }),
    );
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
  }
}
