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
