import type dgram from 'node:dgram';
import type { Clock } from '../util/clock.ts';
import { createLogger } from '../util/log.ts';
import { nativeSendmmsg } from './native-sender.ts';
import type { ScheduledTask, Scheduler } from './scheduler.ts';
import { dgramFd, dgramStopReading } from './udp-batch.ts';

const log = createLogger('udp');

/** The addon's batched reader (native/recvmmsg.c has the contract); absent from an older build. */
export interface NativeRecv {
  receiveTimestamps(fd: number): boolean;
  recvBatch(fd: number, arena: Buffer, slotBytes: number, meta: Float64Array): number;
}

/**
 * Bytes of a datagram's slot: a longer one is cut by the kernel, dropped and counted (`cut`). A
 * client's compound RTCP packet is a few hundred bytes at most (RFC 3550 keeps compounds within
 * the path MTU).
 */
export const DRAIN_SLOT_BYTES = 2048;
/** Datagrams per recvmmsg call (MAX_BATCH in native/recvmmsg.c). */
const BATCH = 64;
/**
 * Calls per run at most (1,024 datagrams): what is queued beyond stays in the socket's buffer
 * (bounded by the kernel, which drops and counts what does not fit) for the next run, a
 * millisecond later.
 */
const MAX_CALLS_PER_RUN = 16;

/** A datagram read: its bytes (a copy), source, and the wall-clock time the kernel received it. */
export type DrainedDatagram = (msg: Buffer, ip: string, port: number, arrivalWallMs: number) => void;

/** Dotted IPv4 from host order. */
function ipv4String(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/**
 * A UDP socket read in batches at the scheduler's wake-ups rather than by the event loop: Node
 * stops polling it, and every `periodMs()` a lazy task (Scheduler.scheduleLazy: it joins a
 * wake-up the streams cause anyway, and wakes the scheduler itself only LAZY_SLACK_MS later when
 * none came) reads what the kernel queued meanwhile with recvmmsg. Each datagram carries the
 * kernel's arrival stamp (SO_TIMESTAMPNS), so the time it is handed on with is when it came, not
 * when it was read: an RTCP receiver report's round trip stays exact. For the server's shared RTCP
 * socket, where a wake-up of the loop per receiver report cost ~30 µs of CPU (bench, issue 11).
 * Only on the real clock: the stamps are the kernel's real time. Linux turns its receive stamping
 * on lazily (a work item after the first socket asks); until it runs, a datagram is stamped when
 * it is read, so the first reports after the server starts may carry their read time.
 */
export class DatagramDrain implements ScheduledTask {
  readonly stats = { runs: 0, datagrams: 0, cut: 0, errors: 0 };
  private readonly arena = Buffer.allocUnsafe(BATCH * DRAIN_SLOT_BYTES);
  private readonly meta = new Float64Array(BATCH * 4);
  private closed = false;
  /** A read in progress: a handler that asks for one (a session it ends) gets the rest from it. */
  private reading = false;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly fd: number,
    private readonly addon: NativeRecv,
    private readonly scheduler: Scheduler,
    private readonly clock: Clock,
    private readonly periodMs: () => number,
    private readonly onDatagram: DrainedDatagram,
  ) {}

  /**
   * Takes `socket` (bound, IPv4) over from Node and starts reading it; undefined, Node reading
   * on, when the addon has no batched reader, the socket is not IPv4, or `STREAMLAB_UDP_DRAIN=0`.
   */
  static open(
    socket: dgram.Socket,
    scheduler: Scheduler,
    clock: Clock,
    periodMs: () => number,
    onDatagram: DrainedDatagram,
  ): DatagramDrain | undefined {
    if (process.env.STREAMLAB_UDP_DRAIN === '0') return undefined;
    const addon = nativeSendmmsg() as Partial<NativeRecv> | undefined;
    if (typeof addon?.recvBatch !== 'function' || typeof addon.receiveTimestamps !== 'function') return undefined;
    const fd = dgramFd(socket);
    if (fd < 0 || socket.address().family !== 'IPv4') return undefined;
    if (!dgramStopReading(socket)) return undefined;
    if (!addon.receiveTimestamps(fd)) log.warn('no kernel arrival stamps: RTCP arrival times are when the server read them');
    const drain = new DatagramDrain(socket, fd, addon as NativeRecv, scheduler, clock, periodMs, onDatagram);
    drain.soon();
    return drain;
  }

  /** The next read `periodMs()` from now. */
  soon(): void {
    if (this.closed) return;
    this.scheduler.scheduleLazy(this, this.clock.now() + this.periodMs());
  }

  run(nowMs: number): number {
    if (this.closed) return Infinity;
    this.stats.runs++;
    return this.read() ? nowMs + 1 : nowMs + this.periodMs();
  }

  /**
   * Reads what is queued now (outside the schedule too: before a route closes, so that a
   * client's last report, sent with its TEARDOWN, still reaches its session). True when it
   * stopped at MAX_CALLS_PER_RUN with more perhaps queued.
   */
  read(): boolean {
    // A descriptor Node closed (or gave to another socket) is never read.
    if (this.closed || this.reading || dgramFd(this.socket) !== this.fd) return false;
    this.reading = true;
    try {
      return this.readBatches();
    } finally {
      this.reading = false;
    }
  }

  private readBatches(): boolean {
    const { arena, meta } = this;
    for (let call = 0; call < MAX_CALLS_PER_RUN; call++) {
      const n = this.addon.recvBatch(this.fd, arena, DRAIN_SLOT_BYTES, meta);
      if (n < 0) {
        if (this.stats.errors++ === 0) log.warn('reading the UDP socket failed', { errno: -n });
        return false;
      }
      if (n === 0) return false;
      const wall = this.clock.wallNow();
      for (let i = 0; i < n; i++) {
        const length = meta[4 * i]!;
        if (length < 0) {
          // First and every 1000th: a flood must not become a flood of log lines.
          const cut = ++this.stats.cut;
          if (cut === 1 || cut % 1000 === 0) log.warn('datagram longer than a slot dropped', { slotBytes: DRAIN_SLOT_BYTES, count: cut });
          continue;
        }
        this.stats.datagrams++;
        const msg = Buffer.allocUnsafe(length);
        arena.copy(msg, 0, i * DRAIN_SLOT_BYTES, i * DRAIN_SLOT_BYTES + length);
        this.onDatagram(msg, ipv4String(meta[4 * i + 1]!), meta[4 * i + 2]!, wall - meta[4 * i + 3]!);
      }
      if (n < BATCH) return false;
    }
    return true;
  }

  close(): void {
    this.closed = true;
    this.scheduler.remove(this);
  }
}
