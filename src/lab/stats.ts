/**
 * Means with 95 % confidence intervals from repeated runs (Student's t, two-sided), and the small
 * statistics the lab needs (Gilbert parameter estimates from a loss sequence).
 */

/** t(0.975, df) for df = 1..30 (standard tables); larger df use the Cornish-Fisher expansion. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086,
  2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Two-sided 95 % Student t quantile for `df` degrees of freedom. */
export function tQuantile975(df: number): number {
  if (!(df >= 1)) return Number.NaN;
  const d = Math.floor(df);
  if (d <= 30) return T975[d - 1] as number;
  const z = 1.959963984540054;
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  return z + (z3 + z) / (4 * d) + (5 * z5 + 16 * z3 + 3 * z) / (96 * d * d) + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * d ** 3);
}

export interface MeanCi {
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1). */
  sd: number;
  /** Half-width of the 95 % confidence interval (0 when n < 2: unknown, shown without a bar). */
  ci95: number;
  lo: number;
  hi: number;
}

/** Mean and 95 % CI of the finite values in `xs` (undefined when there is none). */
export function meanCi(xs: readonly (number | undefined | null)[]): MeanCi | undefined {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  const n = v.length;
  if (n === 0) return undefined;
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  const ci95 = n > 1 ? (tQuantile975(n - 1) * sd) / Math.sqrt(n) : 0;
  return { n, mean, sd, ci95, lo: mean - ci95, hi: mean + ci95 };
}

/**
 * Gilbert (2-state) parameters estimated from a loss sequence (true = lost): p = P(lost | previous
 * received), r = P(received | previous lost). BurstR (G.107) = 1 / (p + r): 1 for random loss.
 */
export function gilbertEstimate(lost: readonly boolean[]): { p: number; r: number; burstR: number } {
  let gg = 0;
  let gb = 0;
  let bb = 0;
  let bg = 0;
  for (let i = 1; i < lost.length; i++) {
    const a = lost[i - 1];
    const b = lost[i];
    if (!a && !b) gg++;
    else if (!a && b) gb++;
    else if (a && b) bb++;
    else bg++;
  }
  const p = gg + gb === 0 ? 0 : gb / (gg + gb);
  const r = bb + bg === 0 ? 1 : bg / (bb + bg);
  const burstR = p + r === 0 ? 1 : 1 / (p + r);
  return { p, r, burstR };
}
