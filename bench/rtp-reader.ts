/**
 * How a bench client's RTP sockets are read, for the whole process (STREAMLAB_BENCH_CLIENT_READ,
 * set by the bench's `--client-read` so that client hosts and the probe inherit it):
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
import { performance } from 'node:perf_hooks';
import { DatagramDrain, Scheduler, nativeSendmmsg } from '../src/transport/index.ts';
import type { NativeRecv } from '../src/transport/index.ts';
import { realClock } from '../src/util/clock.ts';

export type ClientRead = 'batch' | 'event';

/** How often each socket is read in 'batch' mode (the kernel's stamps keep arrivals exact). */
const READ_PERIOD_MS = 20;

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
