/**
 * `ImpairmentPipeline`: the netem stages for one path (one direction of one session), seeded, with
 * the fate log. Delivering is just scheduling: `submit(pkt, now)` says when each copy leaves the
 * emulator; the caller sends the datagram at those times (and flips the corrupt bit, if any).
 */

import { DEFAULT_QUEUE, type NetemConfig } from './config.ts';
import { BottleneckLink, type LinkDropReason } from './bottleneck.ts';
import { DeliverySchedule, DelaySchedule, type DelayTrace, type DeliveryTrace } from './time-traces.ts';
import {
  createStream,
  traceStartFraction,
  STREAM_CORRUPT,
  STREAM_DELAY,
  STREAM_DUPLICATE,
  STREAM_LOSS,
  STREAM_REORDER,
} from './crandom.ts';
import type { FateRecord } from './fate-log.ts';
import { createLossModel } from './loss-models.ts';
import {
  CorruptStage,
  DelayStage,
  DuplicateStage,
  HeldQueue,
  LimitStage,
  LossStage,
  newStagePacket,
  runStages,
  type PacketStage,
  type StageOutcome,
} from './stages.ts';

/** Default cap on fate records kept per pipeline (a 10-minute run at 1000 packet/s is 600 000). */
export const FATE_LOG_DEFAULT_MAX_RECORDS = 2_000_000;

export interface ImpairInputPacket {
  /** The caller's id for the packet (the fate log also numbers submissions itself, see `seq`). */
  readonly id: number;
  /** Datagram size in bytes (rate and corrupt use it). */
  readonly bytes: number;
  /** When the sender sent it (recorded; decisions use the submit time `nowMs`). */
  readonly sentAtMs: number;
}

export interface DeliveredCopy {
  /** 0 = the packet, 1 = netem's duplicate. */
  readonly copy: number;
  readonly atMs: number;
  /** Flip bit `bit` of byte `byteIndex` before sending this copy. */
  readonly corrupt?: { readonly byteIndex: number; readonly bit: number };
  /** Its fate record, when recorded: the stage notes when the copy actually left (releasedAtMs). */
  readonly record?: FateRecord;
}

export interface SubmitResult {
  /** When each surviving copy leaves the emulator (empty = dropped), in the order netem enqueued them. */
  readonly deliverAt: number[];
  readonly copies: DeliveredCopy[];
  /** Copies that went on into the bottleneck: their fate comes later, through `onLate`. */
  readonly queued: number;
}

/** Where a copy that entered the bottleneck goes when it leaves it (dropped copies are only recorded). */
export type LateDelivery = (copy: DeliveredCopy) => void;

export interface ImpairmentPipelineOptions {
  /** Samples for a `trace FILE` loss model (from `parseLossTrace`). */
  readonly trace?: Uint8Array;
  /** Cap on kept fate records; later ones are counted in `fateRecordsDropped`. */
  readonly maxFateRecords?: number;
  /**
   * Record fates at all (default true: the pipeline is a lab instrument). A server egress turns it
   * off unless an observer (the lab) asks: counters are kept either way.
   */
  readonly recordFates?: boolean;
  /**
   * The path is a TCP connection (RTP interleaved in RTSP): nothing on it is lost, duplicated,
   * corrupted or reordered. A segment the model loses or corrupts (or its queue drops) is
   * retransmitted and arrives RETRANSMIT_DELAY later; every later segment waits behind it
   * (head-of-line blocking); netem's duplicates are discarded as TCP discards them.
   */
  readonly reliable?: boolean;
  /** Samples of `link FILE` (from `parseDeliveryTrace`). */
  readonly linkTrace?: DeliveryTrace;
  /** Steps of `delaytrace FILE` (from `parseDelayTrace`). */
  readonly delayTrace?: DelayTrace;
  /**
   * A bottleneck shared with other pipelines (one queue for several tracks), built with
   * `createBottleneck`; its owner advances it. Without it, a config with `link` or `queue` gets
   * a bottleneck of its own (`ImpairmentPipeline.link`, advanced by the caller as well).
   */
  readonly link?: BottleneckLink;
  /**
   * Where the path's traces (`trace`, `link`, `delaytrace`) start: 0 (default) from their
   * beginning, or 'seeded': at a fraction of each trace's length or period drawn from the seed
   * (traceStartFraction), so that paths with different seeds sample a trace rather than repeat it.
   */
  readonly traceOffset?: TraceOffsetMode;
}

