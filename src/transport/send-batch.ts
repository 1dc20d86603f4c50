import type { Duplex } from 'node:stream';

/**
 * Batching per scheduler wake. Everything a synchronous run sends (one scheduler wake: every due
 * stream of every session; or one relayed packet's fan-out to every viewer) is queued and handed to
 * the network at once, in a microtask right after that run: the UDP datagrams of all clients in one
 * native call (native sender), and each interleaved connection's frames in one write. RTCP flushes
 * at once (after what is queued, so order on each socket holds): a BYE is out before the session
 * closes its sockets.
 */
class WakeFlush {
  private readonly pending: (() => void)[] = [];
  private scheduled = false;
  /** Counts flushes: memory handed out for a packet is free again once the epoch has moved on. */
  epoch = 0;

  /** Runs `flush` after the current synchronous run (once per registration). */
  defer(flush: () => void): void {
    this.pending.push(flush);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.run);
    }
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

/**
 * The `$` frames (RFC 2326 §10.12) one RTSP connection gets in one wake, from every track of every
 * session on it: written as one Buffer (frame headers and packets copied in), so one write and one
 * writev per connection per wake instead of cork + three writes + uncork per packet.
 */
export class InterleavedWriter {
  private static readonly writers = new WeakMap<Duplex, InterleavedWriter>();
  private readonly owners: DropCounter[] = [];
  private readonly channels: number[] = [];
  private readonly parts: (Buffer | undefined)[] = [];
  private bytes = 0;
  private queued = false;
  /** Frames and writes, for the bench and tests. */
  readonly stats = { frames: 0, writes: 0 };

  private constructor(private readonly socket: Duplex) {}

  /** The one writer of a connection. */
  static of(socket: Duplex): InterleavedWriter {
    let w = InterleavedWriter.writers.get(socket);
    if (!w) {
      w = new InterleavedWriter(socket);
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
      wakeFlush.defer(this.flush);
    }
  }

  /** Writes what is queued now (RTCP: after the RTP before it). */
  readonly flush = (): void => {
    this.queued = false;
    const n = this.owners.length;
    if (n === 0) return;
    const s = this.socket;
    if (s.destroyed || !s.writable) {
      for (const o of this.owners) o.dropped++;
    } else {
      const out = Buffer.allocUnsafe(this.bytes);
      let at = 0;
      for (let i = 0; i < n; i++) {
        const a = this.parts[2 * i]!;
        const b = this.parts[2 * i + 1];
        const length = a.length + (b ? b.length : 0);
        out[at] = 0x24;
        out[at + 1] = this.channels[i]!;
        out[at + 2] = length >>> 8;
        out[at + 3] = length & 0xff;
        at += 4;
        at += a.copy(out, at);
        if (b) at += b.copy(out, at);
      }
      s.write(out);
      this.stats.frames += n;
      this.stats.writes++;
    }
    this.owners.length = 0;
    this.channels.length = 0;
    this.parts.length = 0;
    this.bytes = 0;
  };
}
