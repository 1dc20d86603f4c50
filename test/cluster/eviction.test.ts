/**
 * Room at --max-connections across workers (src/cluster/eviction.ts), on a stepping clock: the
 * primary's connections and its workers are a model here (questions queue in each worker's inbox,
 * answers and "closed" notes in its outbox, in order, as over its IPC channel). Arbitrary
 * sequences of newcomers, handovers, sessions, client closes, workers' work and answers (some
 * workers never answer, some hang after answering), and time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVICT_TIMEOUT_MS, MAX_EVICTIONS_PENDING, RoomKeeper, chooseVictim } from '../../src/cluster/eviction.ts';
import type { RoomHost } from '../../src/cluster/eviction.ts';
import { StepClock, flushPromises as flush } from '../helpers/step-clock.ts';

const T = EVICT_TIMEOUT_MS;

interface Conn {
  id: number;
  /** 'p': still read at the primary; else the worker serving it. */
  at: 'p' | number;
  idleSince: number;
  session: boolean;
  /** Open in fact (the model's truth). */
  open: boolean;
  /** Counted open by the primary (until told closed). */
  counted: boolean;
}

type Out = { kind: 'answer'; settle: () => void } | { kind: 'closed'; conn: Conn };

interface Newcomer {
  at: number;
  settled: boolean;
}

/** The primary's connections and its workers, as RoomKeeper sees them through RoomHost. */
class Model implements RoomHost {
  readonly clock = new StepClock();
  readonly conns: Conn[] = [];
  readonly inbox: { kind: 'idlest' | 'evict'; resolve: (v: never) => void }[][];
  readonly outbox: Out[][];
  /** What the primary learns of connections read here that the client closed (their read ends). */
  readonly primaryNotes: Conn[] = [];
  readonly newcomers: Newcomer[] = [];
  readonly violations: string[] = [];
  readonly keeper: RoomKeeper;
  evictions = 0;
  /** Of which by a worker. */
  workerEvictions = 0;
  dropsAtCap = 0;
  private nextId = 1;
  private nextLatency = 0;

  constructor(
    readonly max: number,
    /** Workers that never answer (from the start, or from a 'hang' on). */
    readonly mute: boolean[],
    /**
     * How long each message takes, used in turn: a worker takes a question this long after it is
     * asked, the primary gets a message this long after it is sent (-1: not by itself; work() and
     * receive() move them). None: only work() and receive() do.
     */
    private readonly latencies: number[] = [],
  ) {
    this.inbox = mute.map(() => []);
    this.outbox = mute.map(() => []);
    this.keeper = new RoomKeeper(this, { maxConnections: max, clock: this.clock });
  }

  // RoomHost
  open(): number {
    return this.conns.filter((c) => c.counted).length;
  }
  *atPrimary(): Generator<{ id: number; since: number }> {
    for (const c of this.conns) if (c.counted && c.at === 'p') yield { id: c.id, since: c.idleSince };
  }
  workersUp(): number[] {
    return this.mute.map((_, i) => i);
  }
  askIdlest(w: number): Promise<number | undefined> {
    this.later(() => this.work(w));
    return new Promise((resolve) => this.inbox[w]!.push({ kind: 'idlest', resolve: resolve }));
  }
  askEvict(w: number): Promise<boolean> {
    this.later(() => this.work(w));
    return new Promise((resolve) => this.inbox[w]!.push({ kind: 'evict', resolve: resolve }));
  }
  private later(fn: () => void): void {
    if (this.latencies.length === 0) return;
    const ms = this.latencies[this.nextLatency++ % this.latencies.length]!;
    if (ms >= 0) this.clock.setTimeout(fn, ms);
  }
  private send(w: number, m: Out): void {
    this.outbox[w]!.push(m);
    this.later(() => this.receive(w));
  }
  evictAtPrimary(id: number): boolean {
    const c = this.conns.find((x) => x.id === id);
    if (!c || !c.counted) return false;
    if (c.at !== 'p') this.violations.push(`connection ${id}, on worker ${c.at}, evicted at the primary`);
    if (c.session) this.violations.push(`connection ${id} with a session evicted`);
    c.open = false;
    c.counted = false;
    this.evictions++;
    return true;
  }