/** Traces start at their beginning (0) or at an offset drawn from the path's seed. */
export type TraceOffsetMode = 'seeded' | 0;

/** Where a path's traces start (the fields of the traces it has), for provenance. */
export interface TraceOffsets {
  /** The drawn fraction of each trace's length or period (0 with offset 0). */
  fraction: number;
  /** First sample of the loss trace replayed. */
  lossStart?: number;
  /** Delivery trace: path time 0 is trace time linkOffsetMs (whole ms). */
  linkOffsetMs?: number;
  /** Delay trace: path time 0 is trace time delayOffsetMs. */
  delayOffsetMs?: number;
}

/** The offsets of a path's traces under a mode and seed (see ImpairmentPipelineOptions.traceOffset). */
export function traceOffsetsFor(
  mode: TraceOffsetMode | undefined,
  seed: number,
  config: NetemConfig,
  files: { trace?: Uint8Array; linkTrace?: DeliveryTrace; delayTrace?: DelayTrace },
): TraceOffsets {
  const fraction = mode === 'seeded' ? traceStartFraction(seed) : 0;
  const o: TraceOffsets = { fraction };
  if (config.loss?.model === 'trace' && files.trace && files.trace.length > 0) o.lossStart = Math.floor(fraction * files.trace.length);
  if (config.link && files.linkTrace) {
    const period = files.linkTrace.times[files.linkTrace.times.length - 1] ?? 0;
    o.linkOffsetMs = Math.floor(fraction * period);
  }
  if (config.delayTrace && files.delayTrace) o.delayOffsetMs = fraction * files.delayTrace.periodMs;
  return o;
}

/** Whether a config needs a bottleneck queue (link trace, or an explicit queue in front of `rate`). */
export function usesBottleneck(config: NetemConfig): boolean {
  return config.link !== undefined || config.queue !== undefined;
}

/**
 * The bottleneck of a config: its queue drained by the delivery trace (`link FILE`, replayed from
 * trace time `linkOffsetMs`) or by `rate`.
 */
export function createBottleneck(config: NetemConfig, linkTrace?: DeliveryTrace, linkOffsetMs = 0): BottleneckLink {
  const queue = config.queue ?? DEFAULT_QUEUE;
  if (config.link) {
    if (!linkTrace) throw new Error(`delivery trace "${config.link.path}" was not loaded: pass it to the pipeline`);
    return new BottleneckLink({ kind: 'trace', schedule: new DeliverySchedule(linkTrace, linkOffsetMs) }, queue);
  }
  if (!config.rate) throw new Error('a bottleneck needs link FILE or rate RATE');
  return new BottleneckLink({ kind: 'rate', rate: config.rate }, queue);
}

/** A fate record while its fate is being decided (the bottleneck completes it later). */
type MutableFate = { -readonly [K in keyof FateRecord]: FateRecord[K] };

/** Linux's minimum retransmission timeout (TCP_RTO_MIN). */
export const TCP_RTO_MIN_MS = 200;

/**
 * When a lost segment arrives on a reliable path, after it was first sent: a retransmission
 * timeout, max(TCP_RTO_MIN_MS, round trip), then the one-way delay again. The model of the
 * round trip is twice the configured one-way delay; fast retransmit (three duplicate ACKs, often
 * sooner on a busy stream) is not modelled: this is the timeout case, the worse one.
 */
