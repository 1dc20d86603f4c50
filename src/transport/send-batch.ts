import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { isPlainTcp, openTcpHandle, socketHandle } from './byte-stream.ts';
import { interleavedSenderKind, nativeWritev } from './native-sender.ts';
import type { NativeWritev, SenderKind } from './native-sender.ts';
import type { WakeBatch } from './scheduler.ts';
import { realClock } from '../util/clock.ts';
import type { Clock, TimerHandle } from '../util/clock.ts';
import { grown } from '../util/typed-arrays.ts';

/**
 * Batching per scheduler wake. Everything a synchronous run sends (one scheduler wake: every due
 * stream of every session; or one relayed packet's fan-out to every viewer) is queued and handed to
 * the network at once, right after that run (at the end of the scheduler's wake-up, else in a
 * microtask): the UDP datagrams of all clients in one native call (native sender), and the
 * interleaved connections' frames that are due (InterleavedBatch may hold a connection's frames
 * over a few wakes) in one native call too (one sendmsg per connection), or one Node write per
 * connection without the addon. RTCP flushes at once (after what is queued, so order on each
 * socket holds): a BYE is out before the session closes its sockets.
 */
class WakeFlush implements WakeBatch {
  private readonly pending: (() => void)[] = [];
  private scheduled = false;
  private held = 0;

  /**
   * Runs `flush` after the current synchronous run (once per registration): at release() inside a
   * scheduler wake-up, else in a microtask.
   */
  defer(flush: () => void): void {
    this.pending.push(flush);
    if (!this.scheduled && this.held === 0) {
      this.scheduled = true;
      queueMicrotask(this.run);
    }
  }

  /** A scheduler wake-up begins: what it queues waits for its release(), not for a microtask. */
  hold(): void {
    this.held++;
  }

  /** The wake-up is over: everything it queued, now (unless a microtask is already due to). */
  release(): void {
    if (--this.held === 0 && !this.scheduled && this.pending.length > 0) this.run();
  }

  /** Everything queued, now. */
  readonly run = (): void => {
    this.scheduled = false;
    // A flush may queue more (an error path): the loop takes those too.
    for (let i = 0; i < this.pending.length; i++) this.pending[i]!();
    this.pending.length = 0;
  };
}

export const wakeFlush = new WakeFlush();

/** Largest number of bytes queued in a TCP connection before RTP is dropped instead of buffered. */
export const MAX_INTERLEAVED_BACKLOG_BYTES = 4 * 1024 * 1024;

/** Who counts a frame that could not be written. */
export interface DropCounter {
  dropped: number;
}

/**
 * How long a connection's frames may wait for more before they are written, by default: see
 * InterleavedBatch. 0: written at the end of every wake. STREAMLAB_TCP_HOLD_MS sets it for the
 * process: holding 5 ms added 0.5-1.9 ms of audio jitter at one TCP client and its CPU saving was
 * within the run-to-run noise on a quiet machine (bench/RESULTS.md, "holding TCP frames over wakes").
 */
export const DEFAULT_INTERLEAVED_HOLD_MS = 0;
/** Bytes a connection holds past which its frames are written at the end of the wake (STREAMLAB_TCP_HOLD_BYTES). */
export const DEFAULT_INTERLEAVED_HOLD_BYTES = 32 * 1024;

const NO_BYTES = Buffer.alloc(0);
/** A writer's head buffer past this is let go once its frames are written (a burst grew it). */
const KEEP_HEAD_BYTES = 64 * 1024;

/**
 * The `$` frames (RFC 2326 §10.12) one RTSP connection has queued, from every track of every
 * session on it, until its batch writes them (InterleavedBatch: at the end of a wake once they are
 * old or big enough, or at once for RTCP and before an RTSP answer).
 *
 * Each frame's head (`$`, channel, length) and first part (the RTP header, or a whole RTCP packet)
 * are copied into the writer's own buffer when the frame is queued: a sender reuses its header
 * memory as soon as it is handed over, and a frame is written later. The second
 * part (an RTP payload, shared between sessions and never changed) is kept by reference.
 */
