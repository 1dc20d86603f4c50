import dgram from 'node:dgram';
import { summarizeFates } from '../impair/index.ts';
import type { FateSummary, ImpairmentPipeline } from '../impair/index.ts';
import { ImpairmentStage } from './impairment-stage.ts';
import type { Clock } from '../util/clock.ts';
import { realClock } from '../util/clock.ts';
import { pathOptions } from './impaired-egress.ts';
import type { ImpairmentSpec } from './impaired-egress.ts';
import { Scheduler } from './scheduler.ts';

export interface Endpoint {
  host: string;
  port: number;
}

export interface RelayCounters {
  received: number;
  forwarded: number;
  dropped: number;
  replies: number;
}

/**
 * `streamlab netem`: a UDP relay between two RTP endpoints we do not control (VLC, ffmpeg, a
 * camera). Datagrams arriving on `listen` go through the netem pipeline to `forward`; what the
 * forward side answers goes back, unimpaired, to the last sender. One relay per port: run two
 * for an RTP/RTCP pair.
 */
export class NetemRelay {
  readonly counters: RelayCounters = { received: 0, forwarded: 0, dropped: 0, replies: 0 };
  private readonly stage: ImpairmentStage;
  private lastSender: dgram.RemoteInfo | undefined;

  private constructor(
    private readonly inbound: dgram.Socket,
    private readonly outbound: dgram.Socket,
    private readonly forward: Endpoint,
    spec: ImpairmentSpec,
    clock: Clock,
  ) {
    this.stage = new ImpairmentStage(spec.config, spec.seed, pathOptions(spec), clock, new Scheduler(clock));
    inbound.on('message', (msg, rinfo) => this.fromListenSide(msg, rinfo));
    outbound.on('message', (msg, rinfo) => {
      // Only the forward endpoint may answer; anything else is not part of this path.
      if (rinfo.port !== forward.port || !this.lastSender) return;
      this.counters.replies++;
      inbound.send(msg, this.lastSender.port, this.lastSender.address);
    });
    for (const s of [inbound, outbound]) s.on('error', () => this.counters.dropped++);
  }

  static async start(listen: Endpoint, forward: Endpoint, spec: ImpairmentSpec, clock: Clock = realClock): Promise<NetemRelay> {
    const type = listen.host.includes(':') ? 'udp6' : 'udp4';
    const inbound = dgram.createSocket(type);
    const outbound = dgram.createSocket(forward.host.includes(':') ? 'udp6' : 'udp4');
    const bind = (s: dgram.Socket, port: number, host?: string) =>
      new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(port, host, () => {
          s.off('error', reject);
          resolve();
        });
      });
    await bind(inbound, listen.port, listen.host);
    await bind(outbound, 0);
    return new NetemRelay(inbound, outbound, forward, spec, clock);
  }

  get listenPort(): number {
    return this.inbound.address().port;
  }

  private fromListenSide(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.counters.received++;
    this.lastSender = rinfo;
    const copies = this.stage.pass([msg], (p) => {
      this.counters.forwarded++;
      this.outbound.send(p[0] ?? msg, this.forward.port, this.forward.host);
    });
    if (copies === 0) this.counters.dropped++;
  }

  /** Ground truth so far: what was dropped, delayed, reordered, duplicated. */
  summary(): FateSummary {
    return summarizeFates(this.pipeline.fates);
  }

  get pipeline(): ImpairmentPipeline {
    return this.stage.pipeline;
  }

  close(): void {
    this.stage.close();
    this.inbound.close();
    this.outbound.close();
  }
}

/** `HOST:PORT` or `[v6]:PORT`. */
export function parseEndpoint(s: string): Endpoint | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port >= 0 && port <= 65535 ? { host: m[1]!, port } : undefined;
}