export function retransmitDelayMs(config: NetemConfig): number {
  const oneWay = config.delay?.delayMs ?? 0;
  return Math.max(TCP_RTO_MIN_MS, 2 * oneWay) + oneWay;
}

/** What a pipeline did, kept whether or not fates are recorded (a few numbers per pipeline). */
export interface PipelineCounters {
  /** Packets submitted. */
  submitted: number;
  /** Copies dropped (loss, limit), duplicates included. */
  dropped: number;
  /** Copies that left the emulator, duplicates included. */
  delivered: number;
  duplicated: number;
  /** Reliable paths: segments the model lost or corrupted, delivered by retransmission. */
  retransmitted: number;
  corrupted: number;
}

/** Builds netem's stage chain for a config and seed (exported so mitigations can wrap it). */
export function createNetemStages(config: NetemConfig, seed: number, trace?: Uint8Array, traceStart = 0): PacketStage[] {
  // With a bottleneck, `rate` is its link (drained after the delay stage), not netem's tfifo.
  if (config.queue && config.rate) config = { ...config, rate: undefined };
  const stages: PacketStage[] = [];
  if (config.duplicate && config.duplicate.p > 0) {
    stages.push(new DuplicateStage(createStream(seed, STREAM_DUPLICATE), config.duplicate.p, config.duplicate.correlation));
  }
  if (config.loss) stages.push(new LossStage(createLossModel(config.loss, createStream(seed, STREAM_LOSS), trace, traceStart)));
  if (config.corrupt && config.corrupt.p > 0) {
    stages.push(new CorruptStage(createStream(seed, STREAM_CORRUPT), config.corrupt.p, config.corrupt.correlation));
  }
  const queue = new HeldQueue();
  stages.push(new LimitStage(queue, config.limit));
  stages.push(
    new DelayStage(queue, config.delay, createStream(seed, STREAM_DELAY), config.reorder, createStream(seed, STREAM_REORDER), config.rate),
  );
  return stages;
}

export class ImpairmentPipeline {
  readonly seed: number;
  private readonly stages: PacketStage[];
  private readonly log: FateRecord[] = [];
  private readonly maxRecords: number;
  private readonly record: boolean;
  private dropped = 0;
  private seq = 0;
  private maxDeliveredAt = -Infinity;
  readonly counters: PipelineCounters = { submitted: 0, dropped: 0, delivered: 0, duplicated: 0, corrupted: 0, retransmitted: 0 };
  private readonly reliable: boolean;
  /** The bottleneck this pipeline's copies queue in (own or shared), when the config has one. */
  readonly link: BottleneckLink | undefined;
  private readonly delaySchedule: DelaySchedule | undefined;
  private firstSubmitMs: number | undefined;
  private inLinkCount = 0;
  /** Where this path's traces start (a shared link's offset is its group's, not in here). */
  readonly traceOffsets: TraceOffsets;

  /**
   * @param seed overrides `config.seed`; with neither, 0. Same config + seed + submissions → same fates.
   */
  constructor(
    readonly config: NetemConfig,
    seed?: number,
    options: ImpairmentPipelineOptions = {},
  ) {
    this.seed = seed ?? config.seed ?? 0;
    const own = options.link ? { ...options, linkTrace: undefined } : options;
    this.traceOffsets = traceOffsetsFor(options.traceOffset, this.seed, config, own);
    this.stages = createNetemStages(config, this.seed, options.trace, this.traceOffsets.lossStart);
    this.maxRecords = options.maxFateRecords ?? FATE_LOG_DEFAULT_MAX_RECORDS;
    this.record = options.recordFates ?? true;
    this.reliable = options.reliable ?? false;
    // A shared bottleneck applies whatever this path's own words (its netem stages come first).
    this.link =
      options.link ?? (usesBottleneck(config) ? createBottleneck(config, options.linkTrace, this.traceOffsets.linkOffsetMs) : undefined);
    if (config.delayTrace) {
      if (!options.delayTrace) throw new Error(`delay trace "${config.delayTrace.path}" was not loaded: pass it to the pipeline`);
      this.delaySchedule = new DelaySchedule(options.delayTrace, this.traceOffsets.delayOffsetMs);
    }
  }

