/**
 * Statistics across conditions and against the loss model. All conditions of an experiment run
 * with the same seeds (common random numbers), so two conditions compare best seed by seed: the
 * paired differences' mean and CI. The measured loss-run lengths are tested against the Gilbert
 * model's geometric law (Pearson's chi-square with pooled bins), and `runsForHalfWidth` says how
 * many seeds a CI of a given half-width needs.
 */

import { meanCi, tQuantile975 } from './stats.ts';
import type { MeanCi } from './stats.ts';

export interface PairedDifference extends MeanCi {
  /** Seeds present in both conditions with finite values (the pairs). */
  seeds: number[];
}

/** Mean and 95 % CI of b − a over the seeds both have (undefined when no pair). */
export function pairedDifference(
  a: ReadonlyMap<number, number | undefined>,
  b: ReadonlyMap<number, number | undefined>,
): PairedDifference | undefined {
  const seeds: number[] = [];
  const d: number[] = [];
  for (const [seed, x] of a) {
    const y = b.get(seed);
    if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) continue;
    seeds.push(seed);
    d.push(y - x);
  }
  const c = meanCi(d);
  return c && { ...c, seeds: seeds.sort((p, q) => p - q) };
}

/** Loss events (runs of consecutive losses) and lost packets from a run-length histogram. */
export function lossEventCounts(hist: readonly { length: number; count: number }[]): { events: number; packets: number } {
  let events = 0;
  let packets = 0;
  for (const h of hist) {
    events += h.count;
    packets += h.count * h.length;
  }
  return { events, packets };
}

/** P(run length = k) = r (1 − r)^(k − 1), k ≥ 1: the Gilbert channel's loss runs (1 − h = 1). */
export function geometricPmf(k: number, r: number): number {
  return k < 1 ? 0 : r * (1 - r) ** (k - 1);
}

/** Regularized lower incomplete gamma P(a, x) (series / continued fraction, Numerical Recipes). */
export function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  const gln = logGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let del = sum;
    for (let ap = a, i = 0; i < 1000; i++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-15) break;
    }
    return sum * Math.exp(-x + a * Math.log(x) - gln);
  }
  let b = x + 1 - a;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return 1 - Math.exp(-x + a * Math.log(x) - gln) * h;
}

/** ln Γ(x), Lanczos (g = 7, n = 9). */
export function logGamma(x: number): number {
  const g = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = g[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += g[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Upper tail of the chi-square distribution: P(X ≥ x) for `df` degrees of freedom. */
export function chiSquareSf(x: number, df: number): number {
  return 1 - gammaP(df / 2, x / 2);
}

export interface GofBin {
  /** Run lengths from..to (to = Infinity: the tail, so no run is dropped). */
  from: number;
  to: number;
  observed: number;
  expected: number;
}

export interface GeometricGof {
  runs: number;
  r: number;
  bins: GofBin[];
  chiSquare: number;
  /** Bins − 1 (r is configured, not fitted). */
  df: number;
  pValue: number;
}

/**
 * Pearson's chi-square of observed loss-run lengths against the geometric law with the configured
 * r. Bins run 1, 2, 3, …; a bin is merged with the next while its expected count is under
 * `minExpected` (5 by the usual rule), and the last bin is the tail (≥ k), so every run counts.
 * Undefined when there are fewer than 2 bins (nothing to test).
 */
export function geometricGoodnessOfFit(
  hist: readonly { length: number; count: number }[],
  r: number,
  minExpected = 5,
): GeometricGof | undefined {
  const runs = hist.reduce((a, h) => a + h.count, 0);
  if (runs === 0 || !(r > 0 && r <= 1)) return undefined;
  const obs = (from: number, to: number) => hist.filter((h) => h.length >= from && h.length <= to).reduce((a, h) => a + h.count, 0);
  const bins: GofBin[] = [];
  let from = 1;
  let k = 1;
  let exp = 0;
  // Expected count of lengths ≥ k: runs (1 − r)^(k − 1).
  const tail = (k0: number) => runs * (1 - r) ** (k0 - 1);
  while (tail(k) >= minExpected && k < 10_000) {
    exp += runs * geometricPmf(k, r);
    if (exp >= minExpected && tail(k + 1) >= minExpected) {
      bins.push({ from, to: k, observed: obs(from, k), expected: exp });
      from = k + 1;
      exp = 0;
    }
    k++;
  }
  bins.push({ from, to: Infinity, observed: obs(from, Infinity), expected: tail(from) });
  if (bins.length < 2) return undefined;
  const chiSquare = bins.reduce((a, b) => a + (b.observed - b.expected) ** 2 / b.expected, 0);
  const df = bins.length - 1;
  return { runs, r, bins, chiSquare, df, pValue: chiSquareSf(chiSquare, df) };
}

/**
 * Seeds needed for a 95 % CI of half-width `halfWidth` when the runs' standard deviation is `sd`:
 * the smallest n ≥ 2 with t(0.975, n − 1) · sd / √n ≤ halfWidth (capped at `max`).
 */
export function runsForHalfWidth(sd: number, halfWidth: number, max = 100_000): number {
  if (!(halfWidth > 0) || !Number.isFinite(sd)) return Number.NaN;
  if (sd === 0) return 2;
  let n = Math.max(2, Math.ceil(((1.96 * sd) / halfWidth) ** 2));
  while (n > 2 && (tQuantile975(n - 2) * sd) / Math.sqrt(n - 1) <= halfWidth) n--;
  while (n < max && (tQuantile975(n - 1) * sd) / Math.sqrt(n) > halfWidth) n++;
  return n;
}
