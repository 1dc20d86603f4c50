import type { Clock } from '../util/clock.ts';

/**
 * Room at --max-connections in `serve --workers N`, as one process makes it (rtsp-server.ts
 * makeRoom): a newcomer at the limit takes the place of the connection idle longest without a
 * session, wherever it is: one still being read at the primary, or one a worker serves (each worker
 * is asked how long its idlest has been idle; the longest is evicted by its worker). The decision
 * only: the primary (primary.ts) supplies its connections and the questions to its workers.
 */

/** How long each question to the workers (their idle figures, then the eviction) is waited for. */
export const EVICT_TIMEOUT_MS = 1000;
/** Newcomers held while the workers are asked for room, at most (past it they are dropped). */
export const MAX_EVICTIONS_PENDING = 64;

/** What the primary tells and does for the decision. */
export interface RoomHost {
  /** Connections counted open: being read at the primary, or handed to a worker and not told closed. */
  open(): number;
  /** The connections still read at the primary (none of them has a session): id, and when accepted. */
  atPrimary(): Iterable<{ id: number; since: number }>;
  /** The workers up now. */
  workersUp(): number[];
  /** How long worker w's idlest connection without a session has been idle (undefined: none). May never settle. */
  askIdlest(w: number): Promise<number | undefined>;
  /** Worker w closes that connection: true when one was closed. May never settle. */
  askEvict(w: number): Promise<boolean>;
  /**
   * Closes connection `id`, still read at the primary, and stops counting it at once (open() and
   * atPrimary() no longer have it: a second newcomer cannot take the same place). False when it is
   * not at the primary any more.
   */
  evictAtPrimary(id: number): boolean;
}

/** The connection that gives way: one at the primary (id) or a worker's idlest (worker). */
export type Victim = { id: number; idleMs: number; worker?: undefined } | { worker: number; idleMs: number; id?: undefined };

/**
 * The connection idle longest: those at the primary (idle since accepted: their first request is
 * not read yet) and each worker's answer (undefined: none, or no answer). Ties go to the primary's,
 * then to the first worker in `answers`. Undefined when nothing can give way.
 */
export function chooseVictim(
  atPrimary: Iterable<{ id: number; since: number }>,
  answers: readonly { worker: number; idleMs: number | undefined }[],
  nowMs: number,
): Victim | undefined {
  let best: Victim | undefined;
  for (const c of atPrimary) if (!best || nowMs - c.since > best.idleMs) best = { id: c.id, idleMs: nowMs - c.since };
  for (const a of answers) if (a.idleMs !== undefined && (!best || a.idleMs > best.idleMs)) best = { worker: a.worker, idleMs: a.idleMs };
  return best;
}

export interface RoomKeeperOptions {
  maxConnections: number;
  clock: Clock;
  timeoutMs?: number;
  maxWaiting?: number;
}

/**
 * Admits or drops newcomers at the connection limit. A newcomer waits at most two questions
 * (2 × timeoutMs): a worker that does not answer delays the decision by timeoutMs and is then
 * counted as having nothing to give. At most maxWaiting newcomers wait; past it they are dropped.
 */
export class RoomKeeper {
  private waitingNow = 0;
  private readonly timeoutMs: number;
  private readonly maxWaiting: number;

  constructor(
    private readonly host: RoomHost,
    private readonly o: RoomKeeperOptions,
  ) {
    this.timeoutMs = o.timeoutMs ?? EVICT_TIMEOUT_MS;
    this.maxWaiting = o.maxWaiting ?? MAX_EVICTIONS_PENDING;
  }

  /** Newcomers waiting for room now. */
  get waiting(): number {
    return this.waitingNow;
  }

  /**
   * A newcomer: 'admit' when there is room, 'drop' when maxWaiting newcomers wait already, else the
   * decision to come (true: admit, in place of a connection that was closed; false: drop).
   */
  newcomer(): 'admit' | 'drop' | Promise<boolean> {
    if (this.host.open() < this.o.maxConnections) return 'admit';
    if (this.waitingNow >= this.maxWaiting) return 'drop';
    this.waitingNow++;
    return this.makeRoom().finally(() => this.waitingNow--);
  }

  private async makeRoom(): Promise<boolean> {
    const asked = this.host.workersUp();
    const idle = await Promise.all(asked.map((w) => this.within(this.host.askIdlest(w), undefined)));
    const victim = chooseVictim(
      this.host.atPrimary(),
      asked.map((worker, i) => ({ worker, idleMs: idle[i] })),
      this.o.clock.now(),
    );
    if (!victim) return false;
    if (victim.worker !== undefined) return this.within(this.host.askEvict(victim.worker), false);
    return this.host.evictAtPrimary(victim.id);
  }

  /** `p`'s value, or `late` when it has not settled in timeoutMs (or failed). */
  private within<T>(p: Promise<T>, late: T): Promise<T> {
    return new Promise<T>((resolve) => {
      const timer = this.o.clock.setTimeout(() => resolve(late), this.timeoutMs);
      p.then(
        (v) => {
          this.o.clock.clearTimeout(timer);
          resolve(v);
        },
        () => {
          this.o.clock.clearTimeout(timer);
          resolve(late);
        },
      );
    });
  }
}