  /** Copies in the bottleneck (arriving, queued or being sent): their fates are still open. */
  get inLink(): number {
    return this.inLinkCount;
  }

  /** The delay trace's delay for a copy leaving the bottleneck (or netem) at `atMs`. */
  private traceDelay(atMs: number): number {
    if (!this.delaySchedule) return 0;
    const origin = this.link?.startedAt ?? this.firstSubmitMs ?? atMs;
    return this.delaySchedule.delayAt(Math.max(0, atMs - origin));
  }

  /**
   * A surviving copy goes on into the bottleneck at `atMs` (when netem lets it go): its record is
   * completed, and `onLate` called, when the bottleneck decides. On a reliable path a copy the
   * queue drops is retransmitted, and copies stay in order.
   */
  private enterLink(
    link: BottleneckLink,
    atMs: number,
    bytes: number,
    copy: number,
    corrupt: DeliveredCopy['corrupt'],
    record: MutableFate | undefined,
    submitMs: number,
    onLate: LateDelivery | undefined,
  ): void {
    this.inLinkCount++;
    const leave = (at: number, extra: Partial<MutableFate>) => {
      if (this.reliable) at = Math.max(at, this.maxDeliveredAt);
      if (at > this.maxDeliveredAt) this.maxDeliveredAt = at;
      this.counters.delivered++;
      if (corrupt) this.counters.corrupted++;
      if (record) Object.assign(record, { deliveredAtMs: at, delayMs: at - submitMs }, extra);
      onLate?.({ copy, atMs: at, corrupt, record });
    };
    link.arrive(atMs, {
      bytes,
      depart: (t, sojournMs) => {
        this.inLinkCount--;
        leave(t + this.traceDelay(t), { sojournMs });
      },
      drop: (reason: LinkDropReason, t, sojournMs) => {
        this.inLinkCount--;
        if (this.reliable) {
          this.counters.retransmitted++;
          leave(t + retransmitDelayMs(this.config), { retransmitted: true, sojournMs });
          return;
        }
        this.counters.dropped++;
        if (record) Object.assign(record, { dropped: true, dropReason: reason, sojournMs, deliveredAtMs: undefined, delayMs: undefined });
      },
    });
  }

