import { createBottleneck, pathSeed, traceOffsetsFor } from '../impair/index.ts';
import type {
  DelayTrace,
  DeliveryTrace,
  FateRecord,
  ImpairmentPipeline,
  NetemConfig,
  TraceOffsetMode,
  TraceOffsets,
} from '../impair/index.ts';
import type { Clock } from '../util/clock.ts';
import type { Egress } from './egress.ts';
import { ImpairmentStage, LinkDriver } from './impairment-stage.ts';
import type { Scheduler } from './scheduler.ts';

const EMPTY = Buffer.alloc(0);

/** Path directions in pathSeed: each gets its own random streams. */
export const PATH_RTP = 0;
export const PATH_RTCP = 1;
/** The receiver's RTCP back to the sender (the return path). */
export const PATH_RETURN = 2;
/** The track number in pathSeed of a bottleneck shared by a session's tracks (its trace offset). */
export const SHARED_LINK_TRACK = 0xffff_ffff;

/** One emulated path's model: netem words, parsed, with the files they name already loaded. */
export interface PathModel {
  config: NetemConfig;
  /** The words, for logs and reports. */
  text: string;
  /** Loss trace samples when the config names `trace FILE`. */
  trace?: Uint8Array;
  /** `link FILE` and `delaytrace FILE`. */
  linkTrace?: DeliveryTrace;
  delayTrace?: DelayTrace;
}

/** A netem configuration and its seed, as given by a flag or a URL. */
export interface ImpairmentSpec extends PathModel {
  seed: number;
  /**
   * Keep the per-packet fate log (the lab's ground truth). Off by default: a served session keeps
   * only its pipelines' counters, so no client can make the server hold a record per packet.
   */
  recordFates?: boolean;
  /** Cap on fate records per pipeline when recorded (default FATE_LOG_DEFAULT_MAX_RECORDS). */
  maxFateRecords?: number;
  /**
   * Impair RTCP too (its own stage per track, same model, its own seed; a loss trace is replayed
   * on it from its start as on every track). Off by default: the model and any trace apply to RTP
   * only, so sender reports and BYE arrive, as they would on a path that loses media packets.
   */
  rtcp?: boolean;
  /** RTCP's own model when `rtcp` is set (default: the RTP model). */
  rtcpModel?: PathModel;
  /** Track i's RTP model when `tracks[i]` is given (default: this spec's). */
  tracks?: readonly (PathModel | undefined)[];
  /**
   * One bottleneck (this spec's `link` or `rate` with `queue`) for the RTP of all the session's
   * tracks: one queue, shared capacity; each track keeps its own netem stages and seeds. Off:
   * each track has a bottleneck of its own.
   */
  sharedLink?: boolean;
  /**
   * Where every path's traces start (ImpairmentPipelineOptions.traceOffset): 0 (default) from
   * their beginning, 'seeded' at an offset drawn from the path's own seed (the lab's default).
   */
  traceOffset?: TraceOffsetMode;
}

/** The RTP model of track `track` under a spec. */
export function trackModel(spec: ImpairmentSpec, track: number): PathModel {
  return spec.tracks?.[track] ?? spec;
}

/** Pipeline options for a path model (with where its traces start). */
export function pathOptions(
  m: PathModel,
  traceOffset?: TraceOffsetMode,
): { trace?: Uint8Array; linkTrace?: DeliveryTrace; delayTrace?: DelayTrace; traceOffset?: TraceOffsetMode } {
  return { trace: m.trace, linkTrace: m.linkTrace, delayTrace: m.delayTrace, traceOffset };
}

/**
 * What the tracks of one session share: with `sharedLink`, one bottleneck and its driver (built
 * when the first track asks). One group per session; a spec without `sharedLink` shares nothing.
 */
export class ImpairmentGroup {
  private driver: LinkDriver | undefined;
  /** Where the shared link's delivery trace starts, once built (seed: pathSeed(seed, SHARED_LINK_TRACK, PATH_RTP)). */
  linkOffsets: TraceOffsets | undefined;
  constructor(
    readonly spec: ImpairmentSpec,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
  ) {}

