/**
 * The bottleneck: a bounded FIFO queue in front of a link that drains it, the one place where
 * packets wait for capacity. Unlike netem's stages (decided when a packet is submitted), a queue
 * with an AQM decides at dequeue time, from the backlog then, so the bottleneck is a small
 * discrete-event simulation advanced by its owner: `arrive(t, item)` adds a packet that reaches the
 * queue at t, `advance(now)` runs every event up to now (arrivals before service at equal times),
 * `nextEventAt()` says when to call it again. Items learn their fate by callback.
 *
 * Service (what drains the queue):
 * - a delivery-opportunity trace (Mahimahi `mm-link`): at each opportunity up to
 *   DELIVERY_OPPORTUNITY_BYTES leave; a packet is dequeued when an opportunity reaches it and leaves
 *   at the opportunity that carries its last byte (a partly used opportunity serves the next queued
 *   packet; unused capacity is lost, as in Mahimahi's `LinkQueue::rationalize`);
 * - a constant rate (netem `rate` with its overheads): dequeued when the link is free, leaves when
 *   serialized.
 *
 * Queue disciplines:
 * - droptail: a packet that finds `packets` packets (or, with a byte limit, would exceed `bytes`
 *   bytes) queued is dropped on arrival ('tail'); the packet in service is not in the queue;
 * - codel: the same limits, plus CoDel (RFC 8289 §5 pseudo-code, Linux's variant of the re-entry
 *   count) on dequeue: when the sojourn time has stayed at or above `target` for `interval`, drop
 *   ('aqm') at times spaced interval / √count. The backlog test uses the MTU as maxpacket.
 */

import { DEFAULT_QUEUE, type QueueConfig, type RateConfig } from './config.ts';
import { packetTimeMs } from './stages.ts';
import { DELIVERY_OPPORTUNITY_BYTES, type DeliverySchedule } from './time-traces.ts';

export type LinkService =
  { readonly kind: 'trace'; readonly schedule: DeliverySchedule } | { readonly kind: 'rate'; readonly rate: RateConfig };

export type LinkDropReason = 'tail' | 'aqm';

/** A packet in the bottleneck; the callbacks are its fate. */
export interface LinkItem {
  /** Size on the link (IP bytes). */
  readonly bytes: number;
  /** Left the link at `atMs` after `sojournMs` in the queue (dequeue time − arrival). */
  depart(atMs: number, sojournMs: number): void;
  /** Dropped at `atMs`: on arrival ('tail'), or by CoDel on dequeue ('aqm', after `sojournMs`). */
  drop(reason: LinkDropReason, atMs: number, sojournMs: number | undefined): void;
}

interface Queued {
  readonly item: LinkItem;
  readonly enqMs: number;
}

interface Pending {
  readonly t: number;
  readonly order: number;
  readonly item: LinkItem;
}

export interface LinkCounters {
  arrived: number;
  departed: number;
  tailDrops: number;
  aqmDrops: number;
  /** Largest backlog seen on arrival (after the packet was queued). */
  maxQueuePackets: number;
  maxQueueBytes: number;
}

/** RFC 8289 CoDel state (§5.3-§5.5); times in ms on the link's clock. */
class CoDel {
  private firstAboveTime: number | undefined;
  private dropNext = 0;
  private count = 0;
  private lastCount = 0;
  private dropping = false;

  constructor(
    private readonly targetMs: number,
    private readonly intervalMs: number,
    private readonly maxPacket: number,
  ) {}

  /** Whether CoDel is in its dropping state (for tests). */
  get isDropping(): boolean {
    return this.dropping;
  }

  private controlLaw(t: number, count: number): number {
    return t + this.intervalMs / Math.sqrt(count);
  }

  /** §5.4 dodequeue: the head (if any) and whether it may be dropped. */
  private dodequeue(q: LinkQueue, now: number): { p: Queued | undefined; okToDrop: boolean } {
    const p = q.shift();
    if (!p) {
      this.firstAboveTime = undefined;
      return { p, okToDrop: false };
    }
    const sojourn = now - p.enqMs;
    let okToDrop = false;
    if (sojourn < this.targetMs || q.bytes <= this.maxPacket) {
      this.firstAboveTime = undefined;
    } else if (this.firstAboveTime === undefined) {
      this.firstAboveTime = now + this.intervalMs;
    } else if (now >= this.firstAboveTime) {
      okToDrop = true;
    }
    return { p, okToDrop };
  }

