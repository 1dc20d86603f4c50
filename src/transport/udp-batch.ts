import type dgram from 'node:dgram';
import { NATIVE_HEAD_SLOT } from './native-sender.ts';
import type { NativeSendmmsg } from './native-sender.ts';
import { wakeFlush } from './send-batch.ts';
import { grown } from '../util/typed-arrays.ts';

/** What a queued datagram needs of its egress: its socket's descriptor while open, a slow path, a drop count. */
export interface BatchedSocketOwner {
  /** Counts a datagram the kernel refused (or whose socket was closed before the flush). */
  drop(): void;
  /** The descriptor, or -1 when Node has closed the socket (checked at every flush: never a stale fd). */
  liveFd(): number;
  /** Sends one datagram through Node (which queues it when the socket is full). */
  sendSlow(a: Buffer, b: Buffer | undefined): void;
  /** The batch's own bookkeeping: the mark of the lane and wake it last queued in (start at 0). */
  laneMark: number;
}

/** Marks of lanes' wakes, unique in the process (BatchedSocketOwner.laneMark). */
let nextLaneMark = 0;

const INITIAL = 1024;

/** The arrays a lane's datagrams are regrouped into (LaneQueue.groupByOwner). */
interface Spare {
  dests: Uint32Array;
  heads: Buffer;
  headLengths: Int32Array;
  bodies: (Buffer | undefined)[];
  owners: (BatchedSocketOwner | undefined)[];
}

/**
 * Which datagrams of a wake leave first: `urgent` ones (audio: a packet every 20 ms or so, whose
 * jitter a listener hears and which a player's buffer is smallest for) before `bulk` ones (video:
 * a frame is a burst of packets, to every viewer). At 400 viewers a video packet's fan-out is
 * ~0.8 ms of the kernel's sending; an audio packet due in the same wake would wait behind it.
 */
export type SendLane = 'urgent' | 'bulk';

/** One lane's datagrams: what the native call takes, in the order they were queued (until grouped). */
class LaneQueue {
  fds = new Int32Array(INITIAL);
  /** IPv4 address (host order) and port of each datagram; port 0 on a connected socket. */
  dests: Uint32Array = new Uint32Array(2 * INITIAL);
  status = new Int32Array(INITIAL);
  /**
   * Each datagram's head (its RTP header), copied here: NATIVE_HEAD_SLOT bytes per datagram, so the
   * addon looks up one Buffer per datagram (the payload) instead of two.
   */
  heads: Buffer = Buffer.allocUnsafeSlow(NATIVE_HEAD_SLOT * INITIAL);
  headLengths: Int32Array = new Int32Array(INITIAL);
  /** What follows each datagram's head (its payload, or the whole datagram when it has no head). */
  bodies: (Buffer | undefined)[] = [];
  owners: (BatchedSocketOwner | undefined)[] = [];
  count = 0;
  /** This lane's mark for the wake being queued, the owner that queued last, and whether an owner queued again after another. */
  private mark = ++nextLaneMark;
  private lastOwner: BatchedSocketOwner | undefined;
  interleaved = false;
  /** groupByOwner's working memory: each owner's group, each datagram's group and new place, where each group starts, the arrays it fills. */
  private readonly groups = new Map<BatchedSocketOwner, number>();
  private groupOf = new Int32Array(0);
  private target = new Int32Array(0);
  private starts = new Int32Array(0);
  private spare: Spare | undefined;

  push(owner: BatchedSocketOwner, a: Buffer, b: Buffer | undefined, ip4: number, port: number): void {
    const i = this.count;
    if (i === this.fds.length) this.grow();
    if (owner !== this.lastOwner) {
      // The owner is at hand (it is sending): marking it here spares the flush a lookup per owner.
      if (owner.laneMark === this.mark) this.interleaved = true;
      else owner.laneMark = this.mark;
      this.lastOwner = owner;
    }
    this.owners[i] = owner;
    this.dests[2 * i] = ip4;
    this.dests[2 * i + 1] = port;
    const n = a.length;
    if (n <= NATIVE_HEAD_SLOT) {
      const heads = this.heads;
      const at = NATIVE_HEAD_SLOT * i;
      for (let k = 0; k < n; k++) heads[at + k] = a[k]!;
      this.headLengths[i] = n;
      this.bodies[i] = b;
    } else {
      // No head: an RTCP packet (b undefined), or a long first part joined to the second (rare).
      this.headLengths[i] = 0;
      this.bodies[i] = b ? Buffer.concat([a, b]) : a;
    }
    this.count = i + 1;
  }

