import type { ByteStream } from '../../transport/index.ts';
import { RtspError } from '../errors.ts';
import type { SafeEmitter } from '../events.ts';
import type { ServerEvents, SessionKind, SessionTraffic } from './server-events.ts';

/** What the registry needs of a session. */
export interface RegisteredSession {
  readonly id: string;
  readonly kind: SessionKind;
  readonly media: string;
  readonly clientIp: string;
  /** init, ready, playing or recording (method-table.ts). */
  readonly state: string;
  close(reason: string): void;
  /** What it moved so far (for the session-ended event and log line). */
  traffic?(): SessionTraffic;
}

/** A place held for a session being set up; add() takes it, release() gives it back. */
export interface Admission {
  release(): void;
}

/** The Retry-After of a capacity refusal (453), seconds. */
export const CAPACITY_RETRY_AFTER_SEC = 10;

/** A `$` frame's payload, and the kernel's arrival time of it when known. */
type FrameHandler = (data: Buffer, arrivalWallMs?: number) => void;

/**
 * Every RTSP session of the server (file sessions, live viewers, publishers), found in O(1) by id,
 * by the RTSP connection it is bound to, and by (connection, interleaved channel) for `$` frames.
 *
 * Admission is counted here, synchronously: admit() holds a place before the caller awaits
 * anything (opening the file, binding ports), so concurrent SETUPs can never exceed maxSessions.
 * Emits session-started / session-ended (and the older session-created / session-closed).
 */
export class SessionRegistry {
  private readonly byId = new Map<string, RegisteredSession>();
  private readonly bySocket = new Map<ByteStream, Set<RegisteredSession>>();
  private readonly socketOf = new Map<RegisteredSession, ByteStream>();
  private readonly frames = new Map<ByteStream, Map<number, FrameHandler>>();
  /** The channels each session took, to free them when it goes. */
  private readonly channelsOf = new Map<RegisteredSession, { socket: ByteStream; channels: number[] }>();
  private pending = 0;
  /** Called when the last session bound to a connection expired (reason 'timeout'): the server closes it. */
  onBoundSessionsExpired: ((socket: ByteStream) => void) | undefined;

  /** When each session was registered (clock ms), for its duration at the end. */
  private readonly startedAt = new Map<RegisteredSession, number>();

  constructor(
    readonly maxSessions: number,
    private readonly events: SafeEmitter<ServerEvents>,
    private readonly now: () => number,
  ) {}

  /**
   * The load this server tells a redirecting front (GET_PARAMETER sessions): its own sessions, or
   * when it is one worker of several (serve --workers) the figure of them all, set by the primary.
   */
  clusterLoad: { sessions: number; maxSessions: number } | undefined;

  load(): { sessions: number; maxSessions: number } {
    return this.clusterLoad ?? { sessions: this.size, maxSessions: this.maxSessions };
  }

  /** Sessions registered (held places not included). */
  get size(): number {
    return this.byId.size;
  }

  /** Sessions plus places held by SETUPs or ANNOUNCEs still in progress. */
  get occupied(): number {
    return this.byId.size + this.pending;
  }

  /** Holds a place for a new session, or 453 with Retry-After when every place is taken. */
  admit(): Admission {
    if (this.occupied >= this.maxSessions) {
      throw new RtspError(453, 'SRV_ERR_CAPACITY', 'too many sessions', { 'Retry-After': String(CAPACITY_RETRY_AFTER_SEC) });
    }
    this.pending++;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.pending--;
      },
    };
  }

  /** Registers a session on the place `admission` held. */
  add(session: RegisteredSession, admission: Admission): void {
    admission.release();
    this.byId.set(session.id, session);
    this.startedAt.set(session, this.now());
    this.events.emit('session-started', { id: session.id, kind: session.kind, media: session.media, client: session.clientIp });
    if (session.kind !== 'publisher')
      this.events.emit('session-created', { id: session.id, media: session.media, client: session.clientIp });
  }

  /** Every registered session, with the clock time it was registered. */
  list(): { session: RegisteredSession; startedAt: number }[] {
    return [...this.byId.values()].map((session) => ({ session, startedAt: this.startedAt.get(session) ?? this.now() }));
  }

  get(id: string): RegisteredSession | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  values(): IterableIterator<RegisteredSession> {
    return this.byId.values();
  }

  /** The session ends when `socket` closes (interleaved media, or a publisher's connection). */
  bindSocket(socket: ByteStream, session: RegisteredSession): void {
    let set = this.bySocket.get(socket);
    if (!set) {
      set = new Set();
      this.bySocket.set(socket, set);
    }
    set.add(session);
    this.socketOf.set(session, socket);
  }

  /** Sessions bound to `socket`. */
  onSocket(socket: ByteStream): RegisteredSession[] {
    return [...(this.bySocket.get(socket) ?? [])];
  }

  /** Whether any session takes `$` frames on `socket` (it carries interleaved media). */
  hasChannels(socket: ByteStream): boolean {
    return this.frames.has(socket);
  }

  /** Whether `channel` on `socket` already belongs to a session. */
  channelTaken(socket: ByteStream, channel: number): boolean {
    return this.frames.get(socket)?.has(channel) ?? false;
  }

  /** `$` frames of `socket` on `channel` go to `handler` until the session is removed. */
  bindChannel(socket: ByteStream, channel: number, session: RegisteredSession, handler: FrameHandler): void {
    let m = this.frames.get(socket);
    if (!m) {
      m = new Map();
      this.frames.set(socket, m);
    }
    m.set(channel, handler);
    let taken = this.channelsOf.get(session);
    if (!taken) {
      taken = { socket, channels: [] };
      this.channelsOf.set(session, taken);
    }
    taken.channels.push(channel);
  }

  /** Routes one `$` frame: O(1). Returns false when no session owns the channel (dropped). */
  routeFrame(socket: ByteStream, channel: number, data: Buffer, arrivalWallMs?: number): boolean {
    const h = this.frames.get(socket)?.get(channel);
    if (!h) return false;
    h(data, arrivalWallMs);
    return true;
  }

  /** A session ended: out of every index. Emits session-ended once, for registered sessions only. */
  remove(session: RegisteredSession, reason: string): void {
    const taken = this.channelsOf.get(session);
    if (taken) {
      const m = this.frames.get(taken.socket);
      for (const c of taken.channels) m?.delete(c);
      if (m?.size === 0) this.frames.delete(taken.socket);
      this.channelsOf.delete(session);
    }
    const socket = this.socketOf.get(session);
    if (socket) {
      this.socketOf.delete(session);
      const set = this.bySocket.get(socket);
      if (set?.delete(session) && set.size === 0) {
        this.bySocket.delete(socket);
        if (reason === 'timeout') this.onBoundSessionsExpired?.(socket);
      }
    }
    if (this.byId.get(session.id) !== session) return;
    this.byId.delete(session.id);
    const durationMs = this.now() - (this.startedAt.get(session) ?? this.now());
    this.startedAt.delete(session);
    this.events.emit('session-ended', {
      id: session.id,
      kind: session.kind,
      media: session.media,
      reason,
      client: session.clientIp,
      durationMs,
      traffic: session.traffic?.(),
    });
    if (session.kind !== 'publisher') this.events.emit('session-closed', { id: session.id, media: session.media, reason });
  }

  /** An RTSP connection closed: the sessions bound to it end. */
  connectionClosed(socket: ByteStream): void {
    for (const s of this.onSocket(socket)) s.close('connection closed');
    this.bySocket.delete(socket);
    this.frames.delete(socket);
  }
}
