import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { RtspServer, SessionInfo } from '../server/index.ts';
import { realClock } from '../util/clock.ts';
import type { Clock } from '../util/clock.ts';
import { createLogger } from '../util/log.ts';

const log = createLogger('http');

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
    })),
  };
}

/**
 * The dashboard's live feed over WebSocket (`/ws`): once a second every connected page gets the
 * sessions, their traffic and their receivers' last reports. Sending never waits for a page: one
 * whose unsent backlog passes MAX_FEED_BACKLOG_BYTES is closed and counted.
 */
export class LiveFeed {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly timer: NodeJS.Timeout;
  readonly counters = { clients: 0, refused: 0, droppedSlow: 0 };

  constructor(
    private readonly server: RtspServer,
    private readonly clock: Clock = realClock,
  ) {
    this.timer = setInterval(() => this.tick(), FEED_INTERVAL_MS);
    this.timer.unref();
    // Pages only listen; anything they send is ignored.
    this.wss.on('connection', (ws: WebSocket) => {
      ws.on('error', () => undefined);
      ws.send(JSON.stringify(this.state()));
    });
  }

  /** The HTTP server's 'upgrade' for /ws. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.wss.clients.size >= MAX_FEED_CLIENTS) {
      this.counters.refused++;
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
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

  private tick(): void {
    if (this.wss.clients.size === 0) return;
    const text = JSON.stringify(this.state());
    for (const ws of this.wss.clients) {
      if (ws.bufferedAmount > MAX_FEED_BACKLOG_BYTES) {
        this.counters.droppedSlow++;
        log.warn('dashboard page does not read its feed; closed', { backlogBytes: ws.bufferedAmount, count: this.counters.droppedSlow });
        ws.terminate();
        continue;
      }
      ws.send(text);
    }
  }

  close(): void {
    clearInterval(this.timer);
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }
}
