import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { RtspParser } from '../rtsp/index.ts';
import type { Clock } from '../util/clock.ts';

/** What the primary read of a connection before handing it to a worker. */
export type FirstRead =
  /** A complete first request (headers and body): its URI, and every byte read so far. */
  | { kind: 'request'; uri: string; head: Buffer }
  /** Bytes that are not a request (bad syntax, too large, a `$` frame or a response first): a worker answers them as a server would. */
  | { kind: 'other'; head: Buffer }
  /** Nothing complete in time: idle (no byte at all) or request (a request begun, not completed). */
  | { kind: 'timeout'; what: 'idle' | 'request' }
  | { kind: 'closed' };

export interface FirstReadLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
  idleTimeoutMs: number;
  requestTimeoutMs: number;
}

/** The part of a net.Socket's handle used to stop reading at once (pause() alone lets it read on up to highWaterMark). */
interface ReadableHandle {
  reading?: boolean;
  readStop?(): number;
}

/**
 * Reads a connection until its first RTSP request is complete (or is not a request), with the
 * server's own bounds: the parser's header and body limits, the idle timeout before any byte, the
 * request timeout once one came. Then the socket is left paused with its handle no longer reading,
 * so that not one byte is read by this process after `head`: it can be sent to a worker.
 */
export function readFirstRequest(socket: net.Socket, limits: FirstReadLimits, clock: Clock): Promise<FirstRead> {
  return firstRequest(socket, limits, clock, true);
}

/**
 * The same, for a stream this process goes on serving (a worker's TLS connection, decrypted
 * here): the stream is only paused, and `head` is to be unshifted back.
 */
export function peekFirstRequest(socket: Duplex, limits: FirstReadLimits, clock: Clock): Promise<FirstRead> {
  return firstRequest(socket, limits, clock, false);
}

function firstRequest(socket: Duplex, limits: FirstReadLimits, clock: Clock, handOver: boolean): Promise<FirstRead> {
  const parser = new RtspParser({ role: 'server', maxHeaderBytes: limits.maxHeaderBytes, maxBodyBytes: limits.maxBodyBytes });
  const chunks: Buffer[] = [];
  const started = clock.now();
  return new Promise((resolve) => {
    let timer = clock.setTimeout(() => finish({ kind: 'timeout', what: 'idle' }), limits.idleTimeoutMs);
    let done = false;
    const finish = (r: FirstRead): void => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (!handOver) return void resolve(r);
      const rest = stopReading(socket as net.Socket);
      resolve(rest.length > 0 && 'head' in r ? { ...r, head: Buffer.concat([r.head, rest]) } : r);
    };
    const onClose = (): void => finish({ kind: 'closed' });
    const onData = (chunk: Buffer): void => {
      if (chunks.length === 0) {
        clock.clearTimeout(timer);
        const at = Math.min(started + limits.idleTimeoutMs, clock.now() + limits.requestTimeoutMs);
        timer = clock.setTimeout(() => finish({ kind: 'timeout', what: 'request' }), Math.max(0, at - clock.now()));
      }
      chunks.push(chunk);
      let events;
      try {
        events = parser.push(chunk);
      } catch {
        finish({ kind: 'other', head: Buffer.concat(chunks) });
        return;
      }
      const first = events[0];
      if (!first) return;
      finish(
        first.type === 'request'
          ? { kind: 'request', uri: first.request.uri, head: Buffer.concat(chunks) }
          : { kind: 'other', head: Buffer.concat(chunks) },
      );
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', () => undefined);
  });
}

/**
 * Stops this process reading a socket for good, to hand it to another process: pause() alone is
 * not enough (Readable's maybeReadMore calls _read on the next tick, which starts the handle
 * reading again, and bytes it reads before the handle reaches the worker would be lost: a client
 * pipelining its second request, or a TLS ClientHello). Returns what it had read and not yet
 * delivered (to send along).
 */
export function stopReading(socket: net.Socket): Buffer {
  socket.pause();
  (socket as unknown as { _read: () => void })._read = () => undefined;
  const handle = (socket as unknown as { _handle?: ReadableHandle })._handle;
  if (handle?.readStop) {
    handle.reading = false;
    handle.readStop();
  }
  const buffered: Buffer[] = [];
  for (let b = socket.read() as Buffer | null; b !== null; b = socket.read() as Buffer | null) buffered.push(b);
  return Buffer.concat(buffered);
}
