/**
 * The impairment of one lab run, in one place for both modes (simulated and real time): from the
 * run's condition and seed, the server-side spec (RTP per track or on a shared bottleneck, the
 * server's RTCP), the return-path spec (the receiver's RTCP), the egress hook that wraps each
 * track's path and keeps its emulator in hand, and the fate logs afterwards. A runner only plugs
 * `hook()` into the server (or calls `egress()` itself), `returnSpec` into the receiver, and waits
 * on `heldPackets` at the end of a run.
 */

import type { FateRecord, TraceOffsets } from '../impair/index.ts';
import type { EgressHookFactory } from '../server/index.ts';
import { pathSeed } from '../impair/index.ts';
import { ImpairedEgress, ImpairmentGroup, ImpairmentStage, PATH_RETURN, pathOptions } from '../transport/index.ts';
import type { Egress, ImpairmentSpec, PathModel, Scheduler } from '../transport/index.ts';
import type { Clock } from '../util/clock.ts';
import { resolveTrackKeys } from './experiment.ts';
import type { PathCondition, PresentationTrack, RunSpec } from './experiment.ts';

function model(p: PathCondition): PathModel {
  return { config: p.config, text: p.text, trace: p.trace, linkTrace: p.linkTrace, delayTrace: p.delayTrace };
}

/** Where one path's traces started in a run. */
export interface TracePathOffset extends TraceOffsets {
  /** `track N rtp`, `track N rtcp`, `track N return` or `shared link`. */
  path: string;
}

/** The presentation's tracks from the receiver's SDP tracks (media type, control id). */
export function presentationTracks(tracks: readonly { index: number; media: string; controlUrl: string }[]): PresentationTrack[] {
  return tracks.map((t) => ({ index: t.index, media: t.media, control: t.controlUrl.split('/').pop() ?? '' }));
}

export class RunImpairment {
  /** Server to receiver: every track's RTP, and RTCP when the condition says `rtcp`. */
  readonly spec: ImpairmentSpec;
  /** Receiver to server (RRs, BYE), when the condition says `return`. */
  readonly returnSpec: ImpairmentSpec | undefined;
  private readonly egresses = new Map<number, ImpairedEgress>();
  private group: ImpairmentGroup | undefined;
  private readonly returns = new Map<number, ImpairmentStage>();

  /** Per-track keys still to resolve against the presentation (bind), when some are not indices. */
  private unbound: boolean;
  private readonly condition: RunSpec['netem'];

  constructor(run: Pick<RunSpec, 'netem' | 'seed'> & Partial<Pick<RunSpec, 'traceOffset'>>) {
    const c = run.netem;
    const keys = Object.keys(c.tracks ?? {});
    this.unbound = keys.some((k) => !/^\d+$/.test(k));
    const tracks: (PathModel | undefined)[] = [];
    // Index keys need no presentation; media types and control ids wait for bind().
    if (!this.unbound) for (const [k, t] of Object.entries(c.tracks ?? {})) tracks[Number(k)] = model(t);
    this.spec = {
      ...model(c),
      seed: run.seed,
      recordFates: true,
      rtcp: c.rtcp !== undefined,
      rtcpModel: c.rtcp && model(c.rtcp),
      tracks: tracks.length > 0 ? tracks : undefined,
      sharedLink: c.sharedLink,
      traceOffset: run.traceOffset,
    };
    this.condition = c;
    this.returnSpec = c.returnPath && { ...model(c.returnPath), seed: run.seed, recordFates: true, traceOffset: run.traceOffset };
  }

  /**
   * Resolves the condition's per-track keys (`video`, `audio`, a control id or an index) against
   * the presentation's tracks, before the first SETUP; throws, naming what the presentation has,
   * when a key names no track.
   */
  bind(tracks: readonly PresentationTrack[]): void {
    const written = this.condition.tracks;
    if (!written) return;
    const r = resolveTrackKeys(written, tracks);
    if (!r.ok) throw new Error(`per-track impairment: ${r.message}`);
    this.spec.tracks = r.byIndex.map((t) => t && model(t));
    this.unbound = false;
  }

  /** Wraps track `track`'s path to the receiver (the run has one session: one group). */
  egress(direct: Egress, track: number, clock: Clock, scheduler: Scheduler): ImpairedEgress {
    if (this.unbound) throw new Error('internal: per-track impairment keyed by media or control, but no presentation was bound');
    this.group ??= new ImpairmentGroup(this.spec, clock, scheduler);
    const e = new ImpairedEgress(direct, this.spec, clock, scheduler, track, this.group);
    this.egresses.set(track, e);
    return e;
  }

  /** The server's egress hook for this run. */
  hook(): EgressHookFactory {
    return (clock, scheduler) => (direct, t) => {
      const e = this.egress(direct, t.trackIndex, clock, scheduler);
      return { egress: e, release: () => e.close() };
    };
  }

  /**
   * The return-path stage of track `track` (the receiver's RTCP to the server), when the condition
   * impairs it; a runner that builds the receiver itself passes its RTCP through it. (A PlaySession
   * builds its own from `returnSpec`: see `adoptReturnStages`.)
   */
  returnStage(track: number, clock: Clock, scheduler: Scheduler, reliable: boolean): ImpairmentStage | undefined {
    const r = this.returnSpec;
    if (!r) return undefined;
    const stage = new ImpairmentStage(
      r.config,
      pathSeed(r.seed, track, PATH_RETURN),
      { ...pathOptions(r, r.traceOffset), reliable },
      clock,
      scheduler,
    );
    this.returns.set(track, stage);
    return stage;
  }

  /** The return-path stages a PlaySession made from `returnSpec` (for their fate logs). */
  adoptReturnStages(stages: ReadonlyMap<number, { stage: ImpairmentStage }>): void {
    for (const [track, s] of stages) this.returns.set(track, s.stage);
  }

  /** Ground truth of track `track`'s return path, when impaired. */
  returnFates(track: number): readonly FateRecord[] | undefined {
    return this.returns.get(track)?.pipeline.fates;
  }

  /** Ground truth of track `track`'s RTP (empty before its egress exists). */
  rtpFates(track: number): readonly FateRecord[] {
    return this.egresses.get(track)?.rtpFates ?? [];
  }

  /** Ground truth of the server's RTCP on track `track`, when impaired. */
  rtcpFates(track: number): readonly FateRecord[] | undefined {
    return this.egresses.get(track)?.rtcp?.fates;
  }

  /**
   * Where each path's traces started (only paths with a trace): the provenance that lets a run's
   * trace segment be found again (results.json `params.traceOffsets`).
   */
  traceOffsets(): TracePathOffset[] {
    const out: TracePathOffset[] = [];
    const add = (path: string, o: TraceOffsets | undefined) => {
      if (o && (o.lossStart !== undefined || o.linkOffsetMs !== undefined || o.delayOffsetMs !== undefined)) out.push({ path, ...o });
    };
    add('shared link', this.group?.linkOffsets);
    for (const [t, e] of [...this.egresses].sort((a, b) => a[0] - b[0])) {
      add(`track ${t} rtp`, e.rtp.traceOffsets);
      add(`track ${t} rtcp`, e.rtcp?.traceOffsets);
    }
    for (const [t, r] of [...this.returns].sort((a, b) => a[0] - b[0])) add(`track ${t} return`, r.pipeline.traceOffsets);
    return out;
  }

  /** Packets the server-side emulators hold (delayed or in a bottleneck). */
  get heldPackets(): number {
    let n = 0;
    for (const e of this.egresses.values()) n += e.heldPackets;
    for (const r of this.returns.values()) n += r.heldPackets;
    return n;
  }
}
