import type { Duplex } from 'node:stream';
import type { Clock } from '../util/clock.ts';
import { createLogger } from '../util/log.ts';
import { isPlainTcp, openTcpHandle, socketHandle } from './byte-stream.ts';
import type { TcpHandle } from './byte-stream.ts';
import { nativeSendmmsg } from './native-sender.ts';
import type { ScheduledTask, Scheduler } from './scheduler.ts';

const log = createLogger('tcp');

/** The addon's reader of many TCP connections (native/stream-poll.c has the contract); absent from an older build. */
export interface NativeStreamPoll {
  pollCreate(): number;
  pollAdd(ep: number, fd: number): number;
  pollDel(ep: number, fd: number): number;
  pollClose(ep: number): number;
  pollRead(ep: number, arena: Buffer, capBytes: number, fds: Int32Array, meta: Float64Array): number;
}

/**
 * Bytes read from one connection at a time: a player's receiver reports are ~100 bytes, a request
 * a few hundred. What a connection has beyond stays queued in the kernel (level-triggered: it is
 * read at the next call, a moment later).
 */
export const STREAM_READ_CAP_BYTES = 4096;
/**
 * How often the connections taken are read: a request (a keep-alive, TEARDOWN) on one waits for
 * the next read, so shorter than the RTCP socket's DRAIN_PERIOD_MS.
 */
export const STREAM_DRAIN_PERIOD_MS = 10;
/** Connections read per native call (the arena holds a cap for each). */
const PER_CALL = 64;
/** Calls per run at most: a run reads up to 1,024 connections' bytes; the rest waits a millisecond. */
const MAX_CALLS_PER_RUN = 16;
/** Linux's EAGAIN, as the addon reports it (negated). */
const EAGAIN = 11;

/** The libuv TCP handle of a plain TCP socket Node holds open, with read start and stop, else undefined. */
function tcpHandle(socket: Duplex): TcpHandle | undefined {
  const h = isPlainTcp(socket) ? openTcpHandle(socketHandle(socket)) : undefined;
  return typeof h?.readStart === 'function' && typeof h.readStop === 'function' ? h : undefined;
}

/** Bytes read from a connection, and the wall-clock time the kernel received the last of them. */
export type DrainedBytes = (chunk: Buffer, arrivalWallMs: number) => void;

interface Reader {
  readonly socket: Duplex;
  readonly handle: TcpHandle;
  readonly fd: number;
  readonly onData: DrainedBytes;
}

/**
 * TCP connections read at the scheduler's wake-ups rather than by the event loop: for each one
 * taken, Node's handle stops reading (libuv no longer polls it), the descriptor joins an epoll set
 * of the addon's, and every `periodMs` a lazy task (it joins a wake-up the streams cause anyway)
 * polls that set without waiting and reads each ready connection once. For the RTSP connections
 * of interleaved players, whose only input while they play is a receiver report every few
 * seconds per track: at 400 TCP players a report cost ~44 µs of CPU through the event loop and
 * Node's stream (bench, issue 11). Each read carries the kernel's arrival stamp (SO_TIMESTAMPNS),
 * so an RTCP round trip does not count the wait for the read.
 *
 * A connection goes back to Node (release) before its owner pauses it, and when its peer closes
 * or fails (Node then reads the end or the error itself and closes the socket as usual). Only on
 * the real clock.
 */
export class StreamDrain implements ScheduledTask {
  /** Runs, reads with bytes, bytes, connections taken and given back, errors of the poll. */
  readonly stats = { runs: 0, reads: 0, bytes: 0, taken: 0, released: 0, errors: 0 };
  private readonly bySocket = new Map<Duplex, Reader>();
  private readonly byFd = new Map<number, Reader>();
  private readonly arena: Buffer;
  private readonly fds = new Int32Array(PER_CALL);
  private readonly meta = new Float64Array(3 * PER_CALL);
  private reading = false;
  private closed = false;

  private constructor(
    private readonly addon: NativeStreamPoll,
    private readonly ep: number,
    private readonly scheduler: Scheduler,
    private readonly clock: Clock,
    private readonly periodMs: number,
    private readonly capBytes: number,
  ) {
    this.arena = Buffer.allocUnsafe(PER_CALL * capBytes);
  }

  /**
   * A drain, or undefined (Node reads every connection) without the addon's poll or with
   * `STREAMLAB_TCP_DRAIN=0`. `capBytes`: what one read takes of a connection at most (the rest
   * waits for the next read).
   */
  static open(scheduler: Scheduler, clock: Clock, periodMs: number, capBytes = STREAM_READ_CAP_BYTES): StreamDrain | undefined {
    if (process.env.STREAMLAB_TCP_DRAIN === '0') return undefined;
    const addon = nativeSendmmsg() as Partial<NativeStreamPoll> | undefined;
    if (typeof addon?.pollCreate !== 'function' || typeof addon.pollRead !== 'function') return undefined;
    const ep = addon.pollCreate();
    if (ep < 0) {
      log.warn('no epoll set for TCP reads: connections are read by Node', { errno: -ep });
      return undefined;
    }
    return new StreamDrain(addon as NativeStreamPoll, ep, scheduler, clock, periodMs, capBytes);
  }