  /**
   * Puts each owner's datagrams together, in the order the owners first queued and each owner's
   * in the order it queued them, when some owner's are apart (a live track's fan-out queues a
   * video frame packet by packet, each to every viewer): a viewer's fragments of a frame then
   * leave back to back, which the native sender segments as one message (UDP GSO) instead of
   * routing and allocating each on its own. Only runs of RTP datagrams (with a head) are
   * regrouped: an RTCP packet keeps its place among the others, so an SR queued before a stream's
   * first RTP packet, or a BYE after its last, leaves in that order. Order between owners is not
   * kept otherwise: each is one client's stream. Returns whether anything moved.
   */
  groupByOwner(): boolean {
    const n = this.count;
    if (this.target.length < n) {
      this.target = new Int32Array(this.fds.length);
      this.groupOf = new Int32Array(this.fds.length);
    }
    const { target, groupOf, groups, headLengths } = this;
    let moved = false;
    for (let s = 0; s < n;) {
      if (headLengths[s] === 0) {
        target[s] = s;
        s++;
        continue;
      }
      // The run [s, e) of datagrams with a head: each owner's group, in order of first appearance.
      let e = s;
      let last: BatchedSocketOwner | undefined;
      let g = 0;
      let interleaved = false;
      for (; e < n && headLengths[e] !== 0; e++) {
        const o = this.owners[e]!;
        if (o !== last) {
          last = o;
          const k = groups.get(o);
          if (k === undefined) {
            g = groups.size;
            groups.set(o, g);
          } else {
            g = k;
            interleaved = true;
          }
        }
        groupOf[e] = g;
      }
      const owners = groups.size;
      groups.clear();
      if (interleaved) {
        // A counting sort (stable): where each group starts, then each datagram's place.
        if (this.starts.length < owners + 1) this.starts = new Int32Array(Math.max(owners + 1, 2 * this.starts.length));
        const starts = this.starts;
        starts.fill(0, 0, owners + 1);
        for (let i = s; i < e; i++) starts[groupOf[i]! + 1]!++;
        starts[0] = s;
        for (let k = 0; k < owners; k++) starts[k + 1]! += starts[k]!;
        for (let i = s; i < e; i++) target[i] = starts[groupOf[i]!]!++;
        moved = true;
      } else for (let i = s; i < e; i++) target[i] = i;
      s = e;
    }
    if (moved) this.permute(target, n);
    return moved;
  }

  /** Moves datagram i to place target[i], for i < n (through the spare arrays, which are then swapped in). */
  private permute(target: Int32Array, n: number): void {
    const spare = this.spareFor(this.fds.length);
    const { dests, heads, headLengths, bodies, owners } = this;
    for (let i = 0; i < n; i++) {
      const j = target[i]!;
      spare.dests[2 * j] = dests[2 * i]!;
      spare.dests[2 * j + 1] = dests[2 * i + 1]!;
      const length = headLengths[i]!;
      const from = NATIVE_HEAD_SLOT * i;
      const to = NATIVE_HEAD_SLOT * j;
      for (let k = 0; k < length; k++) spare.heads[to + k] = heads[from + k]!;
      spare.headLengths[j] = length;
      spare.bodies[j] = bodies[i];
      spare.owners[j] = owners[i];
    }
    // The spare arrays become the lane's, and the lane's the spare ones (let go of their references).
    [this.dests, spare.dests] = [spare.dests, dests];
    [this.heads, spare.heads] = [spare.heads, heads];
    [this.headLengths, spare.headLengths] = [spare.headLengths, headLengths];
    [this.bodies, spare.bodies] = [spare.bodies, bodies];
    [this.owners, spare.owners] = [spare.owners, owners];
    for (let i = 0; i < n; i++) {
      bodies[i] = undefined;
      owners[i] = undefined;
    }
  }

  /** The wake's datagrams are taken: the next ones are a new wake's. */
  reset(): void {
    this.count = 0;
    this.mark = ++nextLaneMark;
    this.lastOwner = undefined;
    this.interleaved = false;
  }

  /** The spare arrays grouping writes into, at least `size` long. */
  private spareFor(size: number): Spare {
    const s = this.spare;
    if (s && s.headLengths.length >= size) return s;
    this.spare = {
      dests: new Uint32Array(2 * size),
      heads: Buffer.allocUnsafeSlow(NATIVE_HEAD_SLOT * size),
      headLengths: new Int32Array(size),
      bodies: [],
      owners: [],
    };
    return this.spare;
  }

  private grow(): void {
    const size = this.fds.length * 2;
    const heads = Buffer.allocUnsafeSlow(NATIVE_HEAD_SLOT * size);
    this.heads.copy(heads);
    this.heads = heads;
    this.fds = grown(this.fds, size);
    this.dests = grown(this.dests, 2 * size);
    this.headLengths = grown(this.headLengths, size);
    this.status = new Int32Array(size);
  }
}