export class InterleavedWriter {
  private static readonly writers = new WeakMap<Duplex, InterleavedWriter>();
  /** Queued frames: who counts its drop. */
  readonly owners: DropCounter[] = [];
  /** Frame k's head and first part are head[k === 0 ? 0 : ends[k - 1], ends[k]). */
  head: Buffer = NO_BYTES;
  readonly ends: number[] = [];
  /** Frame k's second part (may be undefined). */
  readonly payloads: (Buffer | undefined)[] = [];
  /** Bytes queued, frame heads included. */
  bytes = 0;
  /** Holds frames (the batch has been told). */
  queued = false;
  /** In the batch's list of writers holding frames (it may have been written since: see `queued`). */
  listed = false;
  /** When the oldest frame queued now was queued (the batch's clock). */
  since = 0;
  /** Frames, and writes (one per flush with frames, whatever the path), for the bench and tests. */
  readonly stats = { frames: 0, writes: 0 };
  /** A plain TCP socket (not TLS, not an in-process pipe): the native path may write to it. */
  private readonly plain: boolean;
  /** The socket's handle when its descriptor was last read, and that descriptor (-1: none). */
  private handle: unknown;
  private fd = -1;

  private constructor(
    readonly socket: Duplex,
    private readonly batch: InterleavedBatch,
  ) {
    this.plain = isPlainTcp(socket);
  }

  /** The one writer of a connection (the first call chooses its batch: the process's by default). */
  static of(socket: Duplex, batch: InterleavedBatch = defaultInterleavedBatch()): InterleavedWriter {
    let w = InterleavedWriter.writers.get(socket);
    if (!w) {
      w = new InterleavedWriter(socket, batch);
      InterleavedWriter.writers.set(socket, w);
    }
    return w;
  }

  /**
   * Writes the frames `socket` holds, if any, now: called before anything else is written to the
   * connection (an RTSP answer), which must not overtake frames queued before it.
   */
  static flushBefore(socket: Duplex): void {
    const w = InterleavedWriter.writers.get(socket);
    if (w && w.queued) w.flush();
  }

  /**
   * Queues one frame (`a` then `b` as its content). Dropped (owner.dropped + 1) when the connection
   * is closed or more than MAX_INTERLEAVED_BACKLOG_BYTES are waiting (in Node and held here): a
   * stalled reader does not make the server buffer without bound.
   */
  add(owner: DropCounter, channel: number, a: Buffer, b: Buffer | undefined): void {
    const s = this.socket;
    const length = a.length + (b ? b.length : 0);
    if (s.destroyed || !s.writable || s.writableLength + this.bytes > MAX_INTERLEAVED_BACKLOG_BYTES || length > 0xffff) {
      owner.dropped++;
      return;
    }
    let at = this.ends.length === 0 ? 0 : this.ends[this.ends.length - 1]!;
    const end = at + 4 + a.length;
    if (end > this.head.length) this.growHead(end);
    const h = this.head;
    writeHead(h, at, channel, length);
    at += 4;
    if (a.length <= 16) for (let i = 0; i < a.length; i++) h[at + i] = a[i]!;
    else a.copy(h, at);
    this.ends.push(end);
    this.payloads.push(b);
    this.owners.push(owner);
    this.bytes += 4 + length;
    const batch = this.batch;
    if (!batch.scheduled) batch.schedule();
    if (!this.queued) {
      this.queued = true;
      batch.hold(this);
    }
  }

  /** Writes what is queued now (RTCP: after the RTP before it; an RTSP answer: after both). */
  readonly flush = (): void => {
    if (this.queued) this.batch.write([this], 1);
  };

  /**
   * The descriptor the native path may write to now, else -1: a plain TCP socket Node still holds
   * open, with nothing queued in Node (so a native write cannot overtake bytes Node still has to
   * send: an RTSP answer, or the rest of an earlier write's frames).
   */
  nativeFd(): number {
    if (!this.plain) return -1;
    const s = this.socket as net.Socket;
    if (s.destroyed || !s.writable || s.writableLength !== 0 || s.writableCorked !== 0 || s.connecting) return -1;
    const h = socketHandle(s);
    if (h !== this.handle) {
      this.handle = h;
      this.fd = openTcpHandle(h)?.fd ?? -1;
    }
    return this.fd;
  }

