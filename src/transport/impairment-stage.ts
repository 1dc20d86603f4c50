import { ImpairmentPipeline } from '../impair/index.ts';
import type { ImpairmentPipelineOptions, NetemConfig } from '../impair/index.ts';
import type { Clock } from '../util/clock.ts';
import type { ScheduledTask, Scheduler } from './scheduler.ts';

/** The emulated link sees IP + UDP headers too (netem's rate model counts them). */
export const IP_UDP_OVERHEAD = 28;

/** A copy handed on later than this after its due time counts as released late (a host stall). */
export const LATE_RELEASE_MS = 5;

/** Which way a stage carries packets of one track (each gets its own random streams). */
export type ImpairedDirection = 'rtp' | 'rtcp';

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

  constructor(
    config: NetemConfig,
    seed: number,
    options: ImpairmentPipelineOptions,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
  ) {
    this.pipeline = new ImpairmentPipeline(config, seed, options);
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
    const { copies } = this.pipeline.submit({ id: this.nextId++, bytes: bytes + IP_UDP_OVERHEAD, sentAtMs: now }, now);
    for (const c of copies) {
      let out = parts;
      if (c.corrupt && c.corrupt.byteIndex < bytes) {
        // netem `corrupt` flips one bit.
        const one = Buffer.concat(parts);
        one[c.corrupt.byteIndex] = (one[c.corrupt.byteIndex] ?? 0) ^ (1 << c.corrupt.bit);
        out = [one];
      }
      if (c.atMs <= now) {
        if (c.record) c.record.releasedAtMs = now;
        deliver(out);
        continue;
      }
      // Exact: a delayed copy never leaves before its time (the scheduler groups other wake-ups).
      const task = this.scheduler.once(
        c.atMs,
        () => {
          this.held.delete(task);
          const released = this.clock.now();
          const late = released - c.atMs;
          if (late > this.lateness.maxLateMs) this.lateness.maxLateMs = late;
          if (late > LATE_RELEASE_MS) this.lateness.lateReleases++;
          if (c.record) c.record.releasedAtMs = released;
          deliver(out);
        },
        true,
      );
      this.held.add(task);
    }
    return copies.length;
  }

  /** Packets held by a delay right now. */
  get heldPackets(): number {
    return this.held.size;
  }

  /** Drops every packet still held and refuses new ones. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.held) this.scheduler.remove(t);
    this.droppedOnClose += this.held.size;
    this.held.clear();
  }
}
