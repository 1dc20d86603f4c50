/**
 * netem-warnings: tc's surprising readings (bare µs, bps = bytes, keyword prefixes) and loss models
 * whose long-run rate differs from their words, with the analytic value checked against netem's
 * own correlated generator (CorrelatedRandom) over a seeded run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorrelatedRandom, createStream, probabilityToU32 } from '../../src/impair/crandom.ts';
import { parseNetemArgs } from '../../src/impair/netem-args.ts';
import { correlatedStationaryRate, netemWarnings } from '../../src/impair/netem-warnings.ts';

function warn(text: string): string[] {
  const c = parseNetemArgs(text);
  if (!c.ok) throw new Error(c.message);
  return netemWarnings(text, c.value);
}

/** The rate netem's generator actually gives: fraction of draws below the u32 threshold. */
function simulated(p: number, corr: number, n: number, seed = 7): number {
  const r = new CorrelatedRandom(createStream(seed, 1), corr);
  const th = probabilityToU32(p);
  let below = 0;
  for (let i = 0; i < n; i++) if (r.nextUint32() < th) below++;
  return below / n;
}

describe('netemWarnings', () => {
  it('says a bare delay number is microseconds', () => {
    expect(warn('delay 40 10')).toEqual([
      '"delay ... 40": a bare number is microseconds in tc (40 µs); write 40ms for milliseconds',
      '"delay ... 10": a bare number is microseconds in tc (10 µs); write 10ms for milliseconds',
    ]);
    expect(warn('latency 40')).toHaveLength(1);
    expect(warn('delay 40ms 10ms 25%')).toEqual([]);
  });

  it('says bps is bytes and a bare rate is bit/s', () => {
    expect(warn('rate 10mbps')).toEqual(['"rate 10mbps": bps is BYTES per second in tc (80mbit = 80 Mbit/s); write 10mbit for bits']);
    expect(warn('rate 1000')).toEqual(['"rate 1000": a bare rate is bit/s in tc (1000 bit/s); add a unit such as kbit or mbit']);
    expect(warn('rate 10mbit')).toEqual([]);
  });

  it('names the keyword a prefix was read as, and leaves names after trace/distribution alone', () => {
    expect(warn('los 3%')).toEqual(['"los" is read as "loss" (tc accepts any prefix of a keyword)']);
    expect(warn('del 40ms 10ms distribution normal')).toEqual(['"del" is read as "delay" (tc accepts any prefix of a keyword)']);
    expect(warn('delay 40ms 10ms distribution pareto loss 1%')).toEqual([]);
  });

  it('gives the analytic long-run rate of correlated random loss (issue 14: 5% 25% is 0.19%)', () => {
    expect(warn('loss random 5% 25%')).toEqual([
      `"loss random 5% 25%": netem's correlation averages its random numbers, so the long-run rate is 0.194%, not 5%; use loss gemodel or loss state for bursts at a given rate`,
    ]);
    expect(warn('loss random 5%')).toEqual([]);
    expect(warn('duplicate 10% 50%')[0]).toMatch(/^"duplicate 10% 50%": .* long-run rate is 0\.108%, not 10%$/);
  });

  it('gives the long-run loss of gemodel and state chains when it is not their first number', () => {
    expect(warn('loss gemodel 1% 30%')).toEqual([
      '"loss gemodel 1% ...": the long-run loss of this Gilbert-Elliott chain is 3.23%, not 1% (p is the good→bad transition)',
    ]);
    // p = 1 %, r = 99 % (tc default 1 - p), 1-h = 100 %: long-run 1 %, nothing to say.
    expect(warn('loss gemodel 1%')).toEqual([]);
    expect(warn('loss state 2% 20%')[0]).toMatch(/^"loss state 2% \.\.\.": the long-run loss of this 4-state chain is 9\.09%, not 2%/);
  });
});

describe('correlatedStationaryRate', () => {
  it("agrees with netem's generator over 10^6 seeded draws", () => {
    for (const [p, corr] of [
      [0.05, 0.25],
      [0.1, 0.5],
      [0.3, 0.9],
      [0.5, 0.5],
      [0.8, 0.25],
    ] as const) {
      const a = correlatedStationaryRate(p, corr);
      const s = simulated(p, corr, 1_000_000);
      // Binomial standard error of s plus a little for the grid.
      const se = Math.sqrt((a * (1 - a)) / 1_000_000);
      expect(Math.abs(a - s), `${p} ${corr}: analytic ${a}, simulated ${s}`).toBeLessThan(5 * se + 2e-4 * a + 1e-5);
    }
  });

  it('is p without correlation, a CDF in p, and symmetric about 1/2', () => {
    expect(correlatedStationaryRate(0.05, 0)).toBe(0.05);
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 0.49, noNaN: true }),
        fc.double({ min: 0.01, max: 0.49, noNaN: true }),
        fc.double({ min: 0.05, max: 0.9, noNaN: true }),
        (p, q, corr) => {
          const [lo, hi] = p < q ? [p, q] : [q, p];
          const a = correlatedStationaryRate(lo, corr);
          const b = correlatedStationaryRate(hi, corr);
          expect(a).toBeGreaterThanOrEqual(0);
          expect(a).toBeLessThanOrEqual(b + 1e-12);
          // The average of uniforms concentrates around 1/2: below 1/2 it is rarer than p.
          expect(a).toBeLessThanOrEqual(lo + 1e-9);
          // X and 1 - X have the same law.
          expect(correlatedStationaryRate(1 - lo, corr)).toBeCloseTo(1 - a, 6);
        },
      ),
      { numRuns: 25, seed: 14 },
    );
  });
});
