/**
 * Loss generators, one decision per packet passing the loss stage, as `sch_netem.c` makes them:
 * Bernoulli with netem correlation (`loss random`), Gilbert-Elliott (`loss gemodel`), the 4-state
 * Markov chain (`loss state`), and trace replay (ours). Each is pure state + a seeded stream.
 */

import type { GeLossConfig, LossConfig, StateLossConfig } from './config.ts';
import { CorrelatedRandom, probabilityToU32 } from './crandom.ts';
import type { Prng } from '../util/prng.ts';

export interface LossModel {
  /** Decides the next packet: true = lost. */
  lose(): boolean;
}

/** `loss random P [CORR]`: lost when netem's correlated u32 is <= P·(2^32-1). */
export class BernoulliLoss implements LossModel {
  private readonly rnd: CorrelatedRandom;
  constructor(
    prng: Prng,
    private readonly p: number,
    correlation: number,
  ) {
    this.rnd = new CorrelatedRandom(prng, correlation);
  }
  lose(): boolean {
    return this.rnd.chance(this.p);
  }
}

/**
 * Gilbert-Elliott as `loss_gilb_ell`: two draws per packet. In the state the packet finds, the first
 * draw moves good→bad (< p) or bad→good (< r); the second decides the loss with the loss
 * probability of the state the packet found (1-k in good, 1-h in bad). Starts in good.
 */
export class GilbertElliottLoss implements LossModel {
  private bad = false;
  private readonly pU32: number;
  private readonly rU32: number;
  private readonly hU32: number;
  private readonly k1U32: number;

  constructor(
    private readonly prng: Prng,
    config: Pick<GeLossConfig, 'p' | 'r' | 'oneMinusH' | 'oneMinusK'>,
  ) {
    this.pU32 = probabilityToU32(config.p);
    this.rU32 = probabilityToU32(config.r);
    // tc sends h = UINT32_MAX - (1-h); the kernel loses in the bad state when rnd > h.
    this.hU32 = 0xffffffff - probabilityToU32(config.oneMinusH);
    this.k1U32 = probabilityToU32(config.oneMinusK);
  }

  /** Whether the chain is in the bad state (for tests and traces). */
  get inBadState(): boolean {
    return this.bad;
  }

  lose(): boolean {
    if (!this.bad) {
      if (this.prng.nextUint32() < this.pU32) this.bad = true;
      return this.prng.nextUint32() < this.k1U32;
    }
    if (this.prng.nextUint32() < this.rU32) this.bad = false;
    return this.prng.nextUint32() > this.hU32;
  }
}

/** States of the 4-state model, numbered as in Salsano et al. and the tc man page. */
export const GI_STATE = { GOOD: 1, GOOD_IN_BURST: 2, BURST_LOSS: 3, ISOLATED_LOSS: 4 } as const;

/**
 * The 4-state chain as `loss_4state`: one draw per packet moves the chain; the packet is lost when
 * the chain moves INTO state 3 (burst loss) or 4 (isolated loss). Starts in state 1.
 *   1: < p14 → 4, < p13 + p14 → 3, else 1      2: < p23 → 3, else 2
 *   3: < p32 → 2, < p31 + p32 → 1, else 3      4: → 1
 */
export class FourStateLoss implements LossModel {
  private s: number = GI_STATE.GOOD;
  private readonly p13: number;
  private readonly p31: number;
  private readonly p32: number;
  private readonly p23: number;
  private readonly p14: number;

  constructor(
    private readonly prng: Prng,
    config: Pick<StateLossConfig, 'p13' | 'p31' | 'p32' | 'p23' | 'p14'>,
  ) {
    this.p13 = probabilityToU32(config.p13);
    this.p31 = probabilityToU32(config.p31);
    this.p32 = probabilityToU32(config.p32);
    this.p23 = probabilityToU32(config.p23);
    this.p14 = probabilityToU32(config.p14);
  }

  get state(): number {
    return this.s;
  }

  lose(): boolean {
    const rnd = this.prng.nextUint32();
    switch (this.s) {
      case GI_STATE.GOOD:
        if (rnd < this.p14) {
          this.s = GI_STATE.ISOLATED_LOSS;
          return true;
        }
        if (rnd < this.p13 + this.p14) {
          this.s = GI_STATE.BURST_LOSS;
          return true;
        }
        return false;
      case GI_STATE.GOOD_IN_BURST:
        if (rnd < this.p23) {
          this.s = GI_STATE.BURST_LOSS;
          return true;
        }
        return false;
      case GI_STATE.BURST_LOSS:
        if (rnd < this.p32) this.s = GI_STATE.GOOD_IN_BURST;
        else if (rnd < this.p31 + this.p32) this.s = GI_STATE.GOOD;
        else return true;
        return false;
      default:
        this.s = GI_STATE.GOOD;
        return false;
    }
  }
}

/** Replays a 0/1 trace (1 = lost) from sample `start`, wrapping around at the end. */
export class TraceLoss implements LossModel {
  private i: number;
  constructor(
    private readonly trace: Uint8Array,
    start = 0,
  ) {
    if (trace.length === 0) throw new RangeError('TraceLoss: empty trace');
    if (!(Number.isInteger(start) && start >= 0 && start < trace.length))
      throw new RangeError(`TraceLoss: start ${start} outside the trace`);
    this.i = start;
  }
  lose(): boolean {
    const v = this.trace[this.i] === 1;
    this.i = (this.i + 1) % this.trace.length;
    return v;
  }
}

/** Builds the loss model for a config; `trace` is required for the trace model (replayed from `traceStart`). */
export function createLossModel(config: LossConfig, prng: Prng, trace?: Uint8Array, traceStart = 0): LossModel {
  switch (config.model) {
    case 'random':
      return new BernoulliLoss(prng, config.p, config.correlation);
    case 'gemodel':
      return new GilbertElliottLoss(prng, config);
    case 'state':
      return new FourStateLoss(prng, config);
    case 'trace':
      if (!trace) throw new Error(`loss trace "${config.path}" was not loaded: pass it to the pipeline`);
      return new TraceLoss(trace, traceStart);
  }
}

/** Analytic long-run loss of Gilbert-Elliott: π_G (1-k) + π_B (1-h), π_B = p / (p + r). */
export function geStationaryLoss(c: Pick<GeLossConfig, 'p' | 'r' | 'oneMinusH' | 'oneMinusK'>): number {
  if (c.p + c.r === 0) return c.oneMinusK; // never leaves the good state it starts in
  const piBad = c.p / (c.p + c.r);
  return (1 - piBad) * c.oneMinusK + piBad * c.oneMinusH;
}

/**
 * Analytic long-run loss of the 4-state chain: π3 + π4 with (balance equations)
 * π4 = p14 π1, π3 = (p13 / p31) π1, π2 = (p32 / p23) π3, Σπ = 1.
 */
export function fourStateStationaryLoss(c: Pick<StateLossConfig, 'p13' | 'p31' | 'p32' | 'p23' | 'p14'>): number {
  if (c.p13 === 0) return c.p14 / (1 + c.p14); // only states 1 and 4 are visited
  if (c.p31 === 0) return c.p32 === 0 ? 1 : c.p23 / (c.p23 + c.p32); // 1 and 4 are left for good
  const r3 = c.p13 / c.p31;
  if (c.p23 === 0 && c.p32 > 0) return 0; // state 2 is absorbing
  const r2 = c.p32 === 0 ? 0 : (r3 * c.p32) / c.p23;
  const pi1 = 1 / (1 + c.p14 + r3 + r2);
  return pi1 * (r3 + c.p14);
}
