import type { ServerEvents, ServerSnapshot, SessionInfo } from '../server/index.ts';

/**
 * The messages between the primary of `serve --workers N` and its workers, over the IPC channel
 * of child_process.fork (serialization 'advanced': Buffers and bigints pass as they are).
 */

/** What the primary learns of a worker when it asks (query). */
export interface WorkerState {
  sessions: SessionInfo[];
  snapshot: ServerSnapshot;
  preparationsRunning: number;
  preparationStats: Record<string, number>;
}

/** Events forwarded to the primary when it serves --http (the metrics count them). */
export const FORWARDED_EVENTS = ['request', 'receiver-report', 'session-ended'] as const;
export type ForwardedEvent = (typeof FORWARDED_EVENTS)[number];

export type ToWorker =
  /**
   * The answer to hello: what every worker shares and no command line may show (ps): the Digest
   * nonce key and timeline, so a nonce one worker issued is valid on the others; the private
   * folder of the workers' relay sockets (worker.ts: TLS connections for a live channel of another
   * worker).
   */
  | { t: 'init'; nonceKey: Buffer; nonceOriginMs: number; relayDir: string }
  /** A connection (the socket travels as the message's handle) and the bytes the primary read of it. */
  | { t: 'conn'; id: number; head: Buffer }
  /** The sessions of all workers (GET_PARAMETER sessions tells a redirecting front this figure). */
  | { t: 'load'; sessions: number; maxSessions: number }
  | { t: 'query'; q: number }
  /** At the connection limit: how long has your longest-idle connection without a session been idle? */
  | { t: 'idlest'; q: number }
  /** Close it (it gives way to a newcomer): done, ok when one was closed. */
  | { t: 'evict'; q: number }
  | { t: 'kick'; q: number; id: string }
  | { t: 'live-start'; q: number; spec: { name: string; file: string; loop?: boolean } }
  | { t: 'live-stop'; q: number; name: string }
  | { t: 'stop' };

export type FromWorker =
  /** The worker listens for messages: the primary answers init. */
  | { t: 'hello' }
  | { t: 'ready' }
  /** A connection the primary handed over is closed (it counts connections per address and in total). */
  | { t: 'closed'; id: number }
  | { t: 'sessions'; n: number }
  | { t: 'event'; name: ForwardedEvent; e: ServerEvents[ForwardedEvent][0] }
  | { t: 'state'; q: number; state: WorkerState }
  /** The answer to idlest: undefined when every connection is busy or carries a session. */
  | { t: 'idlest'; q: number; idleMs: number | undefined }
  /** The answer to kick, live-start, live-stop: ok, or the LiveHubError's code and message. */
  | { t: 'done'; q: number; ok: boolean; code?: string; message?: string };

/** The environment a worker is started with (it runs the same command line as the primary). */
export const WORKER_ENV = {
  index: 'STREAMLAB_WORKER',
  count: 'STREAMLAB_WORKER_COUNT',
  port: 'STREAMLAB_WORKER_PORT',
  events: 'STREAMLAB_WORKER_EVENTS',
} as const;

/** A worker's session id prefix: its number as two hex digits, so ids are unique across workers. */
export function sessionIdPrefix(index: number): string {
  return index.toString(16).padStart(2, '0');
}

/** Worker `index`'s share of maxSessions: the budget split evenly, the remainder to the first ones. */
export function sessionShare(maxSessions: number, workers: number, index: number): number {
  return Math.floor(maxSessions / workers) + (index < maxSessions % workers ? 1 : 0);
}
