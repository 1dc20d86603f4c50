import type { ByteStream, StreamDrain } from '../transport/index.ts';
import { RtspParser, createResponse, serializeResponse } from '../rtsp/index.ts';
import type { RtspParseEvent, RtspRequest } from '../rtsp/index.ts';
import { InterleavedWriter, MAX_INTERLEAVED_BACKLOG_BYTES } from '../transport/index.ts';
import type { Clock, TimerHandle } from '../util/clock.ts';
import { createLogger } from '../util/log.ts';
import { handleRequest } from './handlers.ts';
import { sessionIdOfHeader } from './session/lookup.ts';
import type { HandlerContext } from './session/request-context.ts';

const log = createLogger('connection');

/** Requests queued on one connection before the server stops reading from it (until half are answered). */
const MAX_QUEUED_REQUESTS = 32;
/**
 * Requests queued that close the connection with 503: reading stops at MAX_QUEUED_REQUESTS, so
 * only one chunk's worth of tiny pipelined requests (64 KiB) can get here.
 */
const HARD_MAX_QUEUED_REQUESTS = 4096;
/** Parser events (mostly `$` frames) in one chunk past which the connection yields its turn. */
const FRAMES_PER_TURN = 256;

/** The first ten closures of a kind are logged, then every thousandth: a flood must not flood the log. */
const worthLogging = (count: number) => count <= 10 || count % 1000 === 0;

export interface ConnectionCounters {
  requests: number;
  badRequests: number;
  interleavedIn: number;
  /** Chunks of many `$` frames after which a connection waited a turn of the event loop (yieldTurn). */
  readYields: number;
  /** Connections closed after `idleTimeoutMs` without a complete request and without a live session. */
  idleClosed: number;
  /** Connections closed to make room for a new one at maxConnections: the longest idle without a session. */
  idleEvicted: number;
  /** Connections closed because a request stayed incomplete for `requestTimeoutMs` (slowloris). */
  requestTimeouts: number;
  /** Connections closed because an answer would have queued more than the write backlog bound. */
  writeBacklogClosed: number;
  /** Connections closed because the session bound to them expired with media still queued unread. */
  expiredClosed: number;
}

/** What bounds one connection (ServerOptions; see DEFAULTS in rtsp-server.ts). */
export interface ConnectionLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
  /** No complete request for this long and no live session it set up or used: closed. */
  idleTimeoutMs: number;
  /** A request (or `$` frame) begun but not complete after this long: closed, sessions or not. */
  requestTimeoutMs: number;
  /**
   * Bytes an answer may find queued (socket.writableLength) before the connection is closed instead.
   * A connection carrying interleaved RTP gets MAX_INTERLEAVED_BACKLOG_BYTES more: RTP itself is
   * dropped beyond that (InterleavedEgress), so a keep-alive's answer still fits behind it.
   */
  maxWriteBacklogBytes: number;
}

/**
 * One RTSP control connection: bytes in → parser events → requests handled strictly in order (so
 * pipelined requests get their responses in order) → responses out; `$` frames go to the session
 * bound to this connection. Parse errors become 4xx/5xx answers; fatal ones close the connection.
 *
 * Bounded for an open network: a connection is closed when it has sent no complete request for
 * `idleTimeoutMs` and no session it set up or used is alive (a UDP session kept alive by RTCP
 * keeps its quiet control connection), when a request stays incomplete for `requestTimeoutMs`
 * (one header byte every few seconds), and when a client that does not read would make the
 * answers queue beyond `maxWriteBacklogBytes`. One lazy timer per connection, on the server's clock.
 */
export class RtspConnection {
  private readonly parser: RtspParser;
  /** Requests, and answers to unparseable ones, in arrival order. */
  private readonly queue: (RtspRequest | { status: number; cseq?: number; code?: string })[] = [];
  private busy = false;
  private closing = false;
  private readonly clock: Clock;
  /** Idleness counts from here: the last complete request, the connection's start, or the last look that found a live session. */
  private idleSince: number;
  /** When the message now incomplete in the parser began; undefined between messages. */
  private partialSince: number | undefined;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  /** Sessions named in this connection's answers: while one lives, the connection is not idle. */
  private readonly sessionIds = new Set<string>();
  /** Reading paused until the next turn of the event loop, after a chunk of many `$` frames. */
  private yielding = false;