  /** The queued frames as one Buffer, from byte `skip` on (the rest of a partial native write). */
  concat(skip = 0): Buffer {
    const out = Buffer.allocUnsafe(this.bytes - skip);
    let at = -skip;
    let start = 0;
    for (let k = 0; k < this.ends.length; k++) {
      const end = this.ends[k]!;
      at = copyFrom(this.head, start, end, out, at);
      const b = this.payloads[k];
      if (b) at = copyFrom(b, 0, b.length, out, at);
      start = end;
    }
    return out;
  }

  /** Forgets the queued frames (written, handed to Node, or dropped). */
  clear(): void {
    this.stats.frames += this.owners.length;
    this.stats.writes++;
    this.forget();
  }

  /** Counts every queued frame as dropped (the connection closed before the flush). */
  dropAll(): void {
    for (const o of this.owners) o.dropped++;
    this.forget();
  }

  private forget(): void {
    this.owners.length = 0;
    this.ends.length = 0;
    this.payloads.length = 0;
    this.bytes = 0;
    this.queued = false;
    if (this.head.length > KEEP_HEAD_BYTES) this.head = NO_BYTES;
  }

  private growHead(end: number): void {
    const head = Buffer.allocUnsafe(Math.max(end, 2 * this.head.length, 256));
    this.head.copy(head, 0, 0, this.ends.length === 0 ? 0 : this.ends[this.ends.length - 1]);
    this.head = head;
  }
}

/** A `$` frame head: magic, channel, length (RFC 2326 §10.12). */
function writeHead(out: Buffer, at: number, channel: number, length: number): void {
  out[at] = 0x24;
  out[at + 1] = channel;
  out[at + 2] = length >>> 8;
  out[at + 3] = length & 0xff;
}

/** Copies src[from, to) into `out` at `at`; the part before out's start (at < 0) is skipped. */
function copyFrom(src: Buffer, from: number, to: number, out: Buffer, at: number): number {
  const length = to - from;
  if (at >= 0) return at + src.copy(out, at, from, to);
  if (at + length > 0) src.copy(out, 0, from - at, to);
  return at + length;
}

/** Linux's EAGAIN, as the addon reports it. */
const EAGAIN = 11;
const INITIAL = 256;

/** When a batch writes a connection's frames (InterleavedBatch). */
export interface InterleavedHold {
  /** Reads the time and runs the batch's one timer. */
  clock: Clock;
  /** A connection's frames are written once the oldest is this old (0: at the end of every wake). */
  holdMs: number;
  /** ...or once it holds this many bytes, whichever comes first. */
  holdBytes: number;
}

/**
 * Interleaved connections' frames, written a few at a time. A connection's frames are held over
 * several wakes and written at the end of the first wake at which the oldest is `holdMs` old or
 * the connection holds `holdBytes`; the batch's one timer (at the oldest frame's deadline) writes
 * them when no wake comes (a stream ended or paused). RTCP (the writer's flush) and RTSP answers
 * (InterleavedWriter.flushBefore) write the connection's frames at once, after what it held, so
 * order on each connection holds. Why: the kernel's cost per `sendmsg` on a TCP socket is most of
 * the cost of a frame when a write carries one or two (bench/RESULTS.md, "Issue 11: holding TCP
 * frames over wakes": why 5 ms and 32 KB).
 *
 * With the native sender (native/sendmmsg.c writeFrames) every connection written together whose
 * Node write queue is empty gets its frames in one sendmsg from one native call for all of them:
 * no copy of the payloads, no Node write request. What the kernel would not take at once (a full
 * socket buffer) is copied and handed to Node's socket.write, which then queues it in order: until
 * it has drained, that connection takes the Node path. TLS connections, in-process pipes and
 * connections with bytes queued in Node take the Node path: the frames copied into one Buffer, one
 * socket.write.
 */
