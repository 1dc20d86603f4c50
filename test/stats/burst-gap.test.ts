/**
 * The receiver's on-line RFC 3611 §4.7.2 burst/gap counter (stats/burst-gap.ts) agrees exactly
 * with the offline count over a whole sequence that the lab uses on ground truth
 * (impair/fate-log.ts burstGapMetrics), at every prefix, for any loss sequence.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { burstGapMetrics } from '../../src/impair/index.ts';
import { BurstGapCounter } from '../../src/stats/burst-gap.ts';

describe('BurstGapCounter', () => {
  it('a lone loss is a gap loss; losses closer than Gmin make one burst', () => {
    const c = new BurstGapCounter(4);
    for (const lost of [0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0]) c.packet(lost === 1);
    // Burst: packets 8..11 (3 lost of 4); gaps: 0..7 (1 lost of 8) and 12..16 (0 of 5).
    expect(c.figures()).toEqual({
      bursts: 1,
      gaps: 2,
      burstDensity: 3 / 4,
      gapDensity: 1 / 13,
      burstLengthPackets: 4,
      gapLengthPackets: 13 / 2,
    });
  });

  it('matches the offline RFC 3611 count at every prefix of any sequence', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { maxLength: 300 }).chain((a) =>
          // Bursty sequences too: runs of losses.
          fc.constant(a.map((x, i) => x && (i % 7 < 3 || a[i - 1] === true))),
        ),
        fc.integer({ min: 1, max: 20 }),
        (lost, gmin) => {
          const c = new BurstGapCounter(gmin);
          for (let n = 0; n < lost.length; n++) {
            c.packet(lost[n]!);
            if (n % 17 !== 0 && n !== lost.length - 1) continue;
            const prefix = lost.slice(0, n + 1);
            const want = burstGapMetrics(
              prefix,
              prefix.map((_, i) => i * 20),
              gmin,
            );
            const got = c.figures();
            expect(got).toEqual({
              bursts: want.bursts,
              gaps: want.gaps,
              burstDensity: want.burstDensity,
              gapDensity: want.gapDensity,
              burstLengthPackets: want.burstLengthPackets,
              gapLengthPackets: want.gapLengthPackets,
            });
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
