import type dgram from 'node:dgram';
import type { NativeSendmmsg } from './native-sender.ts';
import { wakeFlush } from './send-batch.ts';

/** What a queued datagram needs of its egress: its socket's descriptor while open, a slow path, a drop count. */
export interface BatchedSocketOwner {
  /** Counts a datagram the kernel refused (or whose socket was closed before the flush). */
  drop(): void;
  /** The descriptor, or -1 when Node has closed the socket (checked at every flush: never a stale fd). */
  liveFd(): number;
  /** Sends one datagram through Node (which queues it when the socket is full). */
  sendSlow(a: Buffer, b: Buffer | undefined): void;
}

const INITIAL = 1024;

/**
 * Every UDP datagram the native sender's egresses send in one wake, handed to the kernel in one
 * call (sendmmsg per run of datagrams on the same socket, native/sendmmsg.c). Datagrams the kernel
 * would not take at once (socket full) go through Node's own queue, in order; errors (an ICMP port
 * unreachable reported back, ...) are counted as drops of their egress.
 */
export class UdpBatch {
  private fds = new Int32Array(INITIAL);
  private status = new Int32Array(INITIAL);
  private readonly bufs: (Buffer | undefined)[] = [];
  private readonly owners: BatchedSocketOwner[] = [];
  private count = 0;
  private queued = false;
  /** Datagrams, native calls and datagrams sent the slow way, for the bench and tests. */
  readonly stats = { datagrams: 0, flushes: 0, slow: 0, errors: 0 };

  constructor(private readonly addon: NativeSendmmsg) {}

  add(owner: BatchedSocketOwner, a: Buffer, b: Buffer | undefined): void {
    const i = this.count;
    if (i === this.fds.length) this.grow();
    this.owners[i] = owner;
    this.bufs[2 * i] = a;
    this.bufs[2 * i + 1] = b;
    this.count = i + 1;
    if (!this.queued) {
      this.queued = true;
      wakeFlush.defer(this.flush);
    }
  }

  readonly flush = (): void => {
    this.queued = false;
    const n = this.count;
    if (n === 0) return;
    this.count = 0;
    const fds = this.fds;
    let last: BatchedSocketOwner | undefined;
    let fd = -1;
    for (let i = 0; i < n; i++) {
      const o = this.owners[i]!;
      if (o !== last) {
        last = o;
        fd = o.liveFd();
      }
      fds[i] = fd;
    }
    const sent = this.addon.send(fds, this.bufs, null, n, this.status);
    this.stats.datagrams += n;
    this.stats.flushes++;
    if (sent !== n) {
      for (let i = 0; i < n; i++) {
        const e = this.status[i]!;
        if (e === 0) continue;
        const o = this.owners[i]!;
        if (e === EAGAIN && fds[i]! >= 0) {
          this.stats.slow++;
          o.sendSlow(this.bufs[2 * i]!, this.bufs[2 * i + 1]);
        } else {
          this.stats.errors++;
          o.drop();
        }
      }
    }
    // Let the payloads go (they are shared, but a closed session's must not be held here).
    this.bufs.fill(undefined, 0, 2 * n);
    this.owners.length = 0;
  };

  private grow(): void {
    const size = this.fds.length * 2;
    this.fds = new Int32Array(size);
    this.status = new Int32Array(size);
  }
}

/** Linux's EAGAIN, as the addon reports it. */
const EAGAIN = 11;

let shared: UdpBatch | undefined;

/** The process's one batch (the native sender's), made on first use. */
export function sharedUdpBatch(addon: NativeSendmmsg): UdpBatch {
  shared ??= new UdpBatch(addon);
  return shared;
}

/** The native batch's counters (undefined before any egress used it). */
export function udpBatchStats(): UdpBatch['stats'] | undefined {
  return shared?.stats;
}

/** The state symbol Node's dgram keeps its handle under (its descriptor is `handle.fd`). */
let stateSymbol: symbol | undefined;

/** The socket's descriptor while Node holds it open, else -1. */
export function dgramFd(socket: dgram.Socket): number {
  stateSymbol ??= Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  if (!stateSymbol) return -1;
  const state = (socket as unknown as Record<symbol, { handle: { fd?: number } | null } | undefined>)[stateSymbol];
  const fd = state?.handle?.fd;
  return typeof fd === 'number' ? fd : -1;
}
