/**
 * A generator of cellular-like delivery-opportunity traces (Mahimahi format, time-traces.ts), seeded
 * and documented, so that the bundled trace can be regenerated and varied. The model:
 *
 * - capacity changes every `blockMs` (100 ms): log-capacity is a Gaussian AR(1) process,
 *   x' = μ + φ (x − μ) + σ √(1 − φ²) ε, ε ~ N(0, 1) (Box-Muller), started at μ; so ln C is
 *   stationary with mean μ = ln(meanMbit) and standard deviation σ, lag-1 correlation φ per block;
 *   the capacity is clipped to [minMbit, maxMbit];
 * - outages (handover, fading): a two-state Markov chain per block, entered with probability
 *   `outageEnter`, left with `outageLeave` (mean outage blockMs / outageLeave); no capacity inside;
 * - within a block, the number of opportunities in each millisecond is Poisson with mean
 *   C / (DELIVERY_OPPORTUNITY_BYTES · 8 bit per ms) (Knuth's method), as packet service on a
 *   scheduled radio link is bursty at the millisecond scale.
 *
 * The trace's period (Mahimahi: its last line) is the last opportunity's time, within the duration.
 */

import { createPrng, type Prng } from '../util/prng.ts';
import { DELIVERY_OPPORTUNITY_BYTES } from './time-traces.ts';

export interface CellularModel {
  durationMs: number;
  blockMs: number;
  meanMbit: number;
  sigma: number;
  phi: number;
  minMbit: number;
  maxMbit: number;
  outageEnter: number;
  outageLeave: number;
}

/** The model of the bundled `media/traces/cellular-seed1.trace`. */
export const CELLULAR_DEFAULT: CellularModel = {
  durationMs: 60_000,
  blockMs: 100,
  meanMbit: 6,
  sigma: 0.6,
  phi: 0.9,
  minMbit: 0.2,
  maxMbit: 40,
  outageEnter: 0.005,
  outageLeave: 0.3,
};

function gaussian(prng: Prng): number {
  const u1 = 1 - prng.next(); // (0, 1]
  const u2 = prng.next();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

function poisson(prng: Prng, mean: number): number {
  if (mean <= 0) return 0;
  const limit = Math.exp(-mean);
  let k = 0;
  let p = prng.next();
  while (p > limit) {
    k++;
    p *= prng.next();
  }
  return k;
}

/** Opportunity times (ms) of a cellular-like trace for a model and seed; same inputs, same trace. */
export function generateCellularTrace(seed: number, m: CellularModel = CELLULAR_DEFAULT): number[] {
  const prng = createPrng(seed >>> 0);
  const mu = Math.log(m.meanMbit);
  let x = mu;
  let outage = false;
  const times: number[] = [];
  const bitsPerOpportunity = DELIVERY_OPPORTUNITY_BYTES * 8;
  for (let block = 0; block * m.blockMs < m.durationMs; block++) {
    if (block > 0) {
      x = mu + m.phi * (x - mu) + m.sigma * Math.sqrt(1 - m.phi * m.phi) * gaussian(prng);
      outage = outage ? prng.next() >= m.outageLeave : prng.next() < m.outageEnter;
    }
    const mbit = outage ? 0 : Math.min(m.maxMbit, Math.max(m.minMbit, Math.exp(x)));
    const perMs = (mbit * 1000) / bitsPerOpportunity; // Mbit/s = 1000 bit/ms
    for (let t = block * m.blockMs; t < Math.min((block + 1) * m.blockMs, m.durationMs); t++) {
      const n = poisson(prng, perMs);
      // Opportunities in ms t are written as t + 1 (Mahimahi's traces start at 1).
      for (let i = 0; i < n; i++) times.push(t + 1);
    }
  }
  return times;
}

/** The trace as the file text, with a header saying how it was made. */
export function formatDeliveryTrace(times: readonly number[], header: readonly string[]): string {
  return [...header.map((h) => `# ${h}`), ...times.map(String)].join('\n') + '\n';
}

/** The bundled traces of media/traces/, by file name (scripts/gen-traces.ts writes them). */
export function bundledTraces(): Record<string, string> {
  const m = CELLULAR_DEFAULT;
  const seed = 1;
  return {
    'const-12mbit.trace': formatDeliveryTrace(
      [1],
      ['Constant 12 Mbit/s: one 1500-byte delivery opportunity per ms (Mahimahi format; loops every 1 ms).'],
    ),
    'const-2.4mbit.trace': formatDeliveryTrace([5], ['Constant 2.4 Mbit/s: one 1500-byte delivery opportunity every 5 ms.']),
    'cellular-seed1.trace': formatDeliveryTrace(generateCellularTrace(seed, m), [
      `Cellular-like link, generateCellularTrace(seed ${seed}) in src/impair/trace-gen.ts (model documented there):`,
      `${m.durationMs / 1000} s; capacity per ${m.blockMs} ms block: ln C ~ AR(1) with mean ln ${m.meanMbit} Mbit/s, sd ${m.sigma}, phi ${m.phi},`,
      `clipped to [${m.minMbit}, ${m.maxMbit}] Mbit/s; outages entered w.p. ${m.outageEnter}, left w.p. ${m.outageLeave} per block;`,
      'Poisson opportunities per ms. Regenerate: node bin/run-ts.js scripts/gen-traces.ts',
    ]),
    'delay-handover.trace': [
      '# Delay trace (TIME_MS DELAY_MS steps, last line the period): 40 ms one-way, a 150 ms spike',
      '# for 200 ms every 5 s (a handover), 60 ms for the second after it. Loops every 10 s.',
      '0 40',
      '4800 150',
      '5000 60',
      '6000 40',
      '9800 150',
      '10000',
      '',
    ].join('\n'),
  };
}
