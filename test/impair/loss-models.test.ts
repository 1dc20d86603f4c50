import { describe, expect, it } from 'vitest';
import {
  BernoulliLoss,
  FourStateLoss,
  GilbertElliottLoss,
  ImpairmentPipeline,
  TraceLoss,
  fourStateStationaryLoss,
  geStationaryLoss,
  parseNetemArgs,
  runLengths,
  streamSeed,
  type NetemConfig,
} from '../../src/impair/index.ts';
import { createPrng } from '../../src/util/prng.ts';

const U32MAX = 0xffffffff;
const STREAM_LOSS = 1;

function cfg(text: string): NetemConfig {
  const r = parseNetemArgs(text);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

/** Loss pattern of n packets (true = lost) through a pipeline, packets 1 ms apart. */
function lossPattern(text: string, seed: number, n: number): boolean[] {
  const p = new ImpairmentPipeline(cfg(text), seed);
  const out: boolean[] = [];
  for (let i = 0; i < n; i++) out.push(p.submit({ id: i, bytes: 200, sentAtMs: i }, i).deliverAt.length === 0);
  return out;
}

function draw(model: { lose(): boolean }, n: number): boolean[] {
  return Array.from({ length: n }, () => model.lose());
}

function rate(xs: boolean[]): number {
  return xs.filter((x) => x).length / xs.length;
}

/** 5 standard errors of a mean of n indicator samples with lag-correlation inflation factor. */
function tol(pi: number, n: number, inflation = 1): number {
  return 5 * Math.sqrt((pi * (1 - pi) * inflation) / n);
}

describe('exact sequences for a seed', () => {
  it('loss random 10%: the pipeline drops exactly where the seeded stream says (independent re-derivation)', () => {
    const seed = 7;
    // Independent rule: one u32 from the loss stream per packet, lost when rint(p·(2^32-1)) >= u32.
    const prng = createPrng(streamSeed(seed, STREAM_LOSS));
    const threshold = Math.round(0.1 * U32MAX);
    const want = Array.from({ length: 300 }, () => threshold >= prng.nextUint32());
    expect(lossPattern('loss random 10%', seed, 300)).toEqual(want);
  });

  it('loss random 10%, seed 7: frozen vector (regression guard for the stream layout)', () => {
    const lost = lossPattern('loss 10%', 7, 60)
      .map((l, i) => (l ? i : -1))
      .filter((i) => i >= 0);
    expect(lost).toEqual([0, 27, 36]);
  });

  it('gemodel: two draws per packet, transition then loss by the state the packet found', () => {
    const seed = 11;
    const p = 0.1;
    const r = 0.3;
    const prng = createPrng(streamSeed(seed, STREAM_LOSS));
    const [pT, rT, hT, kT] = [Math.round(p * U32MAX), Math.round(r * U32MAX), U32MAX - Math.round(0.9 * U32MAX), Math.round(0.05 * U32MAX)];
    let bad = false;
    const want: boolean[] = [];
    for (let i = 0; i < 500; i++) {
      const a = prng.nextUint32();
      const b = prng.nextUint32();
      if (!bad) {
        if (a < pT) bad = true;
        want.push(b < kT);
      } else {
        if (a < rT) bad = false;
        want.push(b > hT);
      }
    }
    expect(lossPattern('loss gemodel 10% 30% 90% 5%', seed, 500)).toEqual(want);
  });

  it('same seed → same pattern; another seed → another pattern', () => {
    const a = lossPattern('loss gemodel 5% 30%', 3, 2000);
    expect(lossPattern('loss gemodel 5% 30%', 3, 2000)).toEqual(a);
    expect(lossPattern('loss gemodel 5% 30%', 4, 2000)).not.toEqual(a);
  });

  it('the loss pattern does not change when delay, jitter, reorder or rate change', () => {
    const base = lossPattern('loss 5%', 9, 3000);
    expect(lossPattern('loss 5% delay 30ms 10ms distribution normal reorder 10% gap 2 rate 50mbit', 9, 3000)).toEqual(base);
  });
});

describe('Bernoulli loss', () => {
  it.each([0.01, 0.05, 0.2])('long-run rate %f', (p) => {
    const n = 200_000;
    const got = rate(draw(new BernoulliLoss(createPrng(1), p, 0), n));
    expect(Math.abs(got - p)).toBeLessThan(tol(p, n));
  });

  it('0 % never loses, 100 % always does', () => {
    expect(draw(new BernoulliLoss(createPrng(1), 0, 0), 10_000).some((x) => x)).toBe(false);
    expect(draw(new BernoulliLoss(createPrng(1), 1, 0), 10_000).every((x) => x)).toBe(true);
  });

  it('netem correlation: loss 50% 50% keeps 50 % and correlates consecutive packets', () => {
    const n = 100_000;
    const xs = draw(new BernoulliLoss(createPrng(2), 0.5, 0.5), n);
    expect(Math.abs(rate(xs) - 0.5)).toBeLessThan(0.02);
    let both = 0;
    for (let i = 1; i < n; i++) if (xs[i] && xs[i - 1]) both++;
    // P(lost | previous lost) well above the marginal 0.5
    expect(both / xs.filter((x) => x).length).toBeGreaterThan(0.6);
  });

  it('netem correlation lowers a small loss rate (known netem behaviour, kept on purpose)', () => {
    // The averaged uniform concentrates around 1/2: P(V <= 0.1) is about 1 % for corr 50 %.
    const got = rate(draw(new BernoulliLoss(createPrng(3), 0.1, 0.5), 100_000));
    expect(got).toBeLessThan(0.03);
    expect(got).toBeGreaterThan(0.001);
  });
});

describe('Gilbert-Elliott (gemodel)', () => {
  it('stationary loss p/(p+r) and mean loss run 1/r (LAB.md: 5 % with B = 3)', () => {
    const p = 0.01754;
    const r = 1 / 3;
    const n = 400_000;
    const xs = draw(new GilbertElliottLoss(createPrng(5), { p, r, oneMinusH: 1, oneMinusK: 0 }), n);
    const pi = p / (p + r); // 0.04999...
    const lambda = 1 - p - r; // lag-1 autocorrelation of the two-state chain
    expect(Math.abs(rate(xs) - pi)).toBeLessThan(tol(pi, n, (1 + lambda) / (1 - lambda)));
    const runs = runLengths(xs);
    const nRuns = runs.lossRuns.reduce((a, e) => a + e.count, 0);
    // loss runs are geometric with mean 1/r = 3 and sd sqrt(1 - r)/r
    expect(Math.abs(runs.meanLossRun - 1 / r)).toBeLessThan((5 * Math.sqrt(1 - r)) / r / Math.sqrt(nRuns));
  });

  it('general stationary loss π_G(1-k) + π_B(1-h)', () => {
    // p 5 %, r 20 %: π_B = 0.2, π_G = 0.8; loss = 0.8 · 0.01 + 0.2 · 0.8 = 0.168
    const c = { p: 0.05, r: 0.2, oneMinusH: 0.8, oneMinusK: 0.01 };
    expect(geStationaryLoss(c)).toBeCloseTo(0.168, 12);
    const n = 400_000;
    const got = rate(draw(new GilbertElliottLoss(createPrng(6), c), n));
    expect(Math.abs(got - 0.168)).toBeLessThan(tol(0.168, n, (1 + 0.75) / (1 - 0.75)));
  });

  it('defaults (r = 1 - p) make it memoryless: loss gemodel 10% ≈ 10 % with no excess bursts', () => {
    const xs = lossPattern('loss gemodel 10%', 8, 100_000);
    expect(Math.abs(rate(xs) - 0.1)).toBeLessThan(tol(0.1, 100_000));
    expect(Math.abs(runLengths(xs).meanLossRun - 1 / 0.9)).toBeLessThan(0.03);
  });
});

describe('4-state Markov (loss state)', () => {
  /** Stationary distribution by power iteration of the transition matrix (independent of the formula). */
  function stationaryByIteration(p13: number, p31: number, p32: number, p23: number, p14: number): number {
    const P = [
      [1 - p13 - p14, 0, p13, p14],
      [0, 1 - p23, p23, 0],
      [p31, p32, 1 - p31 - p32, 0],
      [1, 0, 0, 0],
    ];
    let pi = [1, 0, 0, 0];
    for (let k = 0; k < 20_000; k++) {
      pi = [0, 1, 2, 3].map((j) => pi.reduce((a, v, i) => a + v * (P[i] as number[])[j]!, 0));
    }
    return (pi[2] as number) + (pi[3] as number);
  }

  it.each([
    [0.05, 0.4, 0.1, 0.5, 0.02],
    [0.1, 0.9, 0, 1, 0], // tc defaults for `loss state 10%`
    [0.02, 0.25, 0.3, 0.6, 0.01],
  ])('p13=%f p31=%f p32=%f p23=%f p14=%f: formula = iteration = simulation', (p13, p31, p32, p23, p14) => {
    const want = stationaryByIteration(p13, p31, p32, p23, p14);
    expect(fourStateStationaryLoss({ p13, p31, p32, p23, p14 })).toBeCloseTo(want, 9);
    const n = 400_000;
    const got = rate(draw(new FourStateLoss(createPrng(9), { p13, p31, p32, p23, p14 }), n));
    // bursts inflate the variance; a generous factor of 20 on the i.i.d. error
    expect(Math.abs(got - want)).toBeLessThan(tol(want, n, 20));
  });

  it('isolated losses (state 4) are single: with p13 = 0 no two losses touch', () => {
    const xs = draw(new FourStateLoss(createPrng(10), { p13: 0, p31: 1, p32: 0, p23: 1, p14: 0.2 }), 50_000);
    expect(xs.some((x, i) => i > 0 && x && xs[i - 1])).toBe(false);
    expect(Math.abs(rate(xs) - 0.2 / 1.2)).toBeLessThan(0.01);
  });
});

describe('trace replay', () => {
  it('replays and wraps', () => {
    expect(draw(new TraceLoss(Uint8Array.from([1, 0, 0, 1])), 9)).toEqual([true, false, false, true, true, false, false, true, true]);
  });

  it('in a pipeline (trace FILE, samples passed by the caller)', () => {
    const p = new ImpairmentPipeline(cfg('trace loss.txt'), 1, { trace: Uint8Array.from([0, 1, 1, 0, 0]) });
    const lost = Array.from({ length: 10 }, (_, i) => p.submit({ id: i, bytes: 100, sentAtMs: i }, i).deliverAt.length === 0);
    expect(lost).toEqual([false, true, true, false, false, false, true, true, false, false]);
  });

  it('a trace config without samples is a programmer error', () => {
    expect(() => new ImpairmentPipeline(cfg('trace loss.txt'), 1)).toThrow(/loss\.txt/);
  });
});
