import type { RtspServer, SessionKind } from '../server/index.ts';

/**
 * What the operator's HTTP side reads and drives: an RtspServer, or the primary of
 * `serve --workers N` (src/cluster/), which answers for all its workers.
 */
export interface OperatorServer extends Pick<
  RtspServer,
  'sessionList' | 'kick' | 'snapshot' | 'startLiveChannel' | 'stopLiveChannel' | 'address' | 'port' | 'secure' | 'events'
> {
  readonly registry: { values(): Iterable<{ readonly kind: SessionKind }> };
  readonly catalog: {
    readonly rootDir: string;
    readonly preparationsRunning: number;
    readonly preparationStats: Readonly<Record<string, number>>;
  };
  /**
   * Brings snapshot() and sessionList() up to date before a request is answered; a server's are
   * always current, a cluster's primary asks its workers.
   */
  refresh?(): Promise<void>;
  /** A redirecting front (a single process only; its metrics are left out under a cluster). */
  readonly redirect?: RtspServer['redirect'];
}
