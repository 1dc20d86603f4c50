/**
 * How a bench client's RTP sockets (and RTSP connections carrying RTP: takeConnection) are read,
 * for the whole process (STREAMLAB_BENCH_CLIENT_READ, set by the bench's `--client-read` so that
 * client hosts and the probe inherit it):
 *
 * - 'batch' (the default; it needs the native addon): every READ_PERIOD_MS, what each
 *   socket queued, in one recvmmsg (src/transport/datagram-drain.ts), each datagram with the time
 *   the kernel received it (SO_TIMESTAMPNS). The jitter a client measures is then when its packets
 *   reached its socket, not when this process, sharing the machine's two cores with the server,
 *   got round to them. And no process sleeps on the sockets: on loopback the sender's kernel
 *   delivers each datagram itself and, when a reader waits on the socket, wakes it, a cost a
 *   server never pays for clients on other machines.
 * - 'event': Node reads each datagram when the event loop polls, and the arrival is when
 *   JavaScript saw it (every figure before 2026-12-07).
 */
import type dgram from 'node:dgram';
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { DatagramDrain, Scheduler, StreamDrain, nativeSendmmsg } from '../src/transport/index.ts';
import type { NativeRecv } from '../src/transport/index.ts';
import { realClock } from '../src/util/clock.ts';

export type ClientRead = 'batch' | 'event';

/** How often each socket is read in 'batch' mode (the kernel's stamps keep arrivals exact). */
const READ_PERIOD_MS = 20;
/**
 * What one read takes of an RTSP connection in 'batch' mode: more than a period of interleaved
 * media (~6 KB in 40 ms for the sample, a keyframe ~20 KB), or a backlog would build up.
 */
const CONNECTION_READ_CAP_BYTES = 64 * 1024;

/** The mode asked for (default 'batch'). */
export function clientRead(): ClientRead {
  const v = process.env.STREAMLAB_BENCH_CLIENT_READ;
  if (v === undefined || v === '' || v === 'batch') return 'batch';
  if (v === 'event') return 'event';
  throw new Error(`STREAMLAB_BENCH_CLIENT_READ wants batch or event, got ${v}`);
}

/** Why 'batch' cannot be had here, or undefined when it can. */
export function batchReadError(): string | undefined {
  const addon = nativeSendmmsg() as Partial<NativeRecv> | undefined;
  return typeof addon?.recvBatch === 'function'
    ? undefined
    : '--client-read batch needs the native addon (npm run build:native); or use --client-read event';
}

let scheduler: Scheduler | undefined;
/** The process's reader of RTSP connections in 'batch' mode; null when it cannot be had. */
let streamDrain: StreamDrain | null | undefined;

/** The process's scheduler, made when the first socket is read in batches. */
function batchScheduler(): Scheduler | undefined {
  if (batchReadError() !== undefined) return undefined;
  scheduler ??= new Scheduler(realClock);
  return scheduler;
}

/**
 * Hands each RTP datagram `socket` receives to `onPacket` with its arrival (performance.now()
 * time): read in batches with the kernel's stamps, or by Node ('event' mode, or without the
 * addon's reader).
 */
export function readRtp(socket: dgram.Socket, onPacket: (msg: Buffer, arrivalMs: number) => void): void {
  const s = clientRead() === 'batch' ? batchScheduler() : undefined;
  const origin = performance.timeOrigin;
  const drain = s
    ? DatagramDrain.open(
        socket,
        s,
        realClock,
        () => READ_PERIOD_MS,
        (msg, _ip, _port, wallMs) => onPacket(msg, wallMs - origin),
      )
    : undefined;
  if (drain) socket.once('close', () => drain.close());
  else socket.on('message', (msg) => onPacket(msg, performance.now()));
}

/**
 * In 'batch' mode, reads an RTSP connection carrying interleaved media every READ_PERIOD_MS
 * instead of at every segment (the server's StreamDrain, with a larger cap per read), so that,
 * as for the UDP sockets, no process sleeps on it for the sender's kernel to wake. Each read comes
 * with the kernel's arrival time of its LAST segment only: the frames of one read share it, so
 * their interarrival jitter is not what the network did. False (Node goes on reading it, per
 * segment) in 'event' mode or without the addon.
 */
export function takeConnection(socket: net.Socket, onData: (chunk: Buffer, arrivalMs: number) => void): boolean {
  const s = clientRead() === 'batch' ? batchScheduler() : undefined;
  if (!s) return false;
  if (streamDrain === undefined) streamDrain = StreamDrain.open(s, realClock, READ_PERIOD_MS, CONNECTION_READ_CAP_BYTES) ?? null;
  const origin = performance.timeOrigin;
  return streamDrain?.take(socket, (chunk, wallMs) => onData(chunk, wallMs - origin)) ?? false;
}

/** Node reads `socket` again (before it is closed: the drain lets go of it). */
export function releaseConnection(socket: net.Socket): void {
  streamDrain?.release(socket);
}
