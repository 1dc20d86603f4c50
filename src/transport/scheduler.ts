import type { Clock, TimerHandle } from '../util/clock.ts';

/**
 * Something the scheduler runs when it is due: an outgoing RTP stream, an RTCP timer. `run(now)`
 * does ALL the work due at `now` and returns its next due time, later than `now` (Infinity when
 * the task waits for something else and will be scheduled again).
 */
export interface ScheduledTask {
  run(nowMs: number): number;
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
 * One scheduler for the whole process: a binary heap of tasks ordered by due time and ONE clock
 * timer armed for the earliest. No timer per packet and none per session.
 */
export class Scheduler {
  private readonly heap: Entry[] = [];
  private readonly entries = new Map<ScheduledTask, Entry>();
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private running = false;
  private order = 0;
  /** Counts wake-ups and how late they were, for the benchmark. */
  readonly stats = { wakeups: 0, tasksRun: 0, maxLateMs: 0 };

  constructor(
    private readonly clock: Clock,
    /**
     * Tasks due within half of this are run in the same wake-up (a little early): fewer wake-ups
     * when many sessions have their own timelines. 4 ms keeps sends within 2 ms of their time.
     */
    private readonly resolutionMs = 4,
    private readonly batch?: WakeBatch,
  ) {}

  /** Adds (or moves) a task so that it runs at `dueMs` on the scheduler's clock. */
  schedule(task: ScheduledTask, dueMs: number): void {
    let e = this.entries.get(task);
    if (!e) {
      e = { task, dueMs, index: -1, order: this.order++, exact: false, live: true };
      this.entries.set(task, e);
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
    if (e.index >= 0) this.removeAt(e.index);
    this.arm();
  }

  has(task: ScheduledTask): boolean {
    return this.entries.has(task);
  }

  get size(): number {
    return this.entries.size;
  }

  private place(e: Entry, dueMs: number): void {
    if (e.index >= 0) this.removeAt(e.index);
    e.dueMs = dueMs;
    if (!Number.isFinite(dueMs)) return;
    e.index = this.heap.length;
    this.heap.push(e);
    this.up(e.index);
  }

  private arm(): void {
    if (this.running) return;
    const top = this.heap[0];
    const at = top ? top.dueMs : Infinity;
    if (at === this.timerAt) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (!Number.isFinite(at)) return;
    // A due time beyond Node's timer range is reached in steps: the wake-up finds nothing due and re-arms.
    this.timer = this.clock.setTimeout(() => this.wake(), Math.min(MAX_TIMER_MS, Math.max(0, at - this.clock.now())));
  }

  private wake(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    this.running = true;
    this.stats.wakeups++;
    this.batch?.hold();
    try {
      const now = this.clock.now();
      const horizon = now + this.resolutionMs / 2;
      /** Exact tasks this wake-up reached early: back in the heap after it. */
      const early: Entry[] = [];
      for (;;) {
        const top = this.heap[0];
        if (!top || top.dueMs > horizon) break;
        if (top.exact && top.dueMs > now) {
          this.removeAt(0);
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
          if (top.index >= 0) this.removeAt(top.index);
          throw err;
        }
        const due = next > at ? next : at + this.resolutionMs;
        // The task stays in the heap while it runs: its entry is moved to its next due time in
        // place (one sift, not a removal and an insertion). It may have removed itself meanwhile.
        if (!top.live) continue;
        if (top.index < 0 || !Number.isFinite(due)) this.place(top, due);
        else {
          top.dueMs = due;
          this.down(top.index);
          this.up(top.index);
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

  private swap(i: number, j: number): void {
    const h = this.heap;
    const a = h[i]!;
    const b = h[j]!;
    h[i] = b;
    h[j] = a;
    a.index = j;
    b.index = i;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(this.heap[i]!, this.heap[p]!)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(this.heap[l]!, this.heap[m]!)) m = l;
      if (r < n && this.less(this.heap[r]!, this.heap[m]!)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }

  private removeAt(i: number): void {
    const h = this.heap;
    const e = h[i]!;
    const last = h.pop()!;
    e.index = -1;
    if (i < h.length) {
      h[i] = last;
      last.index = i;
      this.down(i);
      this.up(i);
    }
  }
}
