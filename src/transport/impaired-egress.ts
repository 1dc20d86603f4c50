import { pathSeed } from '../impair/index.ts';
import type { FateRecord, ImpairmentPipeline, NetemConfig } from '../impair/index.ts';
import type { Clock } from '../util/clock.ts';
import type { Egress } from './egress.ts';
import { ImpairmentStage } from './impairment-stage.ts';
import type { Scheduler } from './scheduler.ts';

const EMPTY = Buffer.alloc(0);

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
  /**
   * Impair RTCP too (its own stage per track, same model, its own seed; a loss trace is replayed
   * on it from its start as on every track). Off by default: the model and any trace apply to RTP
   * only, so sender reports and BYE arrive, as they would on a path that loses media packets.
   */
  rtcp?: boolean;
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
  ) {
    // Interleaved in the RTSP connection, the path is TCP: losses become retransmissions.
    const options = {
      trace: spec.trace,
      recordFates: spec.recordFates ?? false,
      maxFateRecords: spec.maxFateRecords,
      reliable: inner.kind === 'tcp',
    };
    this.rtpStage = new ImpairmentStage(spec.config, pathSeed(spec.seed, track, 0), options, clock, scheduler);
    if (spec.rtcp) this.rtcpStage = new ImpairmentStage(spec.config, pathSeed(spec.seed, track, 1), options, clock, scheduler);
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