/**
 * Every UDP datagram the native sender's egresses send in one wake, handed to the kernel in one
 * call per lane (sendmmsg per run of datagrams on the same socket, native/sendmmsg.c), the urgent
 * lane first, each egress's datagrams together (LaneQueue.groupByOwner). Datagrams the kernel would not take at once (socket full) go through Node's own
 * queue, in order; errors (an ICMP port unreachable reported back, ...) are counted as drops of
 * their egress.
 */
export class UdpBatch {
  private readonly urgent = new LaneQueue();
  private readonly bulk = new LaneQueue();
  private queued = false;
  /**
   * Datagrams, native calls, runs of datagrams on one socket (one sendmmsg each, up to 256
   * datagrams: per-session pairs make one per session, the shared pair one per wake and lane),
   * calls whose datagrams were regrouped by owner, datagrams sent the slow way, errors; for the
   * bench and tests.
   */
  readonly stats = { datagrams: 0, flushes: 0, runs: 0, grouped: 0, slow: 0, errors: 0 };

  constructor(private readonly addon: NativeSendmmsg) {}

  /**
   * Queues one datagram (`a` then `b`) on `owner`'s socket: to `ip4`:`port` (ip4 in host order,
   * an unconnected socket) or, with port 0, to where the socket is connected. `a` is copied at
   * once when it is a header (up to NATIVE_HEAD_SLOT bytes); `b` is read at the flush. Within a
   * lane, an owner's datagrams leave in the order they were queued, and owners in the order they
   * first queued (an owner's datagrams are sent together).
   */
  add(owner: BatchedSocketOwner, a: Buffer, b: Buffer | undefined, ip4 = 0, port = 0, lane: SendLane = 'bulk'): void {
    (lane === 'urgent' ? this.urgent : this.bulk).push(owner, a, b, ip4, port);
    if (!this.queued) {
      this.queued = true;
      wakeFlush.defer(this.flush);
    }
  }

  readonly flush = (): void => {
    this.queued = false;
    this.send(this.urgent);
    this.send(this.bulk);
  };

  private send(q: LaneQueue): void {
    const n = q.count;
    if (n === 0) return;
    if (q.interleaved && q.groupByOwner()) this.stats.grouped++;
    q.reset();
    const fds = q.fds;
    let last: BatchedSocketOwner | undefined;
    let fd = -1;
    let runs = 0;
    for (let i = 0; i < n; i++) {
      const o = q.owners[i]!;
      if (o !== last) {
        last = o;
        const next = o.liveFd();
        if (next !== fd || i === 0) runs++;
        fd = next;
      }
      fds[i] = fd;
    }
    this.stats.runs += runs;
    const sent = this.addon.send(fds, q.heads, q.headLengths, q.bodies, q.dests, n, q.status);
    this.stats.datagrams += n;
    this.stats.flushes++;
    if (sent !== n) {
      for (let i = 0; i < n; i++) {
        const e = q.status[i]!;
        if (e === 0) continue;
        const o = q.owners[i]!;
        if (e === EAGAIN && fds[i]! >= 0) {
          this.stats.slow++;
          const length = q.headLengths[i]!;
          const body = q.bodies[i];
          if (length === 0) o.sendSlow(body!, undefined);
          else o.sendSlow(Buffer.from(q.heads.subarray(NATIVE_HEAD_SLOT * i, NATIVE_HEAD_SLOT * i + length)), body);
        } else {
          this.stats.errors++;
          o.drop();
        }
      }
    }
    // Let the payloads and owners go (shared, but a closed session's must not be held here). A
    // loop of stores: fill() and a length of 0 each went through V8's runtime at every flush.
    const { bodies, owners } = q;
    for (let i = 0; i < n; i++) {
      bodies[i] = undefined;
      owners[i] = undefined;
    }
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

interface DgramHandle {
  fd?: number;
  recvStop?: () => number;
}

function dgramHandle(socket: dgram.Socket): DgramHandle | undefined {
  stateSymbol ??= Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  if (!stateSymbol) return undefined;
  return (socket as unknown as Record<symbol, { handle: DgramHandle | null } | undefined>)[stateSymbol]?.handle ?? undefined;
}

/** The socket's descriptor while Node holds it open, else -1. */
export function dgramFd(socket: dgram.Socket): number {
  const fd = dgramHandle(socket)?.fd;
  return typeof fd === 'number' ? fd : -1;
}

/**
 * Stops Node's reading of a bound socket (its handle's recvStop: libuv no longer polls the
 * descriptor and no 'message' comes), so that another reader takes its datagrams. False when
 * this Node has no such handle: Node goes on reading.
 */
export function dgramStopReading(socket: dgram.Socket): boolean {
  const handle = dgramHandle(socket);
  if (typeof handle?.recvStop !== 'function') return false;
  return handle.recvStop() === 0;
}
