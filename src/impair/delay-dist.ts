/**
 * Delay = delay + jitter · t(u), u uniform in [0, 1), as netem's `tabledist`. netem looks t up in a
 * 16-bit table scaled by NETEM_DIST_SCALE (8192) that iproute2 generates (netem/normal.c, pareto.c,
 * paretonormal.c); we compute the same functions analytically, without the 16-bit quantization:
 *
 *   uniform (netem's default, no table): t = 2u - 1            → mean 0, variance 1/3
 *   normal:       t = Φ⁻¹(u), clamped to ±4 (the table's s16 range) → mean 0, sd ≈ 1
 *   pareto:       t = min(4, (4/3)((1-u)^(-1/3) - 1.5))   (shape 3, shifted by its mean 1.5, scaled
 *                 by 4/3, capped at 32767/8192) → mean ≈ -0.033, sd ≈ 0.82: jitter is a scale,
 *                 not the standard deviation; delays are ≥ delay - 2/3 jitter
 *   paretonormal: t = clamp((Φ⁻¹(u) + 3 · pareto_t(u)) / 4, ±4): the table adds the two quantile
 *                 functions at the same u (a comonotone sum, not a 25/75 mixture)
 *                 → mean ≈ -0.025, sd ≈ 0.83
 *
 * Negative results (delay < jitter) are sent at once, as netem does (time_to_send in the past).
 *
 * Correlation: netem feeds the correlated u32 (crandom.ts) through `rnd % table_size` (or `rnd % 2σ`
 * for uniform), which keeps only low-order bits and so throws most of the correlation away. We map
 * the correlated number u = c / 2^32 through the quantile function instead, so `delay 100ms 10ms
 * 50%` gives delays whose lag-1 correlation is ≈ 0.5 (deviation from netem, intended). The average
 * also narrows the spread (sd below jitter) exactly as netem's correlation does for loss.
 */

import type { DelayDistribution } from './config.ts';

/** Cap of netem's distribution tables: 32767 / 8192. */
export const DIST_TABLE_CAP = 4;

/** Φ⁻¹ (Acklam's rational approximation, |relative error| < 1.2e-9); ±Infinity at 0 and 1. */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const plow = 0.02425;
  if (p < plow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - plow) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return (
      -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

function clamp(x: number): number {
  return x < -DIST_TABLE_CAP ? -DIST_TABLE_CAP : x > DIST_TABLE_CAP ? DIST_TABLE_CAP : x;
}

/** netem pareto table value at u ∈ [0, 1). */
export function paretoT(u: number): number {
  return Math.min(DIST_TABLE_CAP, (4 / 3) * (Math.pow(1 - u, -1 / 3) - 1.5));
}

/** Standardized table value t(u) for a distribution; undefined = netem's default uniform. */
export function distributionT(dist: DelayDistribution | undefined, u: number): number {
  switch (dist) {
    case undefined:
    case 'uniform':
      return 2 * u - 1;
    case 'normal':
      return clamp(normalQuantile(u));
    case 'pareto':
      return paretoT(u);
    case 'paretonormal':
      return clamp((clamp(normalQuantile(u)) + 3 * paretoT(u)) / 4);
  }
}

/** Delay in ms for a uniform u ∈ [0, 1): `delayMs + jitterMs · t(u)` (may be negative). */
export function sampleDelayMs(delayMs: number, jitterMs: number, dist: DelayDistribution | undefined, u: number): number {
  if (jitterMs === 0) return delayMs;
  return delayMs + jitterMs * distributionT(dist, u);
}
