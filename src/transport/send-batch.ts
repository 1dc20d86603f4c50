import net from 'node:net';
import type { Duplex } from 'node:stream';
import { interleavedSenderKind, nativeWritev } from './native-sender.ts';
import type { NativeWritev, SenderKind } from './native-sender.ts';
import type { WakeBatch } from './scheduler.ts';

/**
 * Batching per scheduler wake. Everything a synchronous run sends (one scheduler wake: every due
 * stream of every session; or one relayed packet's fan-out to every viewer) is queued and handed to
 * the network at once, in a microtask right after that run: the UDP datagrams of all clients in one
 * native call (native sender), and every interleaved connection's frames in one native call too
 * (one sendmsg per connection), or one Node write per connection without the addon. RTCP flushes
 * at once (after what is queued, so order on each socket holds): a BYE is out before the session
 * closes its sockets.
 */
class WakeFlush implements WakeBatch {
  private readonly pending: (() => void)[] = [];
  private scheduled = false;
  private held = 0;
  /** Counts flushes: memory handed out for a packet is free again once the epoch has moved on. */
  epoch = 0;

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
    this.epoch++;
    // A flush may queue more (an error path): the loop takes those too.
    for (let i = 0; i < this.pending.length; i++) this.pending[i]!();
    this.pending.length = 0;
  };
}

export const wakeFlush = new WakeFlush();

/**
 * The flush epoch: a packet header handed to an egress that copies headers (Egress.copiesHeader)
 * may be reused once this has changed.
 */
export function sendEpoch(): number {
  return wakeFlush.epoch;
}

/** Largest number of bytes queued in a TCP connection before RTP is dropped instead of buffered. */
export const MAX_INTERLEAVED_BACKLOG_BYTES = 4 * 1024 * 1024;

/** Who counts a frame that could not be written. */
export interface DropCounter {
  dropped: number;
}

/** What a plain TCP socket keeps of its libuv handle: the descriptor (null once Node closed it). */
type SocketWithHandle = net.Socket & { _handle?: { fd?: number } | null };

/**
 * The `$` frames (RFC 2326 §10.12) one RTSP connection gets in one wake, from every track of every
 * session on it, written at once at the end of the wake (InterleavedBatch): one write per
 * connection per wake instead of cork + three writes + uncork per packet.
 */
export class InterleavedWriter {
  private static readonly writers = new WeakMap<Duplex, InterleavedWriter>();
  /** Queued frames: who counts its drop, its channel, its two parts (the second may be undefined). */
  readonly owners: DropCounter[] = [];
  readonly channels: number[] = [];
  readonly parts: (Buffer | undefined)[] = [];
  /** Bytes queued, frame heads included. */
  bytes = 0;
  /** In the batch's list for this wake. */
  queued = false;
  /** Frames, and writes (one per flush with frames, whatever the path), for the bench and tests. */
  readonly stats = { frames: 0, writes: 0 };
  /** A plain TCP socket (not TLS, not an in-process pipe): the native path may write to it. */
  private readonly plain: boolean;
  /** The socket's handle when its descriptor was last read, and that descriptor (-1: none). */
  private handle: object | null | undefined;
  private fd = -1;

