/**
 * Random sources for the models: one seeded xoshiro128** stream per decision (loss, duplicate,
 * corrupt, reorder, delay), and netem's "correlated" random numbers on top of a stream.
 *
 * Streams: netem draws everything from one generator, so turning on jitter changes which packets
 * are lost. We give each decision its own stream derived from (seed, stream id), so the loss pattern
 * for a seed stays the same when delay, jitter, reorder or rate parameters change (common random
 * numbers across an experiment matrix). Duplicates still pass through the loss model, as in netem.
 *
 * Correlation (netem `get_crandom`): next = (U · (2^32 - ρ) + last · ρ) >> 32 with ρ = corr · 2^32,
 * an exponential moving average of uniform draws. It is known not to give what users expect: the
 * average of uniforms is not uniform (it concentrates around 1/2), so `loss 1% 25%` loses well under
 * 1 % of packets, while the lag-1 correlation of the numbers is ≈ corr. We reproduce it faithfully
 * for loss, duplicate, corrupt and reorder (pasting netem arguments gives netem's behaviour); see
 * delay-dist.ts for delay.
 */

import { createPrng, type Prng } from '../util/prng.ts';

export const STREAM_LOSS = 1;
export const STREAM_DUPLICATE = 2;
export const STREAM_CORRUPT = 3;
export const STREAM_REORDER = 4;
export const STREAM_DELAY = 5;
/** Where the path's traces start (ImpairmentPipelineOptions.traceOffset 'seeded'). */
export const STREAM_TRACE_OFFSET = 6;

/** The 32-bit seed of stream `stream` for a run seed (any safe integer; u64 seeds fold hi ^ lo). */
export function streamSeed(seed: number, stream: number): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 0x1_0000_0000) >>> 0;
  // Mix the stream id in with a multiplicative hash; createPrng's splitmix32 spreads it further.
  return (lo ^ Math.imul(hi, 0x85ebca6b) ^ Math.imul(stream, 0x9e3779b9)) >>> 0;
}

/**
 * The seed of one emulated path: run seed × track × direction (0 RTP, 1 RTCP), hashed so that
 * every path of every run draws independent numbers (seed + 2·track made run s's audio replay run
 * s + 2's video). murmur3's fmix32 over the 32-bit words of (seed, track, direction).
 */
export function pathSeed(seed: number, track: number, direction: number): number {
  let h = 0x2545f491;
  for (const word of [seed >>> 0, Math.floor(seed / 0x1_0000_0000) >>> 0, track >>> 0, direction >>> 0]) {
    h = Math.imul(h ^ word, 0xcc9e2d51);
    h = (h << 15) | (h >>> 17);
    h = Math.imul(h, 0x1b873593);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
  }
  return h >>> 0;
}

export function createStream(seed: number, stream: number): Prng {
  return createPrng(streamSeed(seed, stream));
}

/**
 * Where a path with seed `seed` starts replaying its traces, as a fraction in [0, 1) of each
 * trace's length (loss trace) or period (link, delay trace): one draw of a stream of its own, so
 * that the runs of a seed set sample a trace rather than repeat it, and a link and a delay trace
 * of the same period stay aligned.
 */
export function traceStartFraction(seed: number): number {
  return createStream(seed, STREAM_TRACE_OFFSET).next();
}

/** A probability as netem's u32 threshold: rint(p · (2^32 - 1)). */
export function probabilityToU32(p: number): number {
  return Math.round(p * 0xffffffff);
}

/** netem's correlated generator (`struct crndstate` + `get_crandom`) over a stream. */
export class CorrelatedRandom {
  private last: number;
  private readonly weight: number;

  constructor(
    private readonly prng: Prng,
    correlation: number,
  ) {
    // netem: rho = rint(corr · (2^32-1)), weight (rho + 1) / 2^32; last starts as a random u32.
    this.weight = correlation === 0 ? 0 : (probabilityToU32(correlation) + 1) / 0x1_0000_0000;
    this.last = correlation === 0 ? 0 : prng.nextUint32();
  }

  /** Next u32 (uncorrelated when the correlation is 0). */
  nextUint32(): number {
    const value = this.prng.nextUint32();
    if (this.weight === 0) return value;
    const answer = Math.floor(value * (1 - this.weight) + this.last * this.weight) >>> 0;
    this.last = answer;
    return answer;
  }

  /** True with netem's `threshold >= get_crandom()` rule for probability p. */
  chance(p: number): boolean {
    return p > 0 && probabilityToU32(p) >= this.nextUint32();
  }
}