export class InterleavedBatch {
  /** Writers holding frames, in the order they began to (entries whose frames left since are dropped at the next look). */
  private readonly held: InterleavedWriter[] = [];
  /** Writers due, gathered by release(). */
  private readonly due: InterleavedWriter[] = [];
  /** A look is queued at the end of this wake; the time read at the wake's first frame. */
  scheduled = false;
  private wakeNow = 0;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private readonly clock: Clock;
  readonly holdMs: number;
  readonly holdBytes: number;
  private fds = new Int32Array(INITIAL);
  private frames = new Int32Array(INITIAL);
  private status = new Int32Array(2 * INITIAL);
  private ends = new Int32Array(INITIAL);
  private readonly heads: Buffer[] = [];
  private readonly payloads: (Buffer | undefined)[] = [];
  private readonly staged: InterleavedWriter[] = [];
  /**
   * Frames; connection writes by the native call and by socket.write; native calls; rests handed
   * to Node after a partial native write; native writes stopped by an error other than a full
   * socket (the rest then goes to Node, which reports the error its own way); releases by the
   * timer that wrote something (no wake came in time).
   */
  readonly stats = { frames: 0, nativeWrites: 0, nodeWrites: 0, nativeCalls: 0, partial: 0, errors: 0, timerWrites: 0 };

  /**
   * Without `addon` (or an addon without writeFrames), every connection takes the Node path.
   * Without `hold`, frames are not held: written at the end of the wake that queued them.
   */
  constructor(
    private readonly addon: NativeWritev | undefined,
    hold: Partial<InterleavedHold> = {},
  ) {
    this.clock = hold.clock ?? realClock;
    this.holdMs = Math.max(0, hold.holdMs ?? 0);
    this.holdBytes = hold.holdBytes ?? DEFAULT_INTERLEAVED_HOLD_BYTES;
  }

  /** A wake queues frames: the batch looks at what it holds at the end of it. */
  schedule(): void {
    this.scheduled = true;
    this.wakeNow = this.holdMs > 0 ? this.clock.now() : 0;
    wakeFlush.defer(this.flush);
  }

  /** `writer` holds frames from now on (its first since it was last written). */
  hold(writer: InterleavedWriter): void {
    writer.since = this.wakeNow;
    if (!writer.listed) {
      writer.listed = true;
      this.held.push(writer);
    }
  }

  /** The end of a wake: writes the connections that are due. */
  readonly flush = (): void => {
    this.scheduled = false;
    this.release(this.wakeNow);
  };

  /** Frames held now, all connections (for tests and the bench). */
  heldFrames(): number {
    let n = 0;
    for (const w of this.held) if (w.queued) n += w.owners.length;
    return n;
  }

  /** Writes every connection whose oldest frame is `holdMs` old at `now` or that holds `holdBytes`; re-arms the timer for the rest. */
  private release(now: number): number {
    const held = this.held;
    const due = this.due;
    let keep = 0;
    let oldest = Infinity;
    for (let i = 0; i < held.length; i++) {
      const w = held[i]!;
      if (!w.queued) {
        w.listed = false;
      } else if (now - w.since >= this.holdMs || w.bytes >= this.holdBytes) {
        w.listed = false;
        due.push(w);
      } else {
        held[keep++] = w;
        if (w.since < oldest) oldest = w.since;
      }
    }
    held.length = keep;
    const n = due.length;
    if (n > 0) this.write(due, n);
    due.length = 0;
    if (keep > 0) this.arm(oldest + this.holdMs);
    return n;
  }

