import type dgram from 'node:dgram';
import net from 'node:net';
import type { Clock } from '../util/clock.ts';
import { createLogger } from '../util/log.ts';
import { DatagramDrain } from './datagram-drain.ts';
import type { Egress } from './egress.ts';
import { nativeSendmmsg, udpSenderKind } from './native-sender.ts';
import type { UdpSenderKind } from './native-sender.ts';
import { dgramFd, sharedUdpBatch } from './udp-batch.ts';
import type { BatchedSocketOwner, SendLane, UdpBatch } from './udp-batch.ts';
import { UdpDemux, plainIp } from './udp-demux.ts';
import type { ClaimRefusal } from './udp-demux.ts';
import { PortPairError, bindUdpPortPair } from './udp-pair.ts';
import type { Scheduler } from './scheduler.ts';
import type { PortRange, UdpPortPair } from './udp-pair.ts';

const log = createLogger('udp');

/** Send buffer asked for the shared sockets: every client's datagrams of a wake queue there. */
const SEND_BUFFER_BYTES = 4 * 1024 * 1024;

/** What a track does with the datagrams its client sends to the shared pair. */
export interface SharedUdpHandlers {
  /** A datagram at the RTP port from the client's RTP port (NAT keep-alives, "punches"). */
  rtp(msg: Buffer, from: string): void;
  /**
   * A datagram at the RTCP port from the client's RTCP port (receiver reports, keep-alives),
   * with the wall-clock time the kernel received it when it was read later (DatagramDrain).
   */
  rtcp(msg: Buffer, from: string, arrivalWallMs?: number): void;
}

/** The RTCP socket read in batches at the scheduler's wake-ups (DatagramDrain) rather than by Node. */
export interface SharedPortsDrain {
  scheduler: Scheduler;
  /** The real clock: the kernel's arrival stamps are real time. */
  clock: Clock;
}

/**
 * How often the drain reads the RTCP socket while tracks are routed, and while none is. Each
 * report keeps the kernel's arrival time, so only what acts on a report waits (QoS, the
 * dashboard), and a session about to end reads first. 50 ms rather than 10: a run then reads a
 * few reports instead of one, and the reading path, cold in the caches between runs, cost half as
 * much (perf at 100 clients, reports every 2 s: 9.5 % of the server's samples → 4.4 %).
 */
export const DRAIN_PERIOD_MS = 50;
export const IDLE_DRAIN_PERIOD_MS = 1000;

/** A UDP track refused by the shared pair: its client's ports are another track's, or the table is full. */
export class SharedPortsError extends Error {
  constructor(
    readonly reason: ClaimRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'SharedPortsError';
  }
}

/** Where the shared pair is bound: an exact even/odd pair, or a free pair from a range. */
export type SharedPortsAt = { rtpPort: number } | { range: PortRange; random?: () => number };

/**
 * The server's one unconnected RTP/RTCP port pair (even/odd, RFC 3550 §11), as gortsplib and
 * MediaMTX have it: every UDP session's RTP and RTCP leave from it with the client's address as
 * the destination, so the native sender hands a whole wake, all sessions together, to one
 * sendmmsg run on one descriptor; every UDP SETUP is answered with the same `server_port`.
 * Incoming datagrams are told apart by source address and port (udp-demux.ts): the client's
 * declared client_port, as the connected per-session pairs did; anything else is dropped and
 * counted (`unknownSource`).
 */
export class SharedUdpPorts {
  private readonly demux: UdpDemux<SharedUdpEgress>;
  readonly stats = { unknownSource: 0, sendErrors: 0 };
  private closed = false;
  /** The pair's address family, read once (socket.address() is a system call). */
  private readonly v4Socket: boolean;

  /** Reads the RTCP socket instead of Node when the addon can (SharedPortsDrain). */
  private readonly drain: DatagramDrain | undefined;

  private constructor(
    private readonly pair: UdpPortPair,
    maxRoutes: number,
    drainOn: SharedPortsDrain | undefined,
  ) {
    this.demux = new UdpDemux(maxRoutes);
    this.v4Socket = pair.rtp.address().family === 'IPv4';
    for (const s of [pair.rtp, pair.rtcp]) {
      // Unconnected: ICMP errors are not reported; a send error (EPERM, ...) is counted here.
      s.on('error', () => this.stats.sendErrors++);
      try {
        s.setSendBufferSize(SEND_BUFFER_BYTES);
      } catch {
        // Capped by net.core.wmem_max; the default works, sends that do not fit go Node's slow way.
      }
    }
    pair.rtp.on('message', (msg, rinfo) => {
      const route = this.demux.rtpRoute(rinfo.address, rinfo.port);
      if (route) route.handlers.rtp(msg, `${plainIp(rinfo.address)}:${rinfo.port}`);
      else this.unknown('rtp', rinfo.address, rinfo.port);
    });
    pair.rtcp.on('message', (msg, rinfo) => this.rtcpIn(msg, rinfo.address, rinfo.port, undefined));
    this.drain = drainOn
      ? DatagramDrain.open(
          pair.rtcp,
          drainOn.scheduler,
          drainOn.clock,
          () => (this.demux.size > 0 ? DRAIN_PERIOD_MS : IDLE_DRAIN_PERIOD_MS),
          (msg, ip, port, at) => this.rtcpIn(msg, ip, port, at),
        )
      : undefined;
  }

