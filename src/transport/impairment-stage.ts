import { ImpairmentPipeline } from '../impair/index.ts';
import type { BottleneckLink, DeliveredCopy, ImpairmentPipelineOptions, NetemConfig } from '../impair/index.ts';
import type { Clock } from '../util/clock.ts';
import type { ScheduledTask, Scheduler } from './scheduler.ts';

/** The emulated link sees IP + UDP headers too (netem's rate model counts them). */
export const IP_UDP_OVERHEAD = 28;

/** A copy handed on later than this after its due time counts as released late (a host stall). */
export const LATE_RELEASE_MS = 5;

/** Which way a stage carries packets of one track (each gets its own random streams). */
export type ImpairedDirection = 'rtp' | 'rtcp';

/**
 * Runs a bottleneck (a queue drained by a delivery trace or a rate, with its AQM) on the scheduler:
 * advanced to now after every packet, and woken exactly at its next event. One driver per
 * bottleneck: a link shared by several tracks has one driver their stages attach to; when the last
 * detaches, what it still holds is forgotten.
 */
export class LinkDriver {
  private task: ScheduledTask | undefined;
  private taskAt = Infinity;
  private users = 0;

  constructor(
    readonly link: BottleneckLink,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
  ) {}

  attach(): void {
    this.users++;
  }

  detach(): void {
    if (--this.users > 0) return;
    if (this.task) this.scheduler.remove(this.task);
    this.task = undefined;
    this.taskAt = Infinity;
    this.link.clear();
  }

  /** Runs the bottleneck's events up to now and arms the wake-up for its next one. */
  kick(): void {
    this.link.advance(this.clock.now());
    const next = this.link.nextEventAt();
    if (this.task && next === this.taskAt) return;
    if (this.task) this.scheduler.remove(this.task);
    this.task = undefined;
    this.taskAt = Infinity;
    if (next === undefined) return;
    this.taskAt = next;
    this.task = this.scheduler.once(
      next,
      () => {
        this.task = undefined;
        this.taskAt = Infinity;
        this.kick();
      },
      true,
    );
  }
}

/**
 * One direction of an emulated network link, the single impairment stage every path uses: server
 * egress (ImpairedEgress), `play --impair` ingress, the `streamlab netem` relay and the lab. A
 * seeded netem pipeline decides each packet's fate; the stage carries it out: drops it, hands it
 * on now, or holds it on the scheduler until its delivery time; corrupted copies are flipped in a
 * copy (payloads are shared). close() drops what is held, so nothing outlives its owner.
 */
export class ImpairmentStage {
  readonly pipeline: ImpairmentPipeline;
  private readonly held = new Set<ScheduledTask>();
  private nextId = 0;
  private closed = false;
  /** Packets dropped because the stage was closed while they were held, or passed after it. */
  droppedOnClose = 0;
  /** Copies handed on more than LATE_RELEASE_MS after their due time, and the worst lateness. */
  readonly lateness = { lateReleases: 0, maxLateMs: 0 };

  /** Drives the pipeline's bottleneck, when its config has one (shared: the caller's driver). */
  private readonly driver: LinkDriver | undefined;
  private readonly sharedLink: boolean;

  constructor(
    config: NetemConfig,
    seed: number,
    options: ImpairmentPipelineOptions,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
    /** A bottleneck shared with other stages (ImpairmentSpec.shared); else the pipeline's own, if any. */
    shared?: LinkDriver,
  ) {
    this.pipeline = new ImpairmentPipeline(config, seed, shared ? { ...options, link: shared.link } : options);
    this.sharedLink = shared !== undefined;
    const link = this.pipeline.link;
    if (link) {
      this.driver = shared ?? new LinkDriver(link, clock, scheduler);
      this.driver.attach();
    }
  }

  /**
   * One packet (its parts, e.g. header and payload, passed on as given) through the link:
   * `deliver` gets each copy that survives, when it is due. Returns the number of copies.
   */
  pass(parts: readonly Buffer[], deliver: (parts: readonly Buffer[]) => void): number {
    if (this.closed) {
      this.droppedOnClose++;
      return 0;
    }
    const now = this.clock.now();
    let bytes = 0;
    for (const b of parts) bytes += b.length;
    const { copies, queued } = this.pipeline.submit({ id: this.nextId++, bytes: bytes + IP_UDP_OVERHEAD, sentAtMs: now }, now, (c) =>
      this.emit(c, parts, bytes, deliver),
    );
    for (const c of copies) this.emit(c, parts, bytes, deliver);
    if (queued > 0) this.driver?.kick();
    return copies.length + queued;
  }

  /** Hands on one copy when it is due (now, or held on the scheduler until then). */
  private emit(c: DeliveredCopy, parts: readonly Buffer[], bytes: number, deliver: (parts: readonly Buffer[]) => void): void {
    if (this.closed) {
      // Out of a shared bottleneck after this stage closed.
      this.droppedOnClose++;
      return;
    }
    let out = parts;
    if (c.corrupt && c.corrupt.byteIndex < bytes) {
      // netem `corrupt` flips one bit.
      const one = Buffer.concat(parts);
      one[c.corrupt.byteIndex] = (one[c.corrupt.byteIndex] ?? 0) ^ (1 << c.corrupt.bit);
      out = [one];
    }
    const now = this.clock.now();
    if (c.atMs <= now) {
      // Due already: at submit, or out of a bottleneck woken late (a host stall).
      this.noteLateness(now - c.atMs);
      if (c.record) c.record.releasedAtMs = now;
      deliver(out);
      return;
    }
    // Exact: a delayed copy never leaves before its time (the scheduler groups other wake-ups).
    const task = this.scheduler.once(
      c.atMs,
      () => {
        this.held.delete(task);
        const released = this.clock.now();
        this.noteLateness(released - c.atMs);
        if (c.record) c.record.releasedAtMs = released;
        deliver(out);
      },
      true,
    );
    this.held.add(task);
  }

  private noteLateness(late: number): void {
    if (late > this.lateness.maxLateMs) this.lateness.maxLateMs = late;
    if (late > LATE_RELEASE_MS) this.lateness.lateReleases++;
  }

  /** Packets held by a delay or in the bottleneck right now. */
  get heldPackets(): number {
    return this.held.size + this.pipeline.inLink;
  }

  /** Drops every packet still held and refuses new ones. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.held) this.scheduler.remove(t);
    this.droppedOnClose += this.held.size;
    this.held.clear();
    if (this.driver) {
      // A shared bottleneck still carries this stage's copies: each counts when it comes out.
      if (!this.sharedLink) this.droppedOnClose += this.pipeline.inLink;
      this.driver.detach();
    }
  }
}