  // What happens
  arrive(): void {
    const n: Newcomer = { at: this.clock.now(), settled: false };
    this.newcomers.push(n);
    const r = this.keeper.newcomer();
    if (r === 'admit') {
      n.settled = true;
      this.add();
    } else if (r === 'drop') {
      n.settled = true;
      this.dropsAtCap++;
    } else
      void r.then((ok) => {
        n.settled = true;
        if (ok) this.add();
      });
  }
  private add(): void {
    this.conns.push({ id: this.nextId++, at: 'p', idleSince: this.clock.now(), session: false, open: true, counted: true });
  }
  private pick(pred: (c: Conn) => boolean, i: number): Conn | undefined {
    const all = this.conns.filter(pred);
    return all.length > 0 ? all[i % all.length] : undefined;
  }
  /** The primary has read a first request: the connection goes to a worker (idle since now). */
  handover(i: number, w: number): void {
    const c = this.pick((x) => x.open && x.counted && x.at === 'p', i);
    if (!c) return;
    c.at = w % this.mute.length;
    c.idleSince = this.clock.now();
  }
  session(i: number): void {
    const c = this.pick((x) => x.open && x.at !== 'p', i);
    if (c) c.session = true;
  }
  request(i: number): void {
    const c = this.pick((x) => x.open && x.at !== 'p', i);
    if (c) c.idleSince = this.clock.now();
  }
  clientCloses(i: number): void {
    const c = this.pick((x) => x.open, i);
    if (!c) return;
    c.open = false;
    if (c.at !== 'p') return this.send(c.at, { kind: 'closed', conn: c });
    this.primaryNotes.push(c);
    this.later(() => this.receivePrimaryNote());
  }
  /** Worker w takes the next question (a worker that never answers takes none). */
  work(w: number): void {
    if (this.mute[w]) return;
    const q = this.inbox[w]!.shift();
    if (!q) return;
    const mine = this.conns.filter((c) => c.open && c.at === w && !c.session);
    let idlest: Conn | undefined;
    for (const c of mine) if (!idlest || c.idleSince < idlest.idleSince) idlest = c;
    if (q.kind === 'idlest') {
      const v = idlest ? this.clock.now() - idlest.idleSince : undefined;
      this.send(w, { kind: 'answer', settle: () => q.resolve(v as never) });
      return;
    }
    if (idlest) {
      idlest.open = false;
      this.evictions++;
      this.workerEvictions++;
    }
    this.send(w, { kind: 'answer', settle: () => q.resolve(Boolean(idlest) as never) });
    if (idlest) this.send(w, { kind: 'closed', conn: idlest });
  }
  /** The primary gets worker w's next message (a hung worker sends nothing more). */
  receive(w: number): void {
    if (this.mute[w]) return;
    const m = this.outbox[w]!.shift();
    if (!m) return;
    if (m.kind === 'answer') m.settle();
    else m.conn.counted = false;
  }
  receivePrimaryNote(): void {
    const c = this.primaryNotes.shift();
    if (c) c.counted = false;
  }

  check(): void {
    const now = this.clock.now();
    const open = this.conns.filter((c) => c.open).length;
    expect(open, 'connections open').toBeLessThanOrEqual(this.max);
    expect(this.open(), 'the primary counts every open connection').toBeGreaterThanOrEqual(open);
    const waiting = this.newcomers.filter((n) => !n.settled);
    expect(this.keeper.waiting).toBe(waiting.length);
    expect(waiting.length).toBeLessThanOrEqual(MAX_EVICTIONS_PENDING);
    for (const n of waiting) expect(now - n.at, 'a newcomer waits less than two questions').toBeLessThan(2 * T);
    expect(this.violations).toEqual([]);
  }
}

type Op =
  | { k: 'arrive'; n: number }
  | { k: 'handover'; i: number; w: number }
  | { k: 'session'; i: number }
  | { k: 'request'; i: number }
  | { k: 'close'; i: number }
  | { k: 'work'; w: number; n: number }
  | { k: 'receive'; w: number; n: number }
  | { k: 'note' }
  | { k: 'hang'; w: number }
  | { k: 'tick'; ms: number };

const idx = fc.nat({ max: 1000 });
/** One, or many at once (past the 64 waiting). */
const burst = fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 90 }));
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('arrive' as const), n: burst }), weight: 16 },
  { arbitrary: fc.record({ k: fc.constant('handover' as const), i: idx, w: idx }), weight: 24 },
  { arbitrary: fc.record({ k: fc.constant('session' as const), i: idx }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('request' as const), i: idx }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('close' as const), i: idx }), weight: 8 },
  { arbitrary: fc.record({ k: fc.constant('work' as const), w: idx, n: burst }), weight: 24 },
  { arbitrary: fc.record({ k: fc.constant('receive' as const), w: idx, n: burst }), weight: 24 },
  { arbitrary: fc.record({ k: fc.constant('note' as const) }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('hang' as const), w: idx }), weight: 1 },
  {
    arbitrary: fc.record({
      k: fc.constant('tick' as const),
      ms: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(T - 1, T, T + 1, 2 * T)),
    }),
    weight: 12,
  },
);

async function run(m: Model, ops: Op[]): Promise<void> {
  const W = m.mute.length;
  for (const o of ops) {
    switch (o.k) {
      case 'arrive':
        for (let i = 0; i < o.n; i++) m.arrive();
        break;
      case 'handover':
        m.handover(o.i, o.w);
        break;
      case 'session':
        m.session(o.i);
        break;
      case 'request':
        m.request(o.i);
        break;
      case 'close':
        m.clientCloses(o.i);
        break;
      case 'work':
        for (let i = 0; i < o.n; i++) m.work(o.w % W);
        break;
      case 'receive':
        for (let i = 0; i < o.n; i++) m.receive(o.w % W);
        break;
      case 'note':
        m.receivePrimaryNote();
        break;
      case 'hang':
        m.mute[o.w % W] = true;
        break;
      case 'tick':
        await m.clock.advance(o.ms);
        break;
    }
    await flush();
    m.check();
  }
  // However the workers behave, every newcomer is decided within two questions.
  await m.clock.advance(2 * T);
  m.check();
  expect(m.newcomers.every((n) => n.settled)).toBe(true);
  expect(m.keeper.waiting).toBe(0);
}

