import net from 'node:net';
import { Duplex } from 'node:stream';

/**
 * The byte stream an RTSP control connection runs over: a TCP or TLS socket, or one end of an
 * in-process pipe (duplexPair). What only a socket has is optional.
 */
export type ByteStream = Duplex & {
  setNoDelay?(noDelay?: boolean): unknown;
  destroySoon?(): void;
  readonly remoteAddress?: string | undefined;
  readonly localAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localPort?: number | undefined;
};

/** What Node's libuv TCP handle offers: its descriptor, and libuv's read start and stop. */
export interface TcpHandle {
  fd?: number;
  readStart?: () => number;
  readStop?: () => number;
}

/** Node's current handle of a socket (null once Node closed it), whatever the stream. */
export function socketHandle(stream: Duplex): unknown {
  return (stream as Duplex & { _handle?: unknown })._handle;
}

/**
 * Whether `stream` is a plain TCP socket (not TLS, not an in-process pipe): only such a socket's
 * descriptor may be written or read natively, past Node.
 */
export function isPlainTcp(stream: Duplex): stream is net.Socket {
  return stream instanceof net.Socket && !(stream as net.Socket & { encrypted?: boolean }).encrypted;
}

/**
 * The libuv TCP handle `handle` is, with an open descriptor, else undefined: a TLS socket's
 * TLSWrap shows a descriptor too, but what goes on that wire must be encrypted. Node closes the
 * descriptor only with the handle.
 */
export function openTcpHandle(handle: unknown): TcpHandle | undefined {
  const h = handle as (TcpHandle & object) | null | undefined;
  return h && h.constructor.name === 'TCP' && typeof h.fd === 'number' && h.fd >= 0 ? h : undefined;
}

/** One end of an in-process pipe: what is written to it is read from its peer, in order. */
class PipeEnd extends Duplex {
  peer: PipeEnd | undefined;

  constructor() {
    // Like a TCP socket: the end of what the peer sends ends this side too.
    super({ allowHalfOpen: false });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.peer?.push(chunk);
    done();
  }

  override _read(): void {
    // Data arrives by the peer's writes.
  }

  override _final(done: (err?: Error | null) => void): void {
    this.peer?.push(null);
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    // Like a reset connection: the peer goes too.
    const peer = this.peer;
    this.peer = undefined;
    if (peer && !peer.destroyed) peer.destroy();
    done(err);
  }
}

/**
 * Two connected in-process byte streams (Node 22's stream.duplexPair, which Node 20 lacks): the
 * lab's `--fast` speaks RTSP to an in-process server over one, without a socket. Writes complete
 * at once (no back-pressure): for a control connection of a few requests, not for bulk data.
 */
export function duplexPair(): [Duplex, Duplex] {
  const a = new PipeEnd();
  const b = new PipeEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
