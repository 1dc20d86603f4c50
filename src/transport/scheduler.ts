import type { Clock, TimerHandle } from '../util/clock.ts';
import { createLogger } from '../util/log.ts';

const log = createLogger('scheduler');

/**
 * Task runs one wake-up does at most (2,000 sessions of two tracks need a few thousand). A task
 * that keeps scheduling work due now (a bug) would otherwise hold the event loop for ever: past
 * this, the wake-up ends, the rest waits for the next one (after I/O), and the breach is counted
 * (`stats.runLimitHits`) and logged.
 */
export const MAX_RUNS_PER_WAKE = 100_000;

/**
 * Something the scheduler runs when it is due: an outgoing RTP stream, an RTCP timer. `run(now)`
 * does ALL the work due at `now` and returns its next due time, later than `now` (Infinity when
 * the task waits for something else and will be scheduled again).
 */
export interface ScheduledTask {
  run(nowMs: number): number;
}

/**
 * How late a lazy task (Scheduler.scheduleLazy) may run when no other task wakes the scheduler
 * before: RTCP report intervals are randomized over ±50 % of seconds, so 20 ms changes nothing,
 * and a server with streams running wakes far more often than that.
 */
export const LAZY_SLACK_MS = 20;

/**
 * Wake-up lateness histogram: LATE_BUCKETS steps of LATE_STEP_MS from LATE_MIN_MS (a wake-up may
 * come early: Node's timers read a loop time taken before the callbacks ran); the first and last
 * buckets hold everything beyond.
 */
export const LATE_MIN_MS = -1;
export const LATE_STEP_MS = 0.05;
export const LATE_BUCKETS = 220;

/** The p-th percentile (0-100) of a lateness histogram (Scheduler.lateness, or a difference of two), ms. */
export function latenessPercentile(hist: ArrayLike<number>, p: number): number {
  let total = 0;
  for (let i = 0; i < hist.length; i++) total += hist[i]!;
  if (total === 0) return 0;
  const rank = (p / 100) * total;
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= rank && hist[i]! > 0) return LATE_MIN_MS + (i + 0.5) * LATE_STEP_MS;
  }
  return LATE_MIN_MS + (hist.length - 0.5) * LATE_STEP_MS;
}

/** The longest timer Node arms (2^31 - 1 ms); a longer one fires after 1 ms, for ever. */
export const MAX_TIMER_MS = 0x7fff_ffff;

interface Entry {
  task: ScheduledTask;
  dueMs: number;
  /** Position in the heap, -1 when not queued. */
  index: number;
  order: number;
  /** Never run before dueMs (a delayed packet), whatever the wake-up grouping. */
  exact: boolean;
  /** False once removed: a task that removed itself while running is not placed again. */
  live: boolean;
  /** The heap it lives in: the scheduler's own, or the lazy lane's (scheduleLazy). */
  heap: Entry[];
}

/**
 * The one timer a scheduler arms for its next wake-up: `set` replaces what was set before. By
 * default the clock's (Node's timers: whole milliseconds); the server's is the native one when it
 * loaded (precise-timer.ts: sub-millisecond).
 */
export interface WakeTimer {
  set(fn: () => void, delayMs: number): void;
  clear(): void;
}

/** A WakeTimer on a Clock's setTimeout. */
export function clockWakeTimer(clock: Clock): WakeTimer {
  let handle: TimerHandle | undefined;
  return {
    set(fn, delayMs) {
      clock.clearTimeout(handle);
      handle = clock.setTimeout(fn, delayMs);
    },
    clear() {
      clock.clearTimeout(handle);
      handle = undefined;
    },
  };
}

/**
 * What the scheduler tells about its wake-ups: everything the tasks of one wake-up send is held
 * until the wake-up is over, then handed to the network at once (send-batch.ts's WakeFlush).
 */
export interface WakeBatch {
  hold(): void;
  release(): void;
}

/**
 * One scheduler for the whole process: binary heaps of tasks ordered by due time (the tasks due
 * at their time, and the lazy ones that may wait LAZY_SLACK_MS for another wake-up) and ONE clock
 * timer armed for the earliest. No timer per packet and none per session.
 */