  private constructor(
    readonly socket: Duplex,
    private readonly batch: InterleavedBatch,
  ) {
    this.plain = socket instanceof net.Socket && !(socket as net.Socket & { encrypted?: boolean }).encrypted;
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
   * Queues one frame (`a` then `b` as its content). Dropped (owner.dropped + 1) when the connection
   * is closed or more than MAX_INTERLEAVED_BACKLOG_BYTES are waiting: a stalled reader does not
   * make the server buffer without bound.
   */
  add(owner: DropCounter, channel: number, a: Buffer, b: Buffer | undefined): void {
    const s = this.socket;
    const length = a.length + (b ? b.length : 0);
    if (s.destroyed || !s.writable || s.writableLength + this.bytes > MAX_INTERLEAVED_BACKLOG_BYTES || length > 0xffff) {
      owner.dropped++;
      return;
    }
    this.owners.push(owner);
    this.channels.push(channel);
    this.parts.push(a, b);
    this.bytes += 4 + length;
    if (!this.queued) {
      this.queued = true;
      this.batch.enqueue(this);
    }
  }

  /** Writes what is queued now (RTCP: after the RTP before it). */
  readonly flush = (): void => {
    if (this.queued) this.batch.write([this], 1);
  };

  /**
   * The descriptor the native path may write to now, else -1: a plain TCP socket Node still holds
   * open, with nothing queued in Node (so a native write cannot overtake bytes Node still has to
   * send: an RTSP answer, or the rest of an earlier wake's frames).
   */
  nativeFd(): number {
    if (!this.plain) return -1;
    const s = this.socket as SocketWithHandle;
    if (s.destroyed || !s.writable || s.writableLength !== 0 || s.writableCorked !== 0 || s.connecting) return -1;
    const h = s._handle;
    if (h !== this.handle) {
      // A libuv TCP handle only (a TLS socket's TLSWrap shows the descriptor too, but what goes
      // on that wire must be encrypted). Node closes the descriptor only with the handle.
      this.handle = h;
      this.fd = h && h.constructor.name === 'TCP' && typeof h.fd === 'number' && h.fd >= 0 ? h.fd : -1;
    }
    return this.fd;
  }

  /** The queued frames as one Buffer (heads written in front of each), from byte `skip` on (the rest of a partial native write). */
  concat(skip = 0): Buffer {
    const out = Buffer.allocUnsafe(this.bytes - skip);
    const n = this.owners.length;
    let at = 0;
    let i = 0;
    if (skip > 0) {
      // Whole frames already written, then the rest of the one the kernel stopped in.
      const head = Buffer.allocUnsafe(4);
      let from = -skip;
      for (; i < n && from < 0; i++) {
        const a = this.parts[2 * i]!;
        const b = this.parts[2 * i + 1];
        writeHead(head, 0, this.channels[i]!, a.length + (b ? b.length : 0));
        from = copyFrom(head, out, from);
        from = copyFrom(a, out, from);
        if (b) from = copyFrom(b, out, from);
      }
      at = from;
    }
    for (; i < n; i++) {
      const a = this.parts[2 * i]!;
      const b = this.parts[2 * i + 1];
      writeHead(out, at, this.channels[i]!, a.length + (b ? b.length : 0));
      at += 4;
      at += a.copy(out, at);
      if (b) at += b.copy(out, at);
    }
    return out;
  }

  /** Forgets the queued frames (written, handed to Node, or dropped). */
  clear(): void {
    this.stats.frames += this.owners.length;
    this.stats.writes++;
    this.owners.length = 0;
    this.channels.length = 0;
    this.parts.length = 0;
    this.bytes = 0;
    this.queued = false;
  }

  /** Counts every queued frame as dropped (the connection closed before the flush). */
  dropAll(): void {
    for (const o of this.owners) o.dropped++;
    this.owners.length = 0;
    this.channels.length = 0;
    this.parts.length = 0;
    this.bytes = 0;
    this.queued = false;
  }
}

/** A `$` frame head: magic, channel, length (RFC 2326 §10.12). */
function writeHead(out: Buffer, at: number, channel: number, length: number): void {
  out[at] = 0x24;
  out[at + 1] = channel;
  out[at + 2] = length >>> 8;
  out[at + 3] = length & 0xff;
}

/** Copies `src` into `out` at `at`; the part of `src` before out's start (at < 0) is skipped. */
function copyFrom(src: Buffer, out: Buffer, at: number): number {
  if (at >= 0) return at + src.copy(out, at);
  if (at + src.length > 0) src.copy(out, 0, -at);
  return at + src.length;
}

/** Linux's EAGAIN, as the addon reports it. */
const EAGAIN = 11;
const INITIAL = 256;

/**
 * Every interleaved connection's frames of one wake, written at the end of the wake. With the
 * native sender (native/sendmmsg.c writev) every connection whose Node write queue is empty gets
 * its frames in one sendmsg from one native call for all of them: no copy (the frame heads come
 * from one buffer of the batch, the packets are gathered where they are), no Node write request.
 * What the kernel would not take at once (a full socket buffer) is copied and handed to Node's
 * socket.write, which then queues it in order: until it has drained, that connection takes the
 * Node path. TLS connections, in-process pipes and connections with bytes queued in Node take the
 * Node path: the frames copied into one Buffer, one socket.write.
 */
export class InterleavedBatch {
  private readonly writers: InterleavedWriter[] = [];
  private queued = false;
  private fds = new Int32Array(INITIAL);
  private frames = new Int32Array(INITIAL);
  private status = new Int32Array(2 * INITIAL);
  private heads = Buffer.allocUnsafe(4 * INITIAL);
  private readonly parts: (Buffer | undefined)[] = [];
  private readonly staged: InterleavedWriter[] = [];
  /**
   * Frames; connection writes by the native call and by socket.write; native calls; rests handed
   * to Node after a partial native write; native writes stopped by an error other than a full
   * socket (the rest then goes to Node, which reports the error its own way).
   */
  readonly stats = { frames: 0, nativeWrites: 0, nodeWrites: 0, nativeCalls: 0, partial: 0, errors: 0 };