  private rtcpIn(msg: Buffer, address: string, port: number, arrivalWallMs: number | undefined): void {
    const route = this.demux.rtcpRoute(address, port);
    if (route) route.handlers.rtcp(msg, `${plainIp(address)}:${port}`, arrivalWallMs);
    else this.unknown('rtcp', address, port);
  }

  /**
   * Reads what the kernel queued on the RTCP socket now, when it is read in batches (a session
   * about to end takes its client's last report); nothing when Node reads it (it already did).
   */
  receivePending(): void {
    this.drain?.read();
  }

  /** Whether the RTCP socket is read in batches (DatagramDrain) rather than by Node, and its counts. */
  get rtcpDrain(): DatagramDrain['stats'] | undefined {
    return this.drain?.stats;
  }

  /**
   * Binds the pair on `host` (its address family): exactly `rtpPort` and the next port, or a
   * free pair of `range`. At most `maxRoutes` UDP tracks at once. Throws PortPairError.
   */
  static async bind(host: string, at: SharedPortsAt, maxRoutes: number, drain?: SharedPortsDrain): Promise<SharedUdpPorts> {
    let pair: UdpPortPair;
    if ('rtpPort' in at) {
      if (at.rtpPort % 2 !== 0) throw new PortPairError('bind', `the shared RTP port must be even, got ${at.rtpPort}`);
      pair = await bindUdpPortPair(host, { min: at.rtpPort, max: at.rtpPort + 1 }).catch((err: unknown) => {
        if (err instanceof PortPairError && err.reason === 'range-full')
          throw new PortPairError('range-full', `UDP ports ${at.rtpPort}-${at.rtpPort + 1} on ${host} are taken`);
        throw err;
      });
    } else {
      pair = await bindUdpPortPair(host, at.range, at.random);
    }
    return new SharedUdpPorts(pair, maxRoutes, drain);
  }

  get rtpPort(): number {
    return this.pair.rtpPort;
  }

  get rtcpPort(): number {
    return this.pair.rtcpPort;
  }

  /** UDP tracks routed now. */
  get routes(): number {
    return this.demux.size;
  }

  get maxRoutes(): number {
    return this.demux.maxRoutes;
  }

  /**
   * The egress of one UDP track towards `ip`:`rtpPort`/`rtcpPort`, its client's datagrams routed
   * to `handlers` until the egress is closed. Throws SharedPortsError when either port of that
   * address is another open track's, or maxRoutes tracks are open.
   */
  open(
    ip: string,
    rtpPort: number,
    rtcpPort: number,
    handlers: SharedUdpHandlers,
    sender: UdpSenderKind = udpSenderKind(),
  ): SharedUdpEgress {
    if (this.closed) throw new SharedPortsError('full', 'the server is closing');
    const addr = plainIp(ip);
    const egress = new SharedUdpEgress(this.pair, this.v4Socket, addr, rtpPort, rtcpPort, handlers, sender, (e) => {
      // What the client sent before its route goes (a last report with its TEARDOWN) is its own.
      this.receivePending();
      this.demux.release(addr, rtpPort, rtcpPort, e);
    });
    const idle = this.demux.size === 0;
    const refused = this.demux.claim(addr, rtpPort, rtcpPort, egress);
    // The first route: reads at the busy period from now, not at the idle one's next.
    if (idle && !refused) this.drain?.soon();
    if (refused === 'taken')
      throw new SharedPortsError('taken', `client ports ${rtpPort}-${rtcpPort} of ${addr} are already another UDP track's`);
    if (refused === 'full')
      throw new SharedPortsError('full', `${this.demux.maxRoutes} UDP tracks are open: the shared port table is full`);
    return egress;
  }

  /** Closes the sockets (the server's end). */
  close(): void {
    this.closed = true;
    this.drain?.close();
    this.pair.close();
  }

