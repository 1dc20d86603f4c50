import net from 'node:net';
import { lazyTls } from '../util/lazy-tls.ts';
import {
  RtspParser,
  chooseChallenge,
  collectChallenges,
  createRequest,
  createResponse,
  formatAuthorization,
  getCSeq,
  serializeRequest,
  serializeResponse,
} from '../rtsp/index.ts';
import type { ChosenChallenge, ClientCredentials, RtspResponse } from '../rtsp/index.ts';
import type { ByteStream } from './byte-stream.ts';
import { createLogger } from '../util/log.ts';
import { cryptoRandom } from '../util/random.ts';
import type { Random } from '../util/random.ts';
import { PRODUCT } from '../util/version.ts';

const log = createLogger('rtsp-client');

export class RtspClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RtspClientError';
  }
}

export interface RtspClientOptions {
  host: string;
  port: number;
  userAgent?: string;
  /** How long to wait for each response. */
  responseTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** From the URL's userinfo: sent only after a 401 asks for them (Digest preferred, else Basic). */
  credentials?: ClientCredentials;
  /** Draws the Digest cnonce (default cryptoRandom). */
  random?: Random;
  /**
   * RTSPS (an `rtsps://` URL): TLS to the server. The certificate is checked against the system's
   * CAs, or `ca` (PEM) when given, for the URL's host; `insecure` accepts any certificate.
   */
  tls?: { ca?: Buffer; insecure?: boolean };
  /** What to say when the certificate is not trusted (default: `play`'s --tls-ca / --tls-insecure). */
  certificateHint?: string;
}

interface Pending {
  resolve(res: RtspResponse): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  method: string;
}

/** Counters of what the server sent that we could not use. */
export interface ClientCounters {
  malformedResponses: number;
  unmatchedResponses: number;
  serverRequests: number;
}

/**
 * One RTSP control connection from the client side: requests with CSeq matched to their responses,
 * `$`-framed interleaved data delivered to a callback, server-initiated requests answered (501
 * except the harmless ones). Malformed responses are counted and reported, never thrown through
 * the event loop.
 */
export class RtspClientConnection {
  private readonly parser = new RtspParser({ role: 'client' });
  private readonly pending = new Map<number, Pending>();
  private cseq = 0;
  private closedError: Error | undefined;
  readonly counters: ClientCounters = { malformedResponses: 0, unmatchedResponses: 0, serverRequests: 0 };
  onInterleaved: (channel: number, data: Buffer) => void = () => undefined;
  onClose: (err: Error | undefined) => void = () => undefined;
  /** The challenge our credentials answer, once a 401 asked for them; nc counts its uses. */
  private auth: { chosen: ChosenChallenge; nc: number } | undefined;