  /** §5.5 dequeue: the packet to send (undefined: the queue is empty); `drop` gets CoDel's victims. */
  dequeue(q: LinkQueue, now: number, drop: (p: Queued) => void): Queued | undefined {
    let r = this.dodequeue(q, now);
    if (!r.p) {
      this.dropping = false;
      return undefined;
    }
    if (this.dropping) {
      if (!r.okToDrop) this.dropping = false;
      while (now >= this.dropNext && this.dropping) {
        drop(r.p as Queued);
        this.count++;
        r = this.dodequeue(q, now);
        if (!r.okToDrop) this.dropping = false;
        else this.dropNext = this.controlLaw(this.dropNext, this.count);
      }
    } else if (r.okToDrop) {
      drop(r.p);
      r = this.dodequeue(q, now);
      this.dropping = true;
      const delta = this.count - this.lastCount;
      this.count = 1;
      if (delta > 1 && now - this.dropNext < 16 * this.intervalMs) this.count = delta;
      this.dropNext = this.controlLaw(now, this.count);
      this.lastCount = this.count;
    }
    return r.p;
  }
}

/** The FIFO with its byte count. */
class LinkQueue {
  private items: Queued[] = [];
  private head = 0;
  bytes = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(q: Queued): void {
    this.items.push(q);
    this.bytes += q.item.bytes;
  }
  shift(): Queued | undefined {
    if (this.head >= this.items.length) return undefined;
    const q = this.items[this.head++] as Queued;
    this.bytes -= q.item.bytes;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return q;
  }
  clear(): Queued[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    return rest;
  }
}

export class BottleneckLink {
  readonly counters: LinkCounters = { arrived: 0, departed: 0, tailDrops: 0, aqmDrops: 0, maxQueuePackets: 0, maxQueueBytes: 0 };
  private readonly pending: Pending[] = [];
  private order = 0;
  private readonly queue = new LinkQueue();
  private readonly codel: CoDel | undefined;
  private origin: number | undefined;
  /** Trace service: the next opportunity not yet used; the packet partly sent and its bytes left. */
  private nextOpp = 0;
  private transit: Queued | undefined;
  private transitLeft = 0;
  /** Rate service: when the link finishes the packet it is sending. */
  private freeAt = -Infinity;

  constructor(
    readonly service: LinkService,
    readonly queueConfig: QueueConfig = DEFAULT_QUEUE,
    /** maxpacket of CoDel's backlog test. */
    readonly mtu = DELIVERY_OPPORTUNITY_BYTES,
  ) {
    if (queueConfig.discipline === 'codel') this.codel = new CoDel(queueConfig.targetMs, queueConfig.intervalMs, mtu);
  }

  /** Trace time 0 (the first call wins); arrivals before it are refused. */
  start(atMs: number): void {
    this.origin ??= atMs;
  }

  get startedAt(): number | undefined {
    return this.origin;
  }

