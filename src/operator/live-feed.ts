import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { SessionInfo } from '../server/index.ts';
import type { OperatorServer } from './operator-server.ts';
import { realClock } from '../util/clock.ts';
import type { Clock } from '../util/clock.ts';

/** Dashboard pages connected at once; more are refused (503 at the upgrade). */
export const MAX_FEED_CLIENTS = 32;
/** A page that has this much unsent behind it is dropped: a slow reader never holds the server. */
export const MAX_FEED_BACKLOG_BYTES = 1 << 20;
/** How often every page gets the server's state. */
export const FEED_INTERVAL_MS = 1000;

/** One track's figures in a feed tick, from the last receiver report about it. */
export interface FeedTrack {
  control: string;
  fractionLost: number;
  cumulativeLost: number;
  jitterMs: number;
  rttMs: number | undefined;
  mosLq: number | undefined;
  endSystemDelayMs: number | undefined;
  /** When the report arrived (Unix ms): tells which report the figures are from. */
  reportAt: number;
}

export interface FeedSession {
  id: string;
  kind: string;
  path: string;
  client: string;
  transport: string;
  state: string;
  ageSec: number;
  packetsSent: number;
  bytesSent: number;
  packetsReceived: number | undefined;
  tracks: FeedTrack[];
}

/** What a page gets every FEED_INTERVAL_MS. */
export interface FeedTick {
  t: number;
  sessions: FeedSession[];
  live: { name: string; live: boolean; viewers: number; publisher: boolean }[];
}

export function feedSession(s: SessionInfo): FeedSession {
  return {
    id: s.id,
    kind: s.kind,
    path: s.path,
    client: s.client,
    transport: s.transport,
    state: s.state,
    ageSec: s.ageSec,
    packetsSent: s.packetsSent,
    bytesSent: s.bytesSent,
    packetsReceived: s.packetsReceived,
    tracks: s.reports.map((r) => ({
      control: r.control,
      fractionLost: r.qos.fractionLost,
      cumulativeLost: r.qos.cumulativeLost,
      jitterMs: r.jitterMs,
      rttMs: r.rttMs,
      mosLq: r.voip?.mosLq,
      endSystemDelayMs: r.voip?.endSystemDelayMs,
      reportAt: r.receivedAt,
    })),
  };
}

export interface LiveFeedOptions {
  /** How often every page gets the server's state (default FEED_INTERVAL_MS). */
  intervalMs: number;
  /** Unsent bytes behind a page past which it is dropped (default MAX_FEED_BACKLOG_BYTES). */
  maxBacklogBytes: number;
  /** Told of every page refused (too many) or dropped (does not read). */
  refused: (reason: 'feed_full' | 'feed_backlog', fields: Record<string, unknown>) => void;
}

/**
 * The dashboard's live feed over WebSocket (`/ws`): every interval each connected page gets the
 * sessions, their traffic and their receivers' last reports (one message built per push, not per
 * page). Sending never waits for a page: ws queues in memory, and a page whose unsent backlog
 * would pass maxBacklogBytes is terminated (no closing handshake queued behind what it does not
 * read), counted and logged. So a stalled browser costs bounded memory and never the media's timing.
 */
export class LiveFeed {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly timer: NodeJS.Timeout;
  readonly counters = { clients: 0, refused: 0, droppedSlow: 0, sent: 0 };
  private closed = false;

  constructor(
    private readonly server: OperatorServer,
    private readonly opts: LiveFeedOptions = {
      intervalMs: FEED_INTERVAL_MS,
      maxBacklogBytes: MAX_FEED_BACKLOG_BYTES,
      refused: () => undefined,
    },
    private readonly clock: Clock = realClock,
  ) {
    this.timer = setInterval(() => this.push(), opts.intervalMs);
    this.timer.unref();
    // Pages only listen; anything they send is ignored (maxPayload bounds it).
    this.wss.on('connection', (ws: WebSocket) => {
      ws.on('error', () => undefined);
      this.sendTo(ws, JSON.stringify(this.state()));
    });
  }

  /** Pages connected now. */
  get clients(): number {
    return this.wss.clients.size;
  }

  /** The HTTP server's 'upgrade' for /ws (path, Host and Origin already checked). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closed || this.wss.clients.size >= MAX_FEED_CLIENTS) {
      this.counters.refused++;
      this.opts.refused('feed_full', { max: MAX_FEED_CLIENTS });
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 10\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.counters.clients++;
      this.wss.emit('connection', ws, req);
    });
  }

  state(): FeedTick {
    const snap = this.server.snapshot();
    return {
      t: this.clock.wallNow(),
      sessions: this.server.sessionList().map(feedSession),
      live: snap.live.map((c) => ({ name: c.name, live: c.live, viewers: c.viewers, publisher: c.publisher !== undefined })),
    };
  }

  /** One push to every page (the timer's; tests may call it). */
  push(): void {
    if (this.wss.clients.size === 0) return;
    const text = JSON.stringify(this.state());
    for (const ws of this.wss.clients) this.sendTo(ws, text);
  }

  private sendTo(ws: WebSocket, text: string): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount + Buffer.byteLength(text) > this.opts.maxBacklogBytes) {
      this.counters.droppedSlow++;
      this.opts.refused('feed_backlog', { backlogBytes: ws.bufferedAmount, limitBytes: this.opts.maxBacklogBytes });
      ws.terminate();
      return;
    }
    this.counters.sent++;
    ws.send(text);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }
}
