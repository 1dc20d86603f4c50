import type { Socket } from 'node:net';
import { RtspParser, createResponse, serializeResponse } from '../rtsp/index.ts';
import type { RtspParseEvent, RtspRequest } from '../rtsp/index.ts';
import { createLogger } from '../util/log.ts';
import { handleRequest } from './handlers.ts';
import type { HandlerContext } from './session/request-context.ts';

const log = createLogger('connection');

/** Requests queued on one connection before the server stops reading from it. */
const MAX_QUEUED_REQUESTS = 32;

export interface ConnectionCounters {
  requests: number;
  badRequests: number;
  interleavedIn: number;
}

/**
 * One RTSP control connection: bytes in → parser events → requests handled strictly in order (so
 * pipelined requests get their responses in order) → responses out; `$` frames go to the session
 * bound to this connection. Parse errors become 4xx/5xx answers; fatal ones close the connection.
 */
export class RtspConnection {
  private readonly parser: RtspParser;
  /** Requests, and answers to unparseable ones, in arrival order. */
  private readonly queue: (RtspRequest | { status: number; cseq?: number })[] = [];
  private busy = false;
  private closing = false;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: HandlerContext,
    private readonly counters: ConnectionCounters,
    limits: { maxHeaderBytes: number; maxBodyBytes: number },
    private readonly onClose: (conn: RtspConnection) => void,
  ) {
    this.parser = new RtspParser({ role: 'server', ...limits });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => log.debug('connection error', { peer: ctx.clientIp, error: String(err) }));
    socket.on('close', () => this.closed());
  }

  private onData(chunk: Buffer): void {
    let events: RtspParseEvent[];
    try {
      events = this.parser.push(chunk);
    } catch (err) {
      log.error('parser failure', { error: String(err) });
      this.fail(500);
      return;
    }
    for (const ev of events) {
      switch (ev.type) {
        case 'request':
          this.counters.requests++;
          this.queue.push(ev.request);
          break;
        case 'interleaved':
          this.counters.interleavedIn++;
          this.interleaved(ev.channel, ev.data);
          break;
        case 'response':
          // Answers to requests we never send (e.g. a client replying to nothing): ignore.
          break;
        case 'error':
          this.counters.badRequests++;
          log.debug('bad request', { peer: this.ctx.clientIp, code: ev.code, status: ev.status, fatal: ev.fatal });
          if (ev.fatal) {
            this.fail(ev.status, ev.cseq);
            return;
          }
          this.queue.push({ status: ev.status, cseq: ev.cseq });
          break;
      }
    }
    if (this.queue.length > MAX_QUEUED_REQUESTS) {
      this.fail(503);
      return;
    }
    void this.drain();
  }

  /** O(1): the registry knows which session owns each channel of this connection. */
  private interleaved(channel: number, data: Buffer): void {
    this.ctx.sessionContext.registry.routeFrame(this.socket, channel, data);
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.closing) {
        const req = this.queue.shift()!;
        if ('status' in req) {
          this.reply(req.status, req.cseq);
          continue;
        }
        if (req.headers.get('CSeq') === undefined) {
          this.reply(400);
          continue;
        }
        const { response, after } = await handleRequest(req, this.ctx);
        if (this.closing) break;
        this.socket.write(serializeResponse(response));
        after?.();
      }
    } finally {
      this.busy = false;
    }
  }

  private reply(status: number, cseq?: number): void {
    const res = createResponse(status, cseq !== undefined ? { CSeq: String(cseq) } : {});
    res.headers.set('Server', this.ctx.serverName);
    if (!this.closing && this.socket.writable) this.socket.write(serializeResponse(res));
  }

  private fail(status: number, cseq?: number): void {
    this.reply(status, cseq);
    this.closing = true;
    this.socket.end();
    this.socket.destroySoon?.();
  }

  private closed(): void {
    this.closing = true;
    // Sessions whose media flowed through this connection (and publishers) cannot go on without it.
    this.ctx.sessionContext.registry.connectionClosed(this.socket);
    this.onClose(this);
  }

  destroy(): void {
    this.closing = true;
    this.socket.destroy();
  }
}