  /** A packet reaches the queue at `atMs` (≥ the last advance). */
  arrive(atMs: number, item: LinkItem): void {
    this.start(atMs);
    const p: Pending = { t: atMs, order: this.order++, item };
    const h = this.pending;
    h.push(p);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(p, h[parent] as Pending)) break;
      h[i] = h[parent] as Pending;
      i = parent;
    }
    h[i] = p;
  }

  /** Packets arrived-to-be, queued or in service. */
  get heldPackets(): number {
    return this.pending.length + this.queue.length + (this.transit ? 1 : 0);
  }

  get queuedPackets(): number {
    return this.queue.length;
  }

  get queuedBytes(): number {
    return this.queue.bytes;
  }

  /** When `advance` has something to do next (undefined: nothing held). */
  nextEventAt(): number | undefined {
    const a = this.pending[0]?.t;
    const s = this.nextServiceAt();
    if (a === undefined) return s;
    return s === undefined ? a : Math.min(a, s);
  }

  /** Runs every event at or before `nowMs`, in time order (arrivals first at equal times). */
  advance(nowMs: number): void {
    for (;;) {
      const a = this.pending[0];
      const s = this.nextServiceAt();
      if (a && a.t <= nowMs && (s === undefined || a.t <= s)) {
        this.popPending();
        this.enqueue(a.item, a.t);
        continue;
      }
      if (s !== undefined && s <= nowMs) {
        this.serve(s);
        continue;
      }
      return;
    }
  }

  /** Forgets everything held (the owner is gone); no callback is called. */
  clear(): number {
    const n = this.heldPackets;
    this.pending.length = 0;
    this.queue.clear();
    this.transit = undefined;
    this.transitLeft = 0;
    return n;
  }

  private nextServiceAt(): number | undefined {
    if (this.service.kind === 'trace') {
      if (!this.transit && this.queue.length === 0) return undefined;
      return (this.origin as number) + this.service.schedule.timeOf(this.nextOpp);
    }
    return this.queue.length === 0 ? undefined : this.freeAt;
  }

  private enqueue(item: LinkItem, t: number): void {
    this.counters.arrived++;
    const c = this.queueConfig;
    if (this.queue.length >= c.packets || (c.bytes !== undefined && this.queue.bytes + item.bytes > c.bytes)) {
      this.counters.tailDrops++;
      item.drop('tail', t, undefined);
      return;
    }
    const idle = this.queue.length === 0 && !this.transit;
    if (idle) {
      if (this.service.kind === 'trace') {
        const sched = this.service.schedule;
        const rel = t - (this.origin as number);
        if (sched.timeOf(this.nextOpp) < rel) this.nextOpp = sched.firstAtOrAfter(rel);
      } else if (this.freeAt < t) {
        this.freeAt = t;
      }
    }
    this.queue.push({ item, enqMs: t });
    if (this.queue.length > this.counters.maxQueuePackets) this.counters.maxQueuePackets = this.queue.length;
    if (this.queue.bytes > this.counters.maxQueueBytes) this.counters.maxQueueBytes = this.queue.bytes;
  }

  private dequeue(now: number): Queued | undefined {
    if (!this.codel) return this.queue.shift();
    return this.codel.dequeue(this.queue, now, (p) => {
      this.counters.aqmDrops++;
      p.item.drop('aqm', now, now - p.enqMs);
    });
  }

  private serve(t: number): void {
    if (this.service.kind === 'rate') {
      const p = this.dequeue(t);
      if (!p) return;
      const done = t + packetTimeMs(p.item.bytes, this.service.rate);
      this.freeAt = done;
      this.counters.departed++;
      p.item.depart(done, t - p.enqMs);
      return;
    }
    let budget = DELIVERY_OPPORTUNITY_BYTES;
    this.nextOpp++;
    while (budget > 0) {
      if (!this.transit) {
        const p = this.dequeue(t);
        if (!p) break;
        this.transit = p;
        this.transitLeft = p.item.bytes;
        this.transitSojourn = t - p.enqMs;
      }
      const use = Math.min(budget, this.transitLeft);
      this.transitLeft -= use;
      budget -= use;
      if (this.transitLeft === 0) {
        const p = this.transit;
        this.transit = undefined;
        this.counters.departed++;
        p.item.depart(t, this.transitSojourn);
      }
    }
  }

  private transitSojourn = 0;

  private popPending(): void {
    const h = this.pending;
    const last = h.pop() as Pending;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = -1;
      let best = last;
      if (l < h.length && before(h[l] as Pending, best)) {
        m = l;
        best = h[l] as Pending;
      }
      if (r < h.length && before(h[r] as Pending, best)) m = r;
      if (m < 0) break;
      h[i] = h[m] as Pending;
      i = m;
    }
    h[i] = last;
  }
}

function before(a: Pending, b: Pending): boolean {
  return a.t < b.t || (a.t === b.t && a.order < b.order);
}
