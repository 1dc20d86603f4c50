import { describe, expect, it } from 'vitest';
import { ImpairmentPipeline, normalQuantile, parseNetemArgs, type FateRecord } from '../../src/impair/index.ts';

function run(text: string, seed: number, n: number, spacingMs = 1): FateRecord[] {
  const r = parseNetemArgs(text);
  if (!r.ok) throw new Error(r.message);
  const p = new ImpairmentPipeline(r.value, seed);
  for (let i = 0; i < n; i++) p.submit({ id: i, bytes: 200, sentAtMs: i * spacingMs }, i * spacingMs);
  return [...p.fates];
}

/** Moments of t(u) by the midpoint rule over u ∈ (0, 1): mean, variance, 4th central moment. */
function moments(t: (u: number) => number, steps = 400_000): { mean: number; variance: number; m4: number } {
  let s1 = 0;
  const vals = new Float64Array(steps);
  for (let i = 0; i < steps; i++) {
    vals[i] = t((i + 0.5) / steps);
    s1 += vals[i] as number;
  }
  const mean = s1 / steps;
  let s2 = 0;
  let s4 = 0;
  for (const v of vals) {
    const d = v - mean;
    s2 += d * d;
    s4 += d * d * d * d;
  }
  return { mean, variance: s2 / steps, m4: s4 / steps };
}

// The netem table definitions, written out again here from iproute2's generators
// (netem/normal.c, pareto.c, paretonormal.c): values in units of sigma, capped at 32767/8192.
const cap = (x: number): number => Math.max(-32767 / 8192, Math.min(32767 / 8192, x));
// The standard normal quantile by bisection on erf-free CDF (numeric integration of the density).
function phiInv(u: number): number {
  if (u <= 0) return -Infinity;
  // Φ(x) via the complementary error function series (Abramowitz-Stegun 7.1.26 is too coarse;
  // use a high-accuracy continued-fraction-free approach: Simpson integration of the density).
  const cdf = (x: number): number => {
    const n = 400;
    const a = Math.min(0, x);
    const b = Math.max(0, x);
    const h = (b - a) / n;
    let s = 0;
    for (let i = 0; i <= n; i++) {
      const w = i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2;
      s += w * Math.exp(-((a + i * h) ** 2) / 2);
    }
    const area = (s * h) / 3 / Math.sqrt(2 * Math.PI);
    return x >= 0 ? 0.5 + area : 0.5 - area;
  };
  let lo = -12;
  let hi = 12;
  for (let k = 0; k < 60; k++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < u) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
const paretoTable = (u: number): number => Math.min(32767 / 8192, (4 / 3) * ((1 - u) ** (-1 / 3) - 1.5));

describe('normalQuantile', () => {
  it.each([
    [0.5, 0],
    [0.975, 1.959963984540054],
    [0.001, -3.090232306167813],
    [0.9999, 3.719016485455709],
  ])('Φ⁻¹(%f) = %f', (p, want) => {
    expect(normalQuantile(p)).toBeCloseTo(want, 7);
  });

  it('agrees with a bisection of the integrated density', () => {
    for (const p of [0.01, 0.2, 0.7, 0.95]) expect(normalQuantile(p)).toBeCloseTo(phiInv(p), 6);
  });
});

describe('delay distributions: sample mean and variance vs the analytic values', () => {
  const n = 100_000;
  const mu = 100;
  const sigma = 20;
  it.each([
    ['', (u: number) => 2 * u - 1],
    ['distribution uniform', (u: number) => 2 * u - 1],
    ['distribution normal', (u: number) => cap(normalQuantile(u))],
    ['distribution pareto', paretoTable],
    ['distribution paretonormal', (u: number) => cap((cap(normalQuantile(u)) + 3 * paretoTable(u)) / 4)],
  ])('delay 100ms 20ms %s', (dist, t) => {
    const m = moments(t);
    const wantMean = mu + sigma * m.mean;
    const wantVar = sigma * sigma * m.variance;
    const fates = run(`delay ${mu}ms ${sigma}ms ${dist}`, 21, n);
    const d = fates.map((f) => f.delayMs as number);
    const mean = d.reduce((a, b) => a + b, 0) / n;
    const variance = d.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    expect(Math.abs(mean - wantMean)).toBeLessThan(5 * Math.sqrt(wantVar / n));
    const seVar = Math.sqrt((sigma ** 4 * (m.m4 - m.variance ** 2)) / n);
    expect(Math.abs(variance - wantVar)).toBeLessThan(5 * seVar);
  });

  it('documented constants: uniform variance σ²/3, pareto sd ≈ 0.82σ, paretonormal ≈ 0.83σ', () => {
    expect(moments((u) => 2 * u - 1).variance).toBeCloseTo(1 / 3, 6);
    expect(Math.sqrt(moments(paretoTable).variance)).toBeCloseTo(0.821, 2);
    expect(moments(paretoTable).mean).toBeCloseTo(-0.0329, 3);
  });

  it('no jitter: every packet gets exactly the delay, in order', () => {
    const fates = run('delay 40ms', 1, 1000);
    expect(fates.every((f) => f.delayMs === 40 && !f.reordered)).toBe(true);
  });

  it('correlation 50 %: lag-1 correlation of delays ≈ 0.5, mean kept', () => {
    const d = run('delay 100ms 20ms 50%', 4, n).map((f) => f.delayMs as number);
    const mean = d.reduce((a, b) => a + b, 0) / n;
    let num = 0;
    let den = 0;
    for (let i = 0; i < n; i++) {
      den += ((d[i] as number) - mean) ** 2;
      if (i > 0) num += ((d[i] as number) - mean) * ((d[i - 1] as number) - mean);
    }
    expect(num / den).toBeGreaterThan(0.45);
    expect(num / den).toBeLessThan(0.55);
    expect(Math.abs(mean - 100)).toBeLessThan(0.5);
  });

  it('jitter reorders: `reordered` marks exactly the packets delivered before an earlier one', () => {
    const fates = run('delay 50ms 20ms distribution normal', 5, 5000);
    let maxSoFar = -Infinity;
    const want = fates.map((f) => {
      const r = (f.deliveredAtMs as number) < maxSoFar;
      maxSoFar = Math.max(maxSoFar, f.deliveredAtMs as number);
      return r;
    });
    expect(fates.map((f) => f.reordered)).toEqual(want);
    expect(want.filter((x) => x).length).toBeGreaterThan(1000);
  });

  it('delays below zero are sent at once (netem time_to_send in the past)', () => {
    const fates = run('delay 1ms 10ms', 6, 2000);
    expect(Math.min(...fates.map((f) => f.delayMs as number))).toBe(0);
    expect(fates.some((f) => (f.delayMs as number) > 5)).toBe(true);
  });
});