  /** Connections read here now. */
  get size(): number {
    return this.bySocket.size;
  }

  has(socket: Duplex): boolean {
    return this.bySocket.has(socket);
  }

  /**
   * Reads `socket` from now on, handing its bytes to `onData`; false (Node goes on reading) when
   * it is not a plain TCP socket Node holds open, or Node is not reading it (paused).
   */
  take(socket: Duplex, onData: DrainedBytes): boolean {
    if (this.closed) return false;
    if (this.bySocket.has(socket)) return true;
    const handle = tcpHandle(socket);
    if (!handle || socket.isPaused() || socket.destroyed) return false;
    const fd = handle.fd!;
    // A reader left under this number belonged to a socket since closed: its descriptor left the
    // set when it closed, and the number is this socket's now.
    const stale = this.byFd.get(fd);
    if (stale) this.forget(stale);
    const added = this.addon.pollAdd(this.ep, fd);
    if (added !== 0) {
      if (this.stats.errors++ === 0) log.warn('a connection could not join the epoll set: Node reads it', { errno: -added });
      return false;
    }
    if (handle.readStop!() !== 0) {
      this.addon.pollDel(this.ep, fd);
      return false;
    }
    const r: Reader = { socket, handle, fd, onData };
    this.bySocket.set(socket, r);
    this.byFd.set(fd, r);
    this.stats.taken++;
    if (this.bySocket.size === 1) this.scheduler.scheduleLazy(this, this.clock.now() + this.periodMs);
    return true;
  }

  /** Node reads `socket` again (before its owner pauses it; when it closes). */
  release(socket: Duplex): void {
    const r = this.bySocket.get(socket);
    if (!r) return;
    this.forget(r);
    if (this.open(r)) r.handle.readStart!();
  }

  /** Whether Node still holds the reader's socket open on the same handle (so its descriptor is still its own). */
  private open(r: Reader): boolean {
    return !r.socket.destroyed && socketHandle(r.socket) === r.handle;
  }

  private forget(r: Reader): void {
    this.bySocket.delete(r.socket);
    if (this.byFd.get(r.fd) === r) this.byFd.delete(r.fd);
    // A closed descriptor has left the set by itself (and its number may be another socket's now).
    if (this.open(r)) this.addon.pollDel(this.ep, r.fd);
    this.stats.released++;
  }

  run(nowMs: number): number {
    if (this.closed || this.bySocket.size === 0) return Infinity;
    this.stats.runs++;
    return this.read() ? nowMs + 1 : nowMs + this.periodMs;
  }

  /** Reads what the connections have now. True when it stopped at MAX_CALLS_PER_RUN with more perhaps ready. */
  read(): boolean {
    if (this.closed || this.reading) return false;
    this.reading = true;
    try {
      for (let call = 0; call < MAX_CALLS_PER_RUN; call++) {
        const n = this.addon.pollRead(this.ep, this.arena, this.capBytes, this.fds, this.meta);
        if (n < 0) {
          if (this.stats.errors++ === 0) log.warn('polling the TCP connections failed', { errno: -n });
          return false;
        }
        if (n === 0) return false;
        this.deliver(n);
        if (n < PER_CALL) return false;
      }
      return true;
    } finally {
      this.reading = false;
    }
  }

  private deliver(n: number): void {
    const { arena, fds, meta } = this;
    const wall = this.clock.wallNow();
    for (let i = 0; i < n; i++) {
      const fd = fds[i]!;
      const r = this.byFd.get(fd);
      if (!r || !this.open(r)) {
        // Not a connection of ours any more: out of the set (a closed one already is).
        if (r) this.forget(r);
        else this.addon.pollDel(this.ep, fd);
        continue;
      }
      const length = meta[3 * i + 1]!;
      if (length > 0) {
        const at = meta[3 * i]!;
        const chunk = Buffer.allocUnsafe(length);
        arena.copy(chunk, 0, at, at + length);
        this.stats.reads++;
        this.stats.bytes += length;
        r.onData(chunk, wall - meta[3 * i + 2]!);
      } else if (length !== -EAGAIN) {
        // The peer closed its side (0) or the connection failed: Node reads that itself and closes.
        this.release(r.socket);
      }
    }
  }

  /** Gives every connection back to Node and closes the set. */
  close(): void {
    if (this.closed) return;
    for (const socket of [...this.bySocket.keys()]) this.release(socket);
    this.closed = true;
    this.scheduler.remove(this);
    this.addon.pollClose(this.ep);
  }
}