export class Scheduler {
  private readonly heap: Entry[] = [];
  /**
   * Tasks that may run up to LAZY_SLACK_MS late (scheduleLazy): they run in the first wake-up at
   * or after their due time, and wake the scheduler themselves only when none came by then.
   */
  private readonly lazy: Entry[] = [];
  private readonly entries = new Map<ScheduledTask, Entry>();
  private readonly timer: WakeTimer;
  private timerAt = Infinity;
  private running = false;
  private order = 0;
  /** Counts wake-ups and how late they were, for the benchmark. */
  readonly stats = { wakeups: 0, tasksRun: 0, maxLateMs: 0, runLimitHits: 0 };
  /**
   * Wake-ups by how late their timer fired (from the time it was armed for), in LATE_STEP_MS
   * steps: the timer's precision as the tasks see it (latenessPercentile reads it).
   */
  readonly lateness = new Uint32Array(LATE_BUCKETS);

  constructor(
    private readonly clock: Clock,
    /**
     * Tasks due within half of this are run in the same wake-up (a little early): fewer wake-ups
     * when many sessions have their own timelines. 4 ms keeps sends within 2 ms of their time.
     */
    private readonly resolutionMs = 4,
    private readonly batch?: WakeBatch,
    timer?: WakeTimer,
  ) {
    this.timer = timer ?? clockWakeTimer(clock);
  }

  /** Adds (or moves) a task so that it runs at `dueMs` on the scheduler's clock. */
  schedule(task: ScheduledTask, dueMs: number): void {
    this.add(task, dueMs, this.heap);
  }

  /**
   * Adds (or moves) a task that may run up to LAZY_SLACK_MS after `dueMs` (an RTCP report timer,
   * whose interval is randomized anyway): it joins the first wake-up at or after its due time
   * instead of causing one of its own. Its next due times (what `run` returns) keep the slack.
   */
  scheduleLazy(task: ScheduledTask, dueMs: number): void {
    this.add(task, dueMs, this.lazy);
  }

  private add(task: ScheduledTask, dueMs: number, heap: Entry[]): void {
    let e = this.entries.get(task);
    if (!e) {
      e = { task, dueMs, index: -1, order: this.order++, exact: false, live: true, heap };
      this.entries.set(task, e);
    } else if (e.heap !== heap) {
      if (e.index >= 0) this.removeAt(e.heap, e.index);
      e.heap = heap;
    }
    this.place(e, dueMs);
    this.arm();
  }

  /**
   * Runs `fn` once at `dueMs`; the task forgets itself afterwards. `exact`: never before `dueMs`
   * (a packet an emulated link delays must not leave early); otherwise it may run up to half the
   * resolution early with the tasks of the same wake-up.
   */
  once(dueMs: number, fn: (nowMs: number) => void, exact = false): ScheduledTask {
    const task: ScheduledTask = {
      run: (now) => {
        this.remove(task);
        fn(now);
        return Infinity;
      },
    };
    this.schedule(task, dueMs);
    if (exact) this.entries.get(task)!.exact = true;
    return task;
  }

  remove(task: ScheduledTask): void {
    const e = this.entries.get(task);
    if (!e) return;
    this.entries.delete(task);
    e.live = false;
    if (e.index >= 0) this.removeAt(e.heap, e.index);
    this.arm();
  }

  has(task: ScheduledTask): boolean {
    return this.entries.has(task);
  }

  get size(): number {
    return this.entries.size;
  }

  private place(e: Entry, dueMs: number): void {
    if (e.index >= 0) this.removeAt(e.heap, e.index);
    e.dueMs = dueMs;
    if (!Number.isFinite(dueMs)) return;
    e.index = e.heap.length;
    e.heap.push(e);
    this.up(e.heap, e.index);
  }

  /** The next task to run (the earlier of the two lanes' first; the scheduler's own on a tie). */
  private next(): Entry | undefined {
    const a = this.heap[0];
    const b = this.lazy[0];
    if (!b) return a;
    if (!a) return b;
    return b.dueMs < a.dueMs ? b : a;
  }

