import { unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import type { RtspServer } from '../server/index.ts';
import type { Clock } from '../util/clock.ts';
import { createLogger } from '../util/log.ts';
import { ownerOf, routeKeyOf } from './affinity.ts';
import { peekFirstRequest } from './first-request.ts';
import type { FirstReadLimits } from './first-request.ts';

const log = createLogger('worker');

/** The relay's first line (the client's addresses, JSON) is at most this long. */
const MAX_PREAMBLE_BYTES = 512;

/** Worker `index`'s relay socket in the primary's private folder. */
export function relaySocketPath(relayDir: string, index: number): string {
  return path.join(relayDir, `w${index}.sock`);
}

export interface WorkerTlsOptions {
  tls: { cert: string | Buffer; key: string | Buffer };
  limits: FirstReadLimits;
  index: number;
  count: number;
  relayDir: string;
  isLivePath: (decodedPath: string) => boolean;
  clock: Clock;
}

/**
 * RTSPS in a worker of `serve --workers N`. The primary hands over raw TCP sockets (it cannot read
 * inside TLS, and a TLS session cannot move between processes): this worker runs the handshake
 * with the server's certificate (the request timeout bounds it, as a listener's would), reads the
 * first request in clear, and
 * - serves the connection itself, unless
 * - the request names a live channel another worker owns (affinity.ts): then it relays the
 *   decrypted bytes both ways to that worker over its relay socket (a Unix socket in a folder
 *   only this user can enter), after one line telling the client's addresses; the owner serves
 *   the relayed stream as the client's connection (RtspServer.adopt with the peer's addresses),
 *   so its UDP media go straight to the client. This worker keeps the TLS work of the connection
 *   (and its interleaved media, if any).
 * The counters are added to the worker's snapshot (the server's own never see these connections
 * before they are adopted).
 */
export class WorkerTls {
  readonly counters = { tlsHandshakeFailures: 0, idleClosed: 0, requestTimeouts: 0, relayedOut: 0, relayedIn: 0 };
  private readonly terminator: tls.Server;
  private relay: net.Server | undefined;

  constructor(
    private readonly server: RtspServer,
    private readonly o: WorkerTlsOptions,
  ) {
    // Never listens: raw sockets come in through take(); handshakeTimeout applies as on a listener.
    this.terminator = tls.createServer({ cert: o.tls.cert, key: o.tls.key, handshakeTimeout: o.limits.requestTimeoutMs }, (s) =>
      this.secured(s),
    );
    this.terminator.on('tlsClientError', (err, socket) => {
      this.counters.tlsHandshakeFailures++;
      log.debug('TLS handshake failed', { peer: socket.remoteAddress, error: err.message });
    });
  }

  /** Listens on this worker's relay socket (connections relayed from the other workers). */
  async listen(): Promise<void> {
    const at = relaySocketPath(this.o.relayDir, this.o.index);
    try {
      unlinkSync(at); // left by this worker's previous life
    } catch {
      // none
    }
    const relay = net.createServer((s) => this.relayed(s));
    relay.on('error', (err) => log.error('relay socket error', { error: String(err) }));
    await new Promise<void>((resolve, reject) => {
      relay.once('error', reject);
      relay.listen(at, () => {
        relay.off('error', reject);
        resolve();
      });
    });
    this.relay = relay;
  }

  /** A raw socket from the primary and what the primary's kernel read of it (the TLS socket takes buffered bytes first). */
  take(raw: net.Socket, head: Buffer): void {
    raw.on('error', () => undefined);
    if (head.length > 0) raw.unshift(head);
    this.terminator.emit('connection', raw);
  }

  close(): void {
    this.relay?.close();
  }

  private secured(socket: tls.TLSSocket): void {
    socket.on('error', () => undefined);
    void peekFirstRequest(socket, this.o.limits, this.o.clock).then((r) => {
      if (r.kind === 'closed') return void socket.destroy();
      if (r.kind === 'timeout') {
        if (r.what === 'idle') this.counters.idleClosed++;
        else this.counters.requestTimeouts++;
        log.info(r.what === 'idle' ? 'idle connection closed' : 'request not completed in time; connection closed', {
          peer: socket.remoteAddress,
        });
        return void socket.destroy();
      }
      const route = r.kind === 'request' ? routeKeyOf(r.uri, this.o.isLivePath) : undefined;
      const owner = route?.kind === 'live' ? ownerOf(route.key, this.o.count) : this.o.index;
      if (owner === this.o.index) return this.serve(socket, r.head);
      this.relayTo(owner, socket, r.head);
    });
  }

  private serve(socket: tls.TLSSocket, head: Buffer): void {
    this.server.adopt(socket, head);
    // The peek paused it; the connection's reader is attached now.
    socket.resume();
  }

  private relayTo(owner: number, socket: tls.TLSSocket, head: Buffer): void {
    const peer = { clientIp: normalizeIp(socket.remoteAddress ?? ''), localIp: normalizeIp(socket.localAddress ?? '') };
    const out = net.connect(relaySocketPath(this.o.relayDir, owner));
    let connected = false;
    out.on('error', (err) => {
      if (connected) return;
      // The owner is down (restarting): served here, where the channel is not (404, as for a channel not started).
      log.warn('relay to a live channel owner failed; served here', { worker: owner, error: String(err) });
      this.serve(socket, head);
    });
    out.on('connect', () => {
      connected = true;
      this.counters.relayedOut++;
      out.write(`${JSON.stringify(peer)}\n`);
      out.write(head);
      socket.pipe(out);
      out.pipe(socket);
      socket.resume();
      out.on('close', () => socket.destroy());
      socket.on('close', () => out.destroy());
    });
  }

  /** A connection another worker relays: its first line gives the client's addresses. */
  private relayed(s: net.Socket): void {
    s.on('error', () => undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = this.o.clock.setTimeout(() => s.destroy(), this.o.limits.requestTimeoutMs);
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      const all = Buffer.concat(chunks);
      const nl = all.indexOf(0x0a);
      if (nl < 0) {
        if (size > MAX_PREAMBLE_BYTES) done(undefined);
        return;
      }
      let peer: { clientIp: string; localIp: string } | undefined;
      try {
        const p = JSON.parse(all.subarray(0, nl).toString('utf8')) as { clientIp?: unknown; localIp?: unknown };
        if (typeof p.clientIp === 'string' && typeof p.localIp === 'string') peer = { clientIp: p.clientIp, localIp: p.localIp };
      } catch {
        // not ours
      }
      done(peer, all.subarray(nl + 1));
    };
    const done = (peer: { clientIp: string; localIp: string } | undefined, rest?: Buffer): void => {
      this.o.clock.clearTimeout(timer);
      s.off('data', onData);
      s.pause();
      if (!peer || !rest) {
        log.warn('relayed connection without its addresses; closed');
        return void s.destroy();
      }
      this.counters.relayedIn++;
      this.server.adopt(s, rest, peer);
      s.resume();
    };
    s.on('data', onData);
  }
}

function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