  constructor(
    private readonly socket: ByteStream,
    private readonly ctx: HandlerContext,
    private readonly counters: ConnectionCounters,
    private readonly limits: ConnectionLimits,
    /** Reads the connection at the scheduler's wake-ups while it carries a playing interleaved session. */
    private readonly streamDrain: StreamDrain | undefined,
    private readonly onClose: (conn: RtspConnection) => void,
  ) {
    this.parser = new RtspParser({ role: 'server', maxHeaderBytes: limits.maxHeaderBytes, maxBodyBytes: limits.maxBodyBytes });
    this.clock = ctx.sessionContext.clock;
    this.idleSince = this.clock.now();
    this.arm(this.idleSince + limits.idleTimeoutMs);
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => log.debug('connection error', { peer: ctx.clientIp, error: String(err) }));
    socket.on('close', () => this.closed());
  }

  /** Bytes from the client; `arrivalWallMs` when the kernel's arrival time is known (StreamDrain). */
  private onData(chunk: Buffer, arrivalWallMs?: number): void {
    if (this.closing) return;
    const now = this.clock.now();
    // A message already incomplete before this chunk keeps its start time; one begun in it starts now.
    const startedBefore = this.parser.state !== 'START' ? (this.partialSince ?? now) : undefined;
    let events: RtspParseEvent[];
    try {
      events = this.parser.push(chunk);
    } catch (err) {
      log.error('parser failure', { error: String(err) });
      this.fail(500, undefined, 'CONN_ERR_PARSER');
      return;
    }
    for (const ev of events) {
      switch (ev.type) {
        case 'request':
          this.counters.requests++;
          this.idleSince = now;
          this.queue.push(ev.request);
          break;
        case 'interleaved':
          this.counters.interleavedIn++;
          // O(1): the registry knows which session owns each channel of this connection.
          this.ctx.sessionContext.registry.routeFrame(this.socket, ev.channel, ev.data, arrivalWallMs);
          break;
        case 'response':
          // Answers to requests we never send (e.g. a client replying to nothing): ignore.
          break;
        case 'error':
          this.counters.badRequests++;
          log.debug('bad request', { peer: this.ctx.clientIp, code: ev.code, status: ev.status, fatal: ev.fatal });
          if (ev.fatal) {
            this.fail(ev.status, ev.cseq, ev.code);
            return;
          }
          this.queue.push({ status: ev.status, cseq: ev.cseq, code: ev.code });
          break;
      }
    }
    const state = this.parser.state;
    if (state === 'START' || state === 'FAILED') this.partialSince = undefined;
    else this.partialSince = events.length > 0 || startedBefore === undefined ? now : startedBefore;
    // A new incomplete message may be due before the timer: bring it forward (idleness only moves later).
    if (this.deadline() < this.timerAt) this.arm(this.deadline());
    if (this.queue.length > HARD_MAX_QUEUED_REQUESTS) {
      this.fail(503, undefined, 'CONN_ERR_PIPELINE');
      return;
    }
    // Pipelining faster than we answer: stop reading until the queue is half answered.
    if (this.queue.length >= MAX_QUEUED_REQUESTS && !this.socket.isPaused()) this.pause();
    else if (events.length > FRAMES_PER_TURN && !this.socket.isPaused()) this.yieldTurn();
    void this.drain();
  }

  /**
   * One connection sending `$` frames as fast as it can (a flood of empty frames parses at about
   * 2 million a second) would keep the event loop for itself: other clients waited seconds for a
   * DESCRIBE. After a chunk of many frames this connection reads again only on the next turn, so
   * every connection and timer gets its turn in between.
   */
  private yieldTurn(): void {
    this.yielding = true;
    this.counters.readYields++;
    this.pause();
    setImmediate(() => {
      this.yielding = false;
      if (!this.closing && this.queue.length < MAX_QUEUED_REQUESTS) this.socket.resume();
    });
  }

  /** The next deadline: idle from the last request, or the incomplete message's completion. */
  private deadline(): number {
    const idle = this.idleSince + this.limits.idleTimeoutMs;
    return this.partialSince === undefined ? idle : Math.min(idle, this.partialSince + this.limits.requestTimeoutMs);
  }

  /** One timer; it re-arms itself for the current deadline when it fires early (lazy, no per-request churn). */
  private arm(at: number): void {
    this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => this.check(), Math.max(0, at - this.clock.now()));
  }

  private check(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.closing) return;
    const now = this.clock.now();
    if (this.partialSince !== undefined && now - this.partialSince >= this.limits.requestTimeoutMs) {
      this.counters.requestTimeouts++;
      if (worthLogging(this.counters.requestTimeouts))
        log.warn('request not completed in time; connection closed', {
          peer: this.ctx.clientIp,
          timeoutMs: this.limits.requestTimeoutMs,
          count: this.counters.requestTimeouts,
        });
      this.destroy();
      return;
    }
    if (now - this.idleSince >= this.limits.idleTimeoutMs) {
      if (this.busy || this.hasLiveSession()) {
        // Still answering, or a session it set up lives: look again one idle period later.
        this.idleSince = now;
      } else {
        this.counters.idleClosed++;
        log.info('idle connection closed', { peer: this.ctx.clientIp, timeoutMs: this.limits.idleTimeoutMs });
        this.destroy();
        return;
      }
    }
    this.arm(this.deadline());
  }

  /**
   * When this connection could give way to a new one: the instant it became idle, if it answers no
   * request now and no session it set up or used lives; undefined otherwise. A request half sent
   * does not protect it (slowloris).
   */
  evictableSince(): number | undefined {
    if (this.closing || this.busy || this.queue.length > 0 || this.hasLiveSession()) return undefined;
    return this.idleSince;
  }

  /** Closed to make room for a new connection (the server is at maxConnections). */
  evict(): void {
    this.counters.idleEvicted++;
    if (worthLogging(this.counters.idleEvicted))
      log.warn('idle connection closed to make room for a new one', { peer: this.ctx.clientIp, count: this.counters.idleEvicted });
    this.destroy();
  }

  /** A session bound to this connection (interleaved, publisher) or named in its answers is alive. */
  private hasLiveSession(): boolean {
    const registry = this.ctx.sessionContext.registry;
    if (registry.onSocket(this.socket).length > 0) return true;
    for (const id of this.sessionIds) {
      if (registry.has(id)) return true;
      this.sessionIds.delete(id);
    }
    return false;
  }

  /** Stops reading (Node's pause; a connection read by the drain goes back to Node first). */
  private pause(): void {
    this.streamDrain?.release(this.socket);
    this.socket.pause();
  }

  /**
   * While a session on this connection plays interleaved media, the client's bytes (receiver
   * reports, the odd keep-alive) are read at the scheduler's wake-ups (StreamDrain: no event-loop
   * wake-up per report); otherwise, and before it pauses, by Node. Looked at after every request.
   */
  private updateReading(): void {
    const drain = this.streamDrain;
    if (!drain || this.closing) return;
    const registry = this.ctx.sessionContext.registry;
    const playing = registry.hasChannels(this.socket) && registry.onSocket(this.socket).some((s) => s.state === 'playing');
    if (!playing) drain.release(this.socket);
    else if (!drain.has(this.socket) && !this.socket.isPaused()) drain.take(this.socket, this.onDrained);
  }

  private readonly onDrained = (chunk: Buffer, arrivalWallMs: number): void => this.onData(chunk, arrivalWallMs);

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (!this.closing) {
        const req = this.queue.shift();
        if (req === undefined) break;
        if (this.queue.length < MAX_QUEUED_REQUESTS / 2 && this.socket.isPaused() && !this.yielding) this.socket.resume();
        if ('status' in req) {
          this.reply(req.status, req.cseq, req.code);
          continue;
        }
        if (req.headers.get('CSeq') === undefined) {
          this.reply(400, undefined, 'CONN_ERR_NO_CSEQ');
          continue;
        }
        const { response, after } = await handleRequest(req, this.ctx);
        if (this.closing) break;
        const session = response.headers.get('Session');
        if (session !== undefined) this.sessionIds.add(sessionIdOfHeader(session));
        if (!this.send(serializeResponse(response))) break;
        after?.();
        this.updateReading();
      }
    } finally {
      this.busy = false;
    }
  }

  /**
   * Writes an answer unless the bytes already queued (a client that does not read) would pass the
   * bound: then the connection is closed, logged and counted. False when it was not written.
   */
  private send(data: Buffer): boolean {
    if (this.closing || !this.socket.writable) return false;
    // RTP/RTCP frames the connection holds (InterleavedBatch) leave first: an answer never
    // overtakes media queued before it (a PAUSE's answer after the last frames, e.g.).
    InterleavedWriter.flushBefore(this.socket);
    const carriesRtp = this.ctx.sessionContext.registry.hasChannels(this.socket);
    const limit = this.limits.maxWriteBacklogBytes + (carriesRtp ? MAX_INTERLEAVED_BACKLOG_BYTES : 0);
    const queued = this.socket.writableLength;
    if (queued + data.length > limit) {
      this.counters.writeBacklogClosed++;
      if (worthLogging(this.counters.writeBacklogClosed))
        log.warn('client does not read its answers; connection closed', {
          peer: this.ctx.clientIp,
          queuedBytes: queued,
          limitBytes: limit,
          count: this.counters.writeBacklogClosed,
        });
      this.destroy();
      return false;
    }
    this.socket.write(data);
    return true;
  }

  private reply(status: number, cseq?: number, code = 'CONN_ERR_BAD_REQUEST'): void {
    const res = createResponse(status, cseq !== undefined ? { CSeq: String(cseq) } : {});
    res.headers.set('Server', this.ctx.serverName);
    // A request that could not be parsed or had no CSeq: counted by the operator's metrics as method `-`.
    this.ctx.sessionContext.events.emit('request', { method: '-', status, code });
    this.send(serializeResponse(res));
  }

  private fail(status: number, cseq?: number, code?: string): void {
    this.reply(status, cseq, code);
    this.closing = true;
    this.clock.clearTimeout(this.timer);
    this.socket.end();
    this.socket.destroySoon?.();
  }

  /**
   * The last session bound to this connection (interleaved, publisher) expired: its client sent
   * neither requests nor RTCP for the whole timeout. When media is still queued unread (a reader
   * that stalled), the connection is closed at once rather than kept for a backlog nobody reads;
   * otherwise it stays, and answers 454 until the idle timeout.
   */
  sessionExpired(): void {
    // After the session's own close has run (its BYE is written after it leaves the registry).
    setImmediate(() => {
      if (this.closing || this.socket.writableLength === 0) return;
      if (this.ctx.sessionContext.registry.onSocket(this.socket).length > 0) return;
      this.counters.expiredClosed++;
      log.info('expired session left a backlog unread; connection closed', {
        peer: this.ctx.clientIp,
        queuedBytes: this.socket.writableLength,
      });
      this.destroy();
    });
  }

  private closed(): void {
    this.closing = true;
    this.streamDrain?.release(this.socket);
    this.clock.clearTimeout(this.timer);
    // Sessions whose media flowed through this connection (and publishers) cannot go on without it.
    this.ctx.sessionContext.registry.connectionClosed(this.socket);
    this.onClose(this);
  }

  destroy(): void {
    this.closing = true;
    this.clock.clearTimeout(this.timer);
    this.socket.destroy();
  }
}