  /** Without `addon` (or an addon without writev), every connection takes the Node path. */
  constructor(private readonly addon: NativeWritev | undefined) {}

  /** Writes `writer`'s frames at the end of this wake. */
  enqueue(writer: InterleavedWriter): void {
    this.writers.push(writer);
    if (!this.queued) {
      this.queued = true;
      wakeFlush.defer(this.flush);
    }
  }

  readonly flush = (): void => {
    this.queued = false;
    const n = this.writers.length;
    if (n === 0) return;
    this.write(this.writers, n);
    this.writers.length = 0;
  };

  /** Writes the frames of `list[0, n)` (writers already written this wake are skipped). */
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
      if (4 * (frames + count) > this.heads.length) this.growHeads(frames + count);
      this.fds[conns] = fd;
      this.frames[conns] = count;
      this.staged[conns] = w;
      conns++;
      // Staged: a second entry of the same writer in `list` (an RTCP flush, then more frames in
      // the same wake) must not stage its frames again.
      w.queued = false;
      const heads = this.heads;
      for (let k = 0; k < count; k++) {
        const a = w.parts[2 * k]!;
        const b = w.parts[2 * k + 1];
        const length = a.length + (b ? b.length : 0);
        writeHead(heads, 4 * (frames + k), w.channels[k]!, length);
        this.parts.push(a, b);
      }
      frames += count;
    }
    if (conns === 0) return;
    const complete = this.addon!.writev(this.fds, this.frames, this.heads, this.parts, conns, this.status);
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
    this.parts.length = 0;
    this.staged.length = 0;
  }

  private growConnections(): void {
    const size = this.fds.length * 2;
    const fds = new Int32Array(size);
    const frames = new Int32Array(size);
    fds.set(this.fds);
    frames.set(this.frames);
    this.fds = fds;
    this.frames = frames;
    this.status = new Int32Array(2 * size);
  }

  private growHeads(frames: number): void {
    const heads = Buffer.allocUnsafe(4 * Math.max(frames, (this.heads.length / 4) * 2));
    this.heads.copy(heads);
    this.heads = heads;
  }
}

/** The process's batches, one per sender kind (setInterleavedSender chooses for new connections). */
const batches: Partial<Record<SenderKind, InterleavedBatch>> = {};

/** The batch new interleaved connections use: native when the addon loaded and the sender is native. */
export function defaultInterleavedBatch(): InterleavedBatch {
  const kind = interleavedSenderKind();
  let batch = batches[kind];
  if (!batch) {
    const addon = kind === 'native' ? nativeWritev() : undefined;
    batch = new InterleavedBatch(addon);
    batches[kind] = batch;
  }
  return batch;
}

/** The batches' counters summed (undefined before any interleaved connection used one). */
export function interleavedBatchStats(): InterleavedBatch['stats'] | undefined {
  const all = Object.values(batches);
  if (all.length === 0) return undefined;
  const sum = { frames: 0, nativeWrites: 0, nodeWrites: 0, nativeCalls: 0, partial: 0, errors: 0 };
  for (const b of all) for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += b.stats[k];
  return sum;
}
