import type { Clock, TimerHandle } from '../util/clock.ts';
import { createLogger } from '../util/log.ts';
import { grown } from '../util/typed-arrays.ts';

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

/**
 * A binary min-heap of task ids by (due time, order), in typed arrays: the ids, their keys, and
 * each id's position. Choosing the next task and moving it to its next due time reads and writes
 * numbers in a few contiguous cache lines and touches no object but the task it runs.
 */
class DueHeap {
  ids = new Int32Array(64);
  private due = new Float64Array(64);
  private order = new Float64Array(64);
  /** Position of an id in the heap, -1 when it is not in it. */
  private pos = new Int32Array(64).fill(-1);
  length = 0;

  /** The position of `id`, -1 when it is not in the heap. */
  indexOf(id: number): number {
    return id < this.pos.length ? this.pos[id]! : -1;
  }

  /** The first due time, Infinity when empty. */
  get firstDue(): number {
    return this.length > 0 ? this.due[0]! : Infinity;
  }

  push(id: number, due: number, order: number): void {
    const i = this.length;
    if (i === this.ids.length) this.grow();
    if (id >= this.pos.length) this.growPos(id);
    this.length = i + 1;
    this.set(i, id, due, order);
    this.up(i);
  }

  /** Gives the entry at position `i` a new due time and sifts it to its place. */
  update(i: number, due: number): void {
    this.due[i] = due;
    this.down(i);
    this.up(i);
  }

  removeAt(i: number): void {
    this.pos[this.ids[i]!] = -1;
    const last = --this.length;
    if (i < last) {
      this.set(i, this.ids[last]!, this.due[last]!, this.order[last]!);
      this.down(i);
      this.up(i);
    }
  }

  private set(i: number, id: number, due: number, order: number): void {
    this.ids[i] = id;
    this.due[i] = due;
    this.order[i] = order;
    this.pos[id] = i;
  }

  private less(i: number, j: number): boolean {
    const a = this.due[i]!;
    const b = this.due[j]!;
    return a < b || (a === b && this.order[i]! < this.order[j]!);
  }

  private swap(i: number, j: number): void {
    const { ids, due, order, pos } = this;
    const id = ids[i]!;
    const d = due[i]!;
    const o = order[i]!;
    const other = ids[j]!;
    ids[i] = other;
    due[i] = due[j]!;
    order[i] = order[j]!;
    pos[other] = i;
    ids[j] = id;
    due[j] = d;
    order[j] = o;
    pos[id] = j;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }

  private grow(): void {
    const size = this.ids.length * 2;
    this.ids = grown(this.ids, size);
    this.due = grown(this.due, size);
    this.order = grown(this.order, size);
  }

  private growPos(id: number): void {
    const had = this.pos.length;
    let size = had * 2;
    while (size <= id) size *= 2;
    this.pos = grown(this.pos, size);
    this.pos.fill(-1, had);
  }
}