  /** The shared bottleneck's driver, or undefined when the tracks have their own. */
  sharedLink(): LinkDriver | undefined {
    if (!this.spec.sharedLink) return undefined;
    if (!this.driver) {
      const s = this.spec;
      this.linkOffsets = traceOffsetsFor(
        s.traceOffset,
        pathSeed(s.seed, SHARED_LINK_TRACK, PATH_RTP),
        { ...s.config, loss: undefined, delayTrace: undefined },
        s,
      );
      this.driver = new LinkDriver(createBottleneck(s.config, s.linkTrace, this.linkOffsets.linkOffsetMs), this.clock, this.scheduler);
    }
    return this.driver;
  }
}

/**
 * Egress through a network emulator: every RTP packet goes through its track's RTP stage; RTCP
 * passes untouched unless the spec asks for it (`rtcp`), then through its own stage (same model,
 * independent seeds: pathSeed(seed, track, direction)), so that RTP's ground truth is RTP only.
 * The fate logs are the ground truth the lab compares RTCP reports with.
 */
export class ImpairedEgress implements Egress {
  private readonly rtpStage: ImpairmentStage;
  private readonly rtcpStage: ImpairmentStage | undefined;

  constructor(
    private readonly inner: Egress,
    readonly spec: ImpairmentSpec,
    clock: Clock,
    scheduler: Scheduler,
    /** Which track of its session this is (its seeds differ from the other tracks'). */
    readonly track = 0,
    /** The session's group, for a bottleneck shared by its tracks (ImpairmentSpec.sharedLink). */
    group?: ImpairmentGroup,
  ) {
    // Interleaved in the RTSP connection, the path is TCP: losses become retransmissions.
    const common = {
      recordFates: spec.recordFates ?? false,
      maxFateRecords: spec.maxFateRecords,
      reliable: inner.kind === 'tcp',
    };
    const rtp = trackModel(spec, track);
    const shared = spec.sharedLink ? (group ?? new ImpairmentGroup(spec, clock, scheduler)).sharedLink() : undefined;
    this.rtpStage = new ImpairmentStage(
      rtp.config,
      pathSeed(spec.seed, track, PATH_RTP),
      { ...common, ...pathOptions(rtp, spec.traceOffset) },
      clock,
      scheduler,
      shared,
    );
    if (spec.rtcp) {
      const m = spec.rtcpModel ?? rtp;
      this.rtcpStage = new ImpairmentStage(
        m.config,
        pathSeed(spec.seed, track, PATH_RTCP),
        { ...common, ...pathOptions(m, spec.traceOffset) },
        clock,
        scheduler,
      );
    }
  }

  get kind(): Egress['kind'] {
    return this.inner.kind;
  }

  get dropped(): number {
    return this.inner.dropped;
  }

  get rtp(): ImpairmentPipeline {
    return this.rtpStage.pipeline;
  }

  /** The RTCP path's pipeline, when RTCP is impaired (ImpairmentSpec.rtcp). */
  get rtcp(): ImpairmentPipeline | undefined {
    return this.rtcpStage?.pipeline;
  }

  sendRtp(header: Buffer, payload: Buffer): void {
    this.rtpStage.pass([header, payload], (p) => this.inner.sendRtp(p[0] ?? EMPTY, p[1] ?? EMPTY));
  }

  sendRtcp(packet: Buffer): void {
    if (this.rtcpStage) this.rtcpStage.pass([packet], (p) => this.inner.sendRtcp(p[0] ?? EMPTY));
    else this.inner.sendRtcp(packet);
  }

  /** Packets held by a delay right now. */
  get heldPackets(): number {
    return this.rtpStage.heldPackets + (this.rtcpStage?.heldPackets ?? 0);
  }

  /** Packets dropped because the egress was closed while they were held, or sent after it. */
  get droppedOnClose(): number {
    return this.rtpStage.droppedOnClose + (this.rtcpStage?.droppedOnClose ?? 0);
  }

  /**
   * Drops every packet still held by the emulator and refuses new ones: the session is gone, so
   * nothing it queued may outlive it (issue 13: a 3600 s delay kept 20 sessions' packets an hour).
   */
  close(): void {
    this.rtpStage.close();
    this.rtcpStage?.close();
  }

  /** Ground truth for the RTP packets sent so far (empty unless the spec asked to record fates). */
  get rtpFates(): readonly FateRecord[] {
    return this.rtp.fates;
  }
}