  private constructor(
    private readonly socket: ByteStream,
    private readonly opts: RtspClientOptions,
  ) {
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      this.closedError ??= new RtspClientError('CLIENT_ERR_SOCKET', `connection to ${opts.host}:${opts.port}: ${err.message}`);
    });
    socket.on('close', () => this.closed());
  }

  /**
   * A connection over a stream already open: one end of an in-process pipe to a server
   * (RtspServer.connect(), the lab's `--fast`). `host` and `port` only name it in messages.
   */
  static over(stream: ByteStream, opts: RtspClientOptions): RtspClientConnection {
    return new RtspClientConnection(stream, opts);
  }

  static connect(opts: RtspClientOptions): Promise<RtspClientConnection> {
    return new Promise((resolve, reject) => {
      const socket = opts.tls
        ? lazyTls().connect({
            host: opts.host,
            port: opts.port,
            // SNI takes names only; an IP address is checked against the certificate's IP SANs.
            ...(net.isIP(opts.host) ? {} : { servername: opts.host }),
            ...(opts.tls.ca ? { ca: opts.tls.ca } : {}),
            rejectUnauthorized: opts.tls.insecure !== true,
          })
        : net.connect({ host: opts.host, port: opts.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new RtspClientError('CLIENT_ERR_CONNECT', `no answer from ${opts.host}:${opts.port} (connect timeout)`));
      }, opts.connectTimeoutMs ?? 10_000);
      socket.once(opts.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve(new RtspClientConnection(socket, opts));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        // A certificate we cannot trust: say how to trust it.
        const cert = opts.tls && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test((err as NodeJS.ErrnoException).code ?? '');
        const hint = cert
          ? ` (${opts.certificateHint ?? 'give its CA with --tls-ca FILE, or --tls-insecure to accept any certificate'})`
          : '';
        reject(new RtspClientError('CLIENT_ERR_CONNECT', `cannot connect to ${opts.host}:${opts.port}: ${err.message}${hint}`));
      });
    });
  }

  get localAddress(): string {
    const a = this.socket.localAddress ?? '127.0.0.1';
    return a.startsWith('::ffff:') ? a.slice(7) : a;
  }

  get remoteAddress(): string {
    const a = this.socket.remoteAddress ?? this.opts.host;
    return a.startsWith('::ffff:') ? a.slice(7) : a;
  }

  get isOpen(): boolean {
    return !this.socket.destroyed && this.closedError === undefined;
  }

  /**
   * One request and its response. With credentials, a 401 is answered once: Digest (SHA-256, else
   * MD5) or Basic from the server's challenges, and later requests are signed from the start. A
   * 401 to signed credentials is returned as it is (wrong password), unless its nonce was stale.
   */
  async request(method: string, uri: string, headers: Record<string, string> = {}, body?: Buffer): Promise<RtspResponse> {
    const signed = this.sign(method, uri, headers);
    const res = await this.send(method, uri, signed, body);
    if (res.statusCode !== 401 || !this.opts.credentials) return res;
    const chosen = chooseChallenge(collectChallenges(res.headers.getAll('WWW-Authenticate')));
    if (!chosen || (signed.Authorization !== undefined && !chosen.stale)) return res;
    this.auth = { chosen, nc: 0 };
    log.debug('authenticating', { method, scheme: chosen.scheme, algorithm: chosen.algorithm, stale: chosen.stale });
    return this.send(method, uri, this.sign(method, uri, headers), body);
  }

  private sign(method: string, uri: string, headers: Record<string, string>): Record<string, string> {
    if (!this.auth || !this.opts.credentials) return headers;
    this.auth.nc++;
    const cnonce = (this.opts.random ?? cryptoRandom).hex(8);
    const value = formatAuthorization(this.auth.chosen, this.opts.credentials, { method, uri, nc: this.auth.nc, cnonce });
    return { ...headers, Authorization: value };
  }

  private send(method: string, uri: string, headers: Record<string, string>, body?: Buffer): Promise<RtspResponse> {
    if (!this.isOpen) return Promise.reject(this.closedError ?? new RtspClientError('CLIENT_ERR_CLOSED', 'connection closed'));
    const cseq = ++this.cseq;
    const req = createRequest(method, uri, { CSeq: String(cseq), 'User-Agent': this.opts.userAgent ?? PRODUCT, ...headers }, body);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(cseq);
        reject(new RtspClientError('CLIENT_ERR_TIMEOUT', `no response to ${method} within ${this.opts.responseTimeoutMs ?? 10_000} ms`));
      }, this.opts.responseTimeoutMs ?? 10_000);
      this.pending.set(cseq, { resolve, reject, timer, method });
      log.debug('request', { method, uri, cseq });
      this.socket.write(serializeRequest(req));
    });
  }

  sendInterleaved(channel: number, data: Buffer): void {
    if (!this.isOpen) return;
    const h = Buffer.allocUnsafe(4);
    h[0] = 0x24;
    h[1] = channel;
    h.writeUInt16BE(data.length, 2);
    this.socket.cork();
    this.socket.write(h);
    this.socket.write(data);
    this.socket.uncork();
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    for (const ev of this.parser.push(chunk)) {
      if (ev.type === 'interleaved') {
        this.onInterleaved(ev.channel, ev.data);
      } else if (ev.type === 'response') {
        this.deliver(ev.response);
      } else if (ev.type === 'request') {
        // Servers may send requests (SET_PARAMETER, ANNOUNCE, REDIRECT); answer so they do not wait.
        this.counters.serverRequests++;
        const status =
          ev.request.method === 'OPTIONS' || ev.request.method === 'GET_PARAMETER' || ev.request.method === 'SET_PARAMETER' ? 200 : 501;
        const res = createResponse(status);
        const c = ev.request.headers.get('CSeq');
        if (c !== undefined) res.headers.set('CSeq', c);
        this.socket.write(serializeResponse(res));
      } else {
        this.counters.malformedResponses++;
        log.warn('malformed message from server', { code: ev.code, message: ev.message });
        if (ev.response) this.deliver(ev.response);
        if (ev.fatal) {
          this.closedError = new RtspClientError('CLIENT_ERR_PROTOCOL', `server sent malformed RTSP: ${ev.message}`);
          this.socket.destroy();
        }
      }
    }
  }

  private deliver(res: RtspResponse): void {
    const cseq = getCSeq(res);
    const p = cseq !== undefined ? this.pending.get(cseq) : undefined;
    if (!p) {
      // Some servers drop CSeq on errors: match the oldest request then.
      const oldest = cseq === undefined ? this.pending.entries().next().value : undefined;
      if (!oldest) {
        this.counters.unmatchedResponses++;
        return;
      }
      this.finish(oldest[0], oldest[1], res);
      return;
    }
    this.finish(cseq!, p, res);
  }

  private finish(cseq: number, p: Pending, res: RtspResponse): void {
    clearTimeout(p.timer);
    this.pending.delete(cseq);
    log.debug('response', { method: p.method, cseq, status: res.statusCode });
    p.resolve(res);
  }

  private closed(): void {
    const err = this.closedError ?? new RtspClientError('CLIENT_ERR_CLOSED', 'the server closed the connection');
    this.closedError = err;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.onClose(err);
  }
}
