import type { FateRecord } from '../impair/index.ts';
import { ImpairmentPipeline } from '../impair/index.ts';
import type { NetemConfig } from '../impair/index.ts';
import type { Clock } from '../util/clock.ts';
import type { Egress } from './egress.ts';
import type { ScheduledTask, Scheduler } from './scheduler.ts';

const EMPTY = Buffer.alloc(0);
const IP_UDP_OVERHEAD = 28;

/** A netem configuration and its seed, as given by a flag or a URL. */
export interface ImpairmentSpec {
  config: NetemConfig;
  seed: number;
  /** Loss trace samples when the config names `trace FILE` (already loaded). */
  trace?: Uint8Array;
  /** The words as given, for logs and reports. */
  text: string;
  /**
   * Keep the per-packet fate log (the lab's ground truth). Off by default: a served session keeps
   * only its pipelines' counters, so no client can make the server hold a record per packet.
   */
  recordFates?: boolean;
  /** Cap on fate records per pipeline when recorded (default FATE_LOG_DEFAULT_MAX_RECORDS). */
  maxFateRecords?: number;
}

/**
 * Egress through a network emulator: every RTP packet goes through a seeded netem pipeline that
 * drops, delays, reorders or duplicates it, and is sent when the pipeline says; RTCP goes through
 * its own pipeline with the same model (seed + 1) so that RTP's ground truth is RTP only. The fate
 * logs are the ground truth the lab compares RTCP reports with.
 */
export class ImpairedEgress implements Egress {
  readonly rtp: ImpairmentPipeline;
  readonly rtcp: ImpairmentPipeline;
  /** Packet ids per pipeline: RTP ids count RTP packets only (id n = the n-th packet sent). */
  private readonly ids = new Map<ImpairmentPipeline, number>();
  /** Copies held by a delay, waiting for their time: dropped with the session (close()). */
  private readonly held = new Set<ScheduledTask>();
  private closed = false;
  /** Packets dropped because the egress was closed while they were held, or sent after it. */
  droppedOnClose = 0;

  constructor(
    private readonly inner: Egress,
    readonly spec: ImpairmentSpec,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
  ) {
    const options = { trace: spec.trace, recordFates: spec.recordFates ?? false, maxFateRecords: spec.maxFateRecords };
    this.rtp = new ImpairmentPipeline(spec.config, spec.seed, options);
    this.rtcp = new ImpairmentPipeline(spec.config, spec.seed + 1, options);
  }

  get kind(): Egress['kind'] {
    return this.inner.kind;
  }

  get dropped(): number {
    return this.inner.dropped;
  }

  sendRtp(header: Buffer, payload: Buffer): void {
    this.pass(this.rtp, [header, payload], (h, p) => this.inner.sendRtp(h, p ?? EMPTY));
  }

  sendRtcp(packet: Buffer): void {
    this.pass(this.rtcp, [packet], (b) => this.inner.sendRtcp(b));
  }

  /** Packets held by a delay right now. */
  get heldPackets(): number {
    return this.held.size;
  }

  /**
   * Drops every packet still held by the emulator and refuses new ones: the session is gone, so
   * nothing it queued may outlive it (issue 13: a 3600 s delay kept 20 sessions' packets an hour).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.held) this.scheduler.remove(t);
    this.droppedOnClose += this.held.size;
    this.held.clear();
  }

  /** Ground truth for the RTP packets sent so far (empty unless the spec asked to record fates). */
  get rtpFates(): readonly FateRecord[] {
    return this.rtp.fates;
  }

  private pass(pipeline: ImpairmentPipeline, parts: Buffer[], send: (a: Buffer, b?: Buffer) => void): void {
    if (this.closed) {
      this.droppedOnClose++;
      return;
    }
    const now = this.clock.now();
    const bytes = parts.reduce((n, b) => n + b.length, 0);
    // The link sees IP + UDP headers too (the rate model counts them).
    const id = this.ids.get(pipeline) ?? 0;
    this.ids.set(pipeline, id + 1);
    const { copies } = pipeline.submit({ id, bytes: bytes + IP_UDP_OVERHEAD, sentAtMs: now }, now);
    for (const c of copies) {
      let out = parts;
      if (c.corrupt && c.corrupt.byteIndex < bytes) {
        // netem `corrupt` flips one bit; payloads are shared between sessions, so flip a copy.
        const one = Buffer.concat(parts);
        one[c.corrupt.byteIndex]! ^= 1 << c.corrupt.bit;
        out = [one];
      }
      if (c.atMs <= now) {
        send(out[0]!, out[1]);
        continue;
      }
      const task = this.scheduler.once(c.atMs, () => {
        this.held.delete(task);
        send(out[0]!, out[1]);
      });
      this.held.add(task);
    }
  }
}