  /** The one timer, at `at` or before: it only ever moves earlier here (a timer that finds nothing due re-arms). */
  private arm(at: number): void {
    if (this.timer !== undefined && this.timerAt <= at) return;
    this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(this.onTimer, at - this.clock.now());
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.release(this.clock.now()) > 0) this.stats.timerWrites++;
  };

  /** Writes the frames of `list[0, n)` now (writers already written are skipped). */
  write(list: InterleavedWriter[], n: number): void {
    let conns = 0;
    let frames = 0;
    for (let i = 0; i < n; i++) {
      const w = list[i]!;
      if (!w.queued) continue;
      const count = w.owners.length;
      this.stats.frames += count;
      const s = w.socket;
      if (s.destroyed || !s.writable) {
        w.dropAll();
        continue;
      }
      const fd = this.addon ? w.nativeFd() : -1;
      if (fd < 0) {
        s.write(w.concat());
        this.stats.nodeWrites++;
        w.clear();
        continue;
      }
      if (conns === this.fds.length) this.growConnections();
      if (frames + count > this.ends.length) this.growEnds(frames + count);
      this.fds[conns] = fd;
      this.frames[conns] = count;
      this.heads.push(w.head);
      this.staged[conns] = w;
      conns++;
      // Staged: a second entry of the same writer in `list` must not stage its frames again.
      w.queued = false;
      const ends = w.ends;
      for (let k = 0; k < count; k++) {
        this.ends[frames + k] = ends[k]!;
        this.payloads.push(w.payloads[k]);
      }
      frames += count;
    }
    if (conns === 0) return;
    const complete = this.addon!.writeFrames(this.fds, this.frames, this.heads, this.ends, this.payloads, conns, this.status);
    this.stats.nativeCalls++;
    this.stats.nativeWrites += conns;
    for (let c = 0; c < conns; c++) {
      const w = this.staged[c]!;
      if (complete !== conns) {
        const written = this.status[2 * c]!;
        if (written < w.bytes) {
          // The kernel took part (or none) of it: Node queues the rest, in order.
          if (this.status[2 * c + 1] === EAGAIN) this.stats.partial++;
          else this.stats.errors++;
          w.socket.write(w.concat(written));
        }
      }
      w.clear();
    }
    this.heads.length = 0;
    this.payloads.length = 0;
    this.staged.length = 0;
  }

  private growConnections(): void {
    const size = this.fds.length * 2;
    this.fds = grown(this.fds, size);
    this.frames = grown(this.frames, size);
    this.status = new Int32Array(2 * size);
  }

  private growEnds(frames: number): void {
    this.ends = grown(this.ends, Math.max(frames, this.ends.length * 2));
  }
}

/** The process's batches, one per sender kind (setInterleavedSender chooses for new connections). */
const batches: Partial<Record<SenderKind, InterleavedBatch>> = {};

/** A non-negative number from the environment, else `fallback`. */
function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  const n = v === undefined || v === '' ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

/**
 * The batch new interleaved connections use: native when the addon loaded and the sender is
 * native; frames held up to STREAMLAB_TCP_HOLD_MS (default DEFAULT_INTERLEAVED_HOLD_MS) or
 * STREAMLAB_TCP_HOLD_BYTES (default DEFAULT_INTERLEAVED_HOLD_BYTES).
 */
export function defaultInterleavedBatch(): InterleavedBatch {
  const kind = interleavedSenderKind();
  let batch = batches[kind];
  if (!batch) {
    const addon = kind === 'native' ? nativeWritev() : undefined;
    batch = new InterleavedBatch(addon, {
      clock: realClock,
      holdMs: envNumber('STREAMLAB_TCP_HOLD_MS', DEFAULT_INTERLEAVED_HOLD_MS),
      holdBytes: envNumber('STREAMLAB_TCP_HOLD_BYTES', DEFAULT_INTERLEAVED_HOLD_BYTES),
    });
    batches[kind] = batch;
  }
  return batch;
}

/** The batches' counters summed (undefined before any interleaved connection used one). */
export function interleavedBatchStats(): InterleavedBatch['stats'] | undefined {
  const all = Object.values(batches);
  if (all.length === 0) return undefined;
  const sum = { frames: 0, nativeWrites: 0, nodeWrites: 0, nativeCalls: 0, partial: 0, errors: 0, timerWrites: 0 };
  for (const b of all) for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += b.stats[k];
  return sum;
}