  /**
   * Decides the fate of one packet submitted at `nowMs` (submit in send order). With a bottleneck
   * (`link`, `queue`), surviving copies are queued there and `onLate` gets each when it leaves it;
   * the caller advances the bottleneck (`link.advance`, at `link.nextEventAt()`).
   */
  submit(pkt: ImpairInputPacket, nowMs: number, onLate?: LateDelivery): SubmitResult {
    this.firstSubmitMs ??= nowMs;
    this.link?.start(nowMs);
    const outcomes: StageOutcome[] = [];
    runStages(this.stages, newStagePacket(pkt), nowMs, (o) => outcomes.push(o));
    const seq = this.seq++;
    this.counters.submitted++;
    if (this.reliable) return this.submitReliable(pkt, outcomes, seq, nowMs, onLate);
    const prevMax = this.maxDeliveredAt;
    const deliverAt: number[] = [];
    const copies: DeliveredCopy[] = [];
    let queued = 0;
    for (const o of outcomes) {
      const p = o.pkt;
      if (p.copy === 1) this.counters.duplicated++;
      if (o.dropped) {
        this.counters.dropped++;
        if (!this.record) continue;
        this.push({
          seq,
          id: p.id,
          copy: p.copy,
          bytes: p.bytes,
          sentAtMs: p.sentAtMs,
          dropped: true,
          dropReason: o.reason,
          reordered: false,
          reorderDecision: false,
          duplicated: p.duplicated,
          corrupted: false,
        });
        continue;
      }
      const netemAt = p.deliverAtMs ?? nowMs;
      if (netemAt > this.maxDeliveredAt) this.maxDeliveredAt = netemAt;
      // No record object at all unless fates are kept (a served session's hot path).
      const fate: MutableFate | undefined = this.record
        ? {
            seq,
            id: p.id,
            copy: p.copy,
            bytes: p.bytes,
            sentAtMs: p.sentAtMs,
            dropped: false,
            reordered: netemAt < prevMax,
            reorderDecision: p.reorderDecision,
            duplicated: p.duplicated,
            corrupted: p.corrupt !== undefined,
          }
        : undefined;
      const record = fate ? this.push(fate) : undefined;
      if (this.link) {
        queued++;
        this.enterLink(this.link, netemAt, p.bytes, p.copy, p.corrupt, record, nowMs, onLate);
        continue;
      }
      const at = netemAt + this.traceDelay(netemAt);
      if (record) Object.assign(record, { deliveredAtMs: at, delayMs: at - nowMs });
      deliverAt.push(at);
      this.counters.delivered++;
      if (p.corrupt) this.counters.corrupted++;
      copies.push({ copy: p.copy, atMs: at, corrupt: p.corrupt, record });
    }
    return { deliverAt, copies, queued };
  }

  /** submit() on a reliable path: one copy, in order, a lost or corrupted one retransmitted. */
  private submitReliable(
    pkt: ImpairInputPacket,
    outcomes: StageOutcome[],
    seq: number,
    nowMs: number,
    onLate?: LateDelivery,
  ): SubmitResult {
    const o = outcomes.find((x) => x.pkt.copy === 0);
    const retransmitted = !o || o.dropped || o.pkt.corrupt !== undefined;
    const planned = retransmitted ? pkt.sentAtMs + retransmitDelayMs(this.config) : (o.pkt.deliverAtMs ?? nowMs);
    if (retransmitted) this.counters.retransmitted++;
    const fate: MutableFate | undefined = this.record
      ? {
          seq,
          id: pkt.id,
          copy: 0,
          bytes: pkt.bytes,
          sentAtMs: pkt.sentAtMs,
          dropped: false,
          retransmitted,
          reordered: false,
          reorderDecision: false,
          duplicated: false,
          corrupted: false,
        }
      : undefined;
    const record = fate ? this.push(fate) : undefined;
    if (this.link) {
      this.enterLink(this.link, planned, pkt.bytes, 0, undefined, record, nowMs, onLate);
      return { deliverAt: [], copies: [], queued: 1 };
    }
    // In order: a segment waits behind every earlier one.
    const withTrace = planned + this.traceDelay(planned);
    const at = Math.max(withTrace, this.maxDeliveredAt);
    this.maxDeliveredAt = at;
    this.counters.delivered++;
    if (record) Object.assign(record, { deliveredAtMs: at, delayMs: at - nowMs });
    return { deliverAt: [at], copies: [{ copy: 0, atMs: at, record }], queued: 0 };
  }

  /** Whether this pipeline keeps a fate log (see ImpairmentPipelineOptions.recordFates). */
  get recordsFates(): boolean {
    return this.record;
  }

  /** The fate log: one record per packet and per duplicate, in decision order (empty when not recorded). */
  get fates(): readonly FateRecord[] {
    return this.log;
  }

  /** Records not kept because the log reached its cap. */
  get fateRecordsDropped(): number {
    return this.dropped;
  }

  /** Keeps `r` in the log; returns it when kept. */
  private push(r: MutableFate): MutableFate | undefined {
    if (!this.record) return undefined;
    if (this.log.length >= this.maxRecords) {
      this.dropped++;
      return undefined;
    }
    this.log.push(r);
    return r;
  }
}