  private unknown(socket: 'rtp' | 'rtcp', address: string, port: number): void {
    const n = ++this.stats.unknownSource;
    // First and every 1000th: a flood must not become a flood of log lines.
    if (n === 1 || n % 1000 === 0)
      log.debug('datagram from an unknown source dropped', { socket, from: `${plainIp(address)}:${port}`, count: n });
  }
}

/** An IPv4 address in host order, as the native sender takes it (0 when `ip` is not IPv4). */
export function ipv4Number(ip: string): number {
  if (!net.isIPv4(ip)) return 0;
  const p = ip.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

/**
 * RTP and RTCP of one track to its client from the shared pair (SharedUdpPorts). With the native
 * sender, every datagram joins the wake's batch with its destination: all sessions' datagrams on
 * the shared RTP socket leave in one sendmmsg run. Without it (or for an IPv6 client, which the
 * addon does not address), one dgram send per datagram with the client's address.
 */
export class SharedUdpEgress implements Egress, BatchedSocketOwner {
  readonly kind = 'udp';
  readonly copiesHeader: boolean;
  dropped = 0;
  private readonly batch: UdpBatch | undefined;
  private readonly ip4: number;
  /** The destination as the socket's family writes it. */
  private readonly to: string;
  private readonly rtcpOwner: BatchedSocketOwner;
  private closed = false;
  /** UdpBatch's bookkeeping (BatchedSocketOwner). */
  laneMark = 0;

  /** @internal made by SharedUdpPorts.open */
  constructor(
    private readonly pair: UdpPortPair,
    /** Whether the pair is an IPv4 socket (else IPv6, maybe dual-stack). */
    v4Socket: boolean,
    readonly address: string,
    readonly clientRtpPort: number,
    readonly clientRtcpPort: number,
    readonly handlers: SharedUdpHandlers,
    sender: UdpSenderKind,
    private readonly release: (e: SharedUdpEgress) => void,
  ) {
    this.ip4 = v4Socket ? ipv4Number(address) : 0;
    // An IPv4 client of a dual-stack IPv6 socket is written as an IPv4-mapped address.
    this.to = !v4Socket && net.isIPv4(address) ? `::ffff:${address}` : address;
    const addon = sender === 'native' && this.ip4 !== 0 && dgramFd(pair.rtp) >= 0 ? nativeSendmmsg() : undefined;
    this.batch = addon ? sharedUdpBatch(addon) : undefined;
    this.copiesHeader = this.batch !== undefined;
    this.rtcpOwner = {
      drop: () => this.dropped++,
      liveFd: () => (this.closed ? -1 : dgramFd(this.pair.rtcp)),
      sendSlow: (a) => this.send(this.pair.rtcp, [Buffer.from(a)], this.clientRtcpPort),
      laneMark: 0,
    };
  }

  /** Which sender this egress uses. */
  get sender(): UdpSenderKind {
    return this.batch ? 'native' : 'js';
  }

  sendRtp(header: Buffer, payload: Buffer, lane?: SendLane): void {
    if (this.closed) this.dropped++;
    else if (this.batch) this.batch.add(this, header, payload, this.ip4, this.clientRtpPort, lane);
    else this.send(this.pair.rtp, [header, payload], this.clientRtpPort);
  }

  /**
   * RTCP joins the wake's batch in order (an SR queued before RTP leaves before it): unlike a
   * per-session pair, the shared socket outlives the session, so a BYE need not be flushed at
   * once to beat its socket's close (the route closes after the wake, setImmediate).
   */
  sendRtcp(packet: Buffer): void {
    if (this.closed) this.dropped++;
    else if (this.batch) this.batch.add(this.rtcpOwner, packet, undefined, this.ip4, this.clientRtcpPort);
    else this.send(this.pair.rtcp, [packet], this.clientRtcpPort);
  }

  drop(): void {
    this.dropped++;
  }

  /** The shared RTP socket's descriptor; -1 once this track is closed (what is queued is dropped). */
  liveFd(): number {
    return this.closed ? -1 : dgramFd(this.pair.rtp);
  }

  sendSlow(a: Buffer, b: Buffer | undefined): void {
    this.send(this.pair.rtp, b ? [Buffer.from(a), b] : [Buffer.from(a)], this.clientRtpPort);
  }

  /**
   * The track is done: its client's datagrams are no longer routed to it (its ports are free for
   * another track) and later sends are dropped. What was handed over before still leaves (a BYE).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // The route goes after this turn of the event loop, as a per-session pair's sockets close: a
    // client's last RR sent with its TEARDOWN, read in the same poll, still reaches the session.
    setImmediate(() => this.release(this));
  }

  private send(socket: dgram.Socket, msg: Buffer[], port: number): void {
    try {
      socket.send(msg, port, this.to);
    } catch {
      // The server closed the shared sockets.
      this.dropped++;
    }
  }
}