/** Task flags (Scheduler.flags): never run before its due time (Scheduler.once's `exact`); in the lazy lane. */
const EXACT = 1;
const LAZY = 2;

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
  private readonly heap = new DueHeap();
  /**
   * Tasks that may run up to LAZY_SLACK_MS late (scheduleLazy): they run in the first wake-up at
   * or after their due time, and wake the scheduler themselves only when none came by then.
   */
  private readonly lazy = new DueHeap();
  /**
   * The tasks by id (the heaps hold ids), and each task's id. A task's state is kept by id in
   * typed arrays, not in an object of its own: at 100 sessions the kernel's sending between two
   * wake-ups leaves such objects out of the cache, and loading one per run (its map, then its due
   * time's box) was half of the scheduler's own time (perf annotate).
   */
  private readonly tasks: (ScheduledTask | undefined)[] = [];
  private readonly ids = new Map<ScheduledTask, number>();
  /** Ids of removed tasks, for reuse. */
  private readonly freeIds: number[] = [];
  /** Per id: EXACT, LAZY. */
  private flags = new Uint8Array(64);
  /** Per id: the order it was first scheduled in (equal due times run in it). */
  private orders = new Float64Array(64);
  /** Per id: bumped when its task is removed, so a run can tell its task is gone (the id reused). */
  private generations = new Uint32Array(64);
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
    this.add(task, dueMs, 0);
  }

  /**
   * Adds (or moves) a task that may run up to LAZY_SLACK_MS after `dueMs` (an RTCP report timer,
   * whose interval is randomized anyway): it joins the first wake-up at or after its due time
   * instead of causing one of its own. Its next due times (what `run` returns) keep the slack.
   */
  scheduleLazy(task: ScheduledTask, dueMs: number): void {
    this.add(task, dueMs, LAZY);
  }

  private add(task: ScheduledTask, dueMs: number, lane: number): void {
    let id = this.ids.get(task);
    if (id === undefined) {
      id = this.freeIds.pop() ?? this.newId();
      this.tasks[id] = task;
      this.ids.set(task, id);
      this.flags[id] = lane;
      this.orders[id] = this.order++;
    } else if ((this.flags[id]! & LAZY) !== lane) {
      this.unqueue(id);
      this.flags[id] = (this.flags[id]! & ~LAZY) | lane;
    }
    this.place(id, dueMs);
    this.arm();
  }

  private newId(): number {
    const id = this.tasks.length;
    if (id === this.flags.length) {
      const size = 2 * id;
      this.flags = grown(this.flags, size);
      this.orders = grown(this.orders, size);
      this.generations = grown(this.generations, size);
    }
    this.tasks.push(undefined);
    return id;
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
    if (exact) this.flags[this.ids.get(task)!]! |= EXACT;
    return task;
  }

  remove(task: ScheduledTask): void {
    const id = this.ids.get(task);
    if (id === undefined) return;
    this.ids.delete(task);
    this.unqueue(id);
    this.tasks[id] = undefined;
    this.generations[id]!++;
    this.freeIds.push(id);
    this.arm();
  }

  has(task: ScheduledTask): boolean {
    return this.ids.has(task);
  }

  get size(): number {
    return this.ids.size;
  }

  private heapOf(id: number): DueHeap {
    return (this.flags[id]! & LAZY) !== 0 ? this.lazy : this.heap;
  }

  /** Queues task `id` at `dueMs` in its lane (moved in place when queued already); Infinity: not queued. */
  private place(id: number, dueMs: number): void {
    const h = this.heapOf(id);
    const i = h.indexOf(id);
    if (!Number.isFinite(dueMs)) {
      if (i >= 0) h.removeAt(i);
    } else if (i >= 0) h.update(i, dueMs);
    else h.push(id, dueMs, this.orders[id]!);
  }

  /** Takes task `id` out of its lane, if queued. */
  private unqueue(id: number): void {
    const h = this.heapOf(id);
    const i = h.indexOf(id);
    if (i >= 0) h.removeAt(i);
  }

  private arm(): void {
    if (this.running) return;
    const at = Math.min(this.heap.firstDue, this.lazy.firstDue + LAZY_SLACK_MS);
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
      /** Exact tasks this wake-up reached early (id, due time, generation): back in their lane after it. */
      let early: number[] | undefined;
      let runs = 0;
      for (;;) {
        // The earlier of the two lanes' first (the scheduler's own on a tie); Infinity: none.
        const lazyDue = this.lazy.firstDue;
        const ownDue = this.heap.firstDue;
        const h = lazyDue < ownDue ? this.lazy : this.heap;
        const dueMs = h === this.lazy ? lazyDue : ownDue;
        if (dueMs > horizon) break;
        if (++runs > MAX_RUNS_PER_WAKE) {
          const n = ++this.stats.runLimitHits;
          if (Number.isInteger(Math.log10(n)))
            log.warn('scheduler wake-up hit its run limit: the rest waits for the next', { runs: MAX_RUNS_PER_WAKE, hits: n });
          break;
        }
        const id = h.ids[0]!;
        if ((this.flags[id]! & EXACT) !== 0 && dueMs > now) {
          h.removeAt(0);
          (early ??= []).push(id, dueMs, this.generations[id]!);
          continue;
        }
        const task = this.tasks[id]!;
        const generation = this.generations[id]!;
        this.stats.maxLateMs = Math.max(this.stats.maxLateMs, now - dueMs);
        this.stats.tasksRun++;
        // A task woken a little early (within the resolution) runs as of its due time, so it finds
        // its work due; it must do all of it, so a next due time not after that is pushed on by one
        // resolution step: no task can spin the loop.
        const at = Math.max(now, dueMs);
        let next: number;
        try {
          next = task.run(at);
        } catch (err) {
          // A task that throws leaves the heap (it is not run again until scheduled again).
          if (this.generations[id] === generation) this.unqueue(id);
          throw err;
        }
        // The task stays in the heap while it runs: it is moved to its next due time in place
        // (one sift, not a removal and an insertion), unless it was removed meanwhile.
        if (this.generations[id] === generation) this.place(id, next > at ? next : at + this.resolutionMs);
      }
      if (early) {
        for (let k = 0; k < early.length; k += 3) {
          const id = early[k]!;
          // Unless removed, or scheduled again (queued at its new time), meanwhile.
          if (this.generations[id] === early[k + 2] && this.heapOf(id).indexOf(id) < 0) this.place(id, early[k + 1]!);
        }
      }
    } finally {
      this.running = false;
      this.arm();
      this.batch?.release();
    }
  }
}