  private arm(): void {
    if (this.running) return;
    const top = this.heap[0];
    const lazy = this.lazy[0];
    const at = Math.min(top ? top.dueMs : Infinity, lazy ? lazy.dueMs + LAZY_SLACK_MS : Infinity);
    if (at === this.timerAt) return;
    this.timerAt = at;
    if (!Number.isFinite(at)) return this.timer.clear();
    // A due time beyond Node's timer range is reached in steps: the wake-up finds nothing due and re-arms.
    this.timer.set(this.onTimer, Math.min(MAX_TIMER_MS, Math.max(0, at - this.clock.now())));
  }

  private readonly onTimer = (): void => this.wake();

  private wake(): void {
    const armedFor = this.timerAt;
    this.timerAt = Infinity;
    this.running = true;
    this.stats.wakeups++;
    this.batch?.hold();
    try {
      const now = this.clock.now();
      const late = Math.floor((now - armedFor - LATE_MIN_MS) / LATE_STEP_MS);
      if (Number.isFinite(late)) this.lateness[Math.max(0, Math.min(LATE_BUCKETS - 1, late))]!++;
      const horizon = now + this.resolutionMs / 2;
      /** Exact tasks this wake-up reached early: back in the heap after it. */
      const early: Entry[] = [];
      let runs = 0;
      for (;;) {
        const top = this.next();
        if (!top || top.dueMs > horizon) break;
        if (++runs > MAX_RUNS_PER_WAKE) {
          const n = ++this.stats.runLimitHits;
          if (Number.isInteger(Math.log10(n)))
            log.warn('scheduler wake-up hit its run limit: the rest waits for the next', { runs: MAX_RUNS_PER_WAKE, hits: n });
          break;
        }
        if (top.exact && top.dueMs > now) {
          this.removeAt(top.heap, 0);
          early.push(top);
          continue;
        }
        this.stats.maxLateMs = Math.max(this.stats.maxLateMs, now - top.dueMs);
        this.stats.tasksRun++;
        // A task woken a little early (within the resolution) runs as of its due time, so it finds
        // its work due; it must do all of it, so a next due time not after that is pushed on by one
        // resolution step: no task can spin the loop.
        const at = Math.max(now, top.dueMs);
        let next: number;
        try {
          next = top.task.run(at);
        } catch (err) {
          // A task that throws leaves the heap (it is not run again until scheduled again).
          if (top.index >= 0) this.removeAt(top.heap, top.index);
          throw err;
        }
        const due = next > at ? next : at + this.resolutionMs;
        // The task stays in the heap while it runs: its entry is moved to its next due time in
        // place (one sift, not a removal and an insertion). It may have removed itself meanwhile.
        if (!top.live) continue;
        if (top.index < 0 || !Number.isFinite(due)) this.place(top, due);
        else {
          top.dueMs = due;
          this.down(top.heap, top.index);
          this.up(top.heap, top.index);
        }
      }
      for (const e of early) if (e.live) this.place(e, e.dueMs);
    } finally {
      this.running = false;
      this.arm();
      this.batch?.release();
    }
  }

  private less(a: Entry, b: Entry): boolean {
    return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.order < b.order);
  }

  private swap(h: Entry[], i: number, j: number): void {
    const a = h[i]!;
    const b = h[j]!;
    h[i] = b;
    h[j] = a;
    a.index = j;
    b.index = i;
  }

  private up(h: Entry[], i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      this.swap(h, i, p);
      i = p;
    }
  }

  private down(h: Entry[], i: number): void {
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(h[l]!, h[m]!)) m = l;
      if (r < n && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      this.swap(h, i, m);
      i = m;
    }
  }

  private removeAt(h: Entry[], i: number): void {
    const e = h[i]!;
    const last = h.pop()!;
    e.index = -1;
    if (i < h.length) {
      h[i] = last;
      last.index = i;
      this.down(h, i);
      this.up(h, i);
    }
  }
}