describe('RoomKeeper', () => {
  it('never more open than max, at most 64 waiting, each decided within two questions, no session and no handed-over connection evicted at the primary', async () => {
    let capReached = 0;
    let evicted = 0;
    let byWorkers = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        // Most workers answer; some never do.
        fc.array(fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.array(fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 1500 }), fc.constant(-1)), { maxLength: 40 }),
        fc.array(op, { minLength: 1, maxLength: 200 }),
        async (max, mute, latencies, ops) => {
          const m = new Model(max, mute, latencies);
          await run(m, ops);
          if (m.dropsAtCap > 0) capReached++;
          evicted += m.evictions;
          byWorkers += m.workerEvictions;
        },
      ),
      { numRuns: 1000 },
    );
    // The runs did reach what is checked: newcomers past the 64 waiting, and evictions.
    expect(capReached).toBeGreaterThan(0);
    expect(evicted).toBeGreaterThan(0);
    expect(byWorkers).toBeGreaterThan(0);
  });

  it('a worker that never answers delays a newcomer by one timeout, not more: another worker gives way', async () => {
    // t=0: worker 0 never answers; worker 1 serves a connection idle since t=0; the limit is 1.
    const m = new Model(1, [true, false]);
    m.arrive();
    m.handover(0, 1);
    await m.clock.advance(5000);
    m.arrive();
    await flush();
    expect(m.keeper.waiting).toBe(1);
    // Worker 1 answers at once (idle 5 s); worker 0's silence is waited for until t=5000+T.
    m.work(1);
    m.receive(1);
    await m.clock.advance(T - 1);
    expect(m.inbox[1]).toEqual([]);
    expect(m.keeper.waiting).toBe(1);
    await m.clock.advance(1);
    // t=5000+T: the eviction is asked of worker 1, which closes its connection and says so.
    expect(m.inbox[1]!.map((q) => q.kind)).toEqual(['evict']);
    m.work(1);
    m.receive(1);
    await flush();
    expect(m.keeper.waiting).toBe(0);
    expect(m.newcomers.map((n) => n.settled)).toEqual([true, true]);
    expect(m.conns.filter((c) => c.open).map((c) => c.at)).toEqual(['p']);
    m.check();
  });

  it('two newcomers decided at once and one silent connection at the primary: never both in its one place', async () => {
    // A regression: both chose the same connection, and both were admitted in its place.
    const m = new Model(1, [false]);
    m.arrive();
    await m.clock.advance(1000);
    m.arrive();
    m.arrive();
    await flush();
    m.work(0);
    m.work(0);
    m.receive(0);
    m.receive(0);
    await flush();
    expect(m.keeper.waiting).toBe(0);
    expect(m.evictions).toBeGreaterThan(0);
    expect(m.conns.filter((c) => c.open).length).toBe(1);
    m.check();
  });

  it('past 64 waiting newcomers, the next is dropped at once', async () => {
    const m = new Model(1, [true]);
    m.arrive();
    for (let i = 0; i < MAX_EVICTIONS_PENDING + 5; i++) m.arrive();
    await flush();
    expect(m.keeper.waiting).toBe(MAX_EVICTIONS_PENDING);
    expect(m.dropsAtCap).toBe(5);
    // The silent worker's questions time out at T; each newcomer in turn takes the place of the
    // one before (silent at the primary, it is the idlest), as in one process.
    await m.clock.advance(T);
    expect(m.keeper.waiting).toBe(0);
    expect(m.newcomers.every((n) => n.settled)).toBe(true);
    expect(m.conns.filter((c) => c.open).length).toBe(1);
    m.check();
  });
});

describe('chooseVictim', () => {
  it('takes the connection idle longest; ties go to the primary, then to the first worker', () => {
    const at = [
      { id: 1, since: 100 },
      { id: 2, since: 50 },
    ];
    expect(chooseVictim(at, [], 1000)).toEqual({ id: 2, idleMs: 950 });
    expect(chooseVictim(at, [{ worker: 0, idleMs: 951 }], 1000)).toEqual({ worker: 0, idleMs: 951 });
    expect(chooseVictim(at, [{ worker: 0, idleMs: 950 }], 1000)).toEqual({ id: 2, idleMs: 950 });
    expect(
      chooseVictim(
        [],
        [
          { worker: 0, idleMs: undefined },
          { worker: 1, idleMs: 7 },
          { worker: 2, idleMs: 7 },
        ],
        0,
      ),
    ).toEqual({ worker: 1, idleMs: 7 });
    expect(chooseVictim([], [{ worker: 0, idleMs: undefined }], 0)).toBeUndefined();
  });
});
