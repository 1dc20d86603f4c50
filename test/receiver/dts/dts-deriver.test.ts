/**
 * DtsDeriver on exact traces. Frame times are written in frames of F = 3600 ticks (25 fps at
 * 90 kHz). The independent oracle for a stream within reorder depth D: sort all PTS; frame n
 * (decode order) gets sorted[n - D], and the first D frames sorted[0] - (D - n) * duration.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DtsDeriver, type DtsDeriverOptions, type DtsOutput } from '../../../src/receiver/dts/index.ts';

const F = 3600;

interface U {
  pts: number;
  id: number;
}

function units(framesPts: readonly number[], base = 0, scale = F): U[] {
  return framesPts.map((p, id) => ({ pts: base + p * scale, id }));
}

/** Pushes everything, then flushes; returns all outputs and what each push returned (counts). */
function run(list: readonly U[], opts: DtsDeriverOptions) {
  const d = new DtsDeriver<U>(opts);
  const out: DtsOutput<U>[] = [];
  const perPush: number[] = [];
  for (const u of list) {
    const r = d.push(u);
    perPush.push(r.length);
    out.push(...r);
  }
  out.push(...d.flush());
  return { d, out, perPush };
}

function oracle(pts: readonly number[], depth: number, firstDuration: number): number[] {
  const sorted = [...pts].sort((a, b) => a - b);
  return pts.map((_, n) => (n >= depth ? sorted[n - depth]! : sorted[0]! - (depth - n) * firstDuration));
}

function expectValid(out: readonly DtsOutput<U>[], n: number): void {
  expect(out.map((o) => o.unit.id)).toEqual([...Array(n).keys()]);
  for (let i = 0; i < out.length; i++) {
    expect(out[i]!.dts).toBeLessThanOrEqual(out[i]!.pts);
    if (i > 0) expect(out[i]!.dts).toBeGreaterThan(out[i - 1]!.dts);
  }
}

// Decode orders (values are display indexes).
const IPBB = [0, 3, 1, 2, 6, 4, 5, 9, 7, 8, 12, 10, 11]; // -bf 2 without pyramid: depth 1
const IPP = [0, 1, 2, 3, 4, 5, 6, 7];
const PYRAMID = [0, 4, 2, 1, 3, 8, 6, 5, 7, 12, 10, 9, 11]; // -bf 3 with b-pyramid: depth 2

describe('DtsDeriver: exact traces', () => {
  it('IPBB with the SPS depth 1: holds 3 frames, then one out per push; dts = pts sorted, one frame back', () => {
    const { out, perPush, d } = run(units(IPBB), { reorderDepth: 1 });
    // I0 P3: no 2nd-largest PTS yet for I0, and the duration comes from sortedPts[1]-sortedPts[0]
    // (= the candidates of frames 1 and 2), so the first output is at the third push.
    expect(perPush).toEqual([0, 0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(out.map((o) => o.dts / F)).toEqual([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(out.map((o) => o.dts)).toEqual(
      oracle(
        IPBB.map((p) => p * F),
        1,
        F,
      ),
    );
    expect(out.every((o) => o.pts === o.unit.pts)).toBe(true);
    expect(d.stats).toEqual({ frames: 13, reorderDepth: 1, depthIncreases: 0, dtsClamped: 0, ptsRaised: 0, discontinuities: 0 });
  });

  it('IPBB with a signalled frame duration starts one frame earlier', () => {
    const { out, perPush } = run(units(IPBB), { reorderDepth: 1, frameDuration: F });
    expect(perPush.slice(0, 3)).toEqual([0, 2, 1]);
    expect(out.map((o) => o.dts / F)).toEqual([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('I P P with depth 0 (Baseline): dts = pts, no delay', () => {
    const { out, perPush } = run(units(IPP, 1000), { reorderDepth: 0 });
    expect(perPush).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(out.map((o) => o.dts)).toEqual(IPP.map((p) => 1000 + p * F));
  });

  it('I P P with unknown depth: the default 2 shifts by two frames, two frames of lookahead', () => {
    const { out, perPush, d } = run(units(IPP), {});
    expect(perPush).toEqual([0, 0, 0, 2, 1, 1, 1, 1]);
    expect(d.pendingCount).toBe(0);
    expect(out.map((o) => o.dts / F)).toEqual([-2, -1, 0, 1, 2, 3, 4, 5]);
  });

  it('pyramid B (bf 3, b-pyramid) with depth 2 and the VUI duration', () => {
    const { out, d } = run(units(PYRAMID), { reorderDepth: 2, frameDuration: F });
    expect(out.map((o) => o.dts / F)).toEqual([-2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(out.map((o) => o.dts)).toEqual(
      oracle(
        PYRAMID.map((p) => p * F),
        2,
        F,
      ),
    );
    expect(d.stats.ptsRaised + d.stats.dtsClamped).toBe(0);
  });

  it('pyramid B with nothing known and default depth 0: the depth is inferred, the lookahead absorbs it', () => {
    const { out, d } = run(units(PYRAMID), { defaultReorderDepth: 0, lookahead: 2 });
    // Timeline: I0 P4 held (lookahead 2); B2 shows depth 1 -> start: c0 = 0, c1 = 2 (duration 2F
    // measured before b1 proves depth 2), I0 gets 0 - 1*2F. b1 shows depth 2; P4 then has no 3rd
    // largest PTS: extrapolated 0 - 1*2F = -2F, not above I0's, so -2F + 1. Then sorted[n-2].
    expect(out.map((o) => o.dts)).toEqual([-2 * F, -2 * F + 1, 0, 1 * F, 2 * F, 3 * F, 4 * F, 5 * F, 6 * F, 7 * F, 8 * F, 9 * F, 10 * F]);
    expect(d.stats).toMatchObject({ reorderDepth: 2, depthIncreases: 2, dtsClamped: 1, ptsRaised: 0 });
    expectValid(out, PYRAMID.length);
  });

  it('without lookahead, depth growth costs a raised pts (counted), and the guarantees still hold', () => {
    const { out, d } = run(units(IPBB), { reorderDepth: 0 });
    expectValid(out, IPBB.length);
    expect(d.stats.ptsRaised).toBeGreaterThan(0);
    expect(d.stats.reorderDepth).toBe(1);
    // After the growth the formula takes over again: the last frames are exact.
    expect(out.slice(-3).map((o) => o.dts / F)).toEqual([9, 10, 11]);
  });

  it('a lost B-frame: dts follow the PTS that arrived', () => {
    const lost = IPBB.filter((p) => p !== 1); // I0 P3 B2 P6 B4 B5 ...
    const { out, d } = run(units(lost), { reorderDepth: 1 });
    // c0 = 0, c1 = 2 (B1 missing): the measured duration is 2F for the first frame.
    expect(out.map((o) => o.dts / F)).toEqual([-2, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(out.map((o) => o.dts)).toEqual(
      oracle(
        lost.map((p) => p * F),
        1,
        2 * F,
      ),
    );
    expect(d.stats.ptsRaised + d.stats.dtsClamped).toBe(0);
  });

  it('a lost P-frame (its B-frames still arrive)', () => {
    const lost = IPBB.filter((p) => p !== 6);
    const { out } = run(units(lost), { reorderDepth: 1, frameDuration: F });
    expect(out.map((o) => o.dts)).toEqual(
      oracle(
        lost.map((p) => p * F),
        1,
        F,
      ),
    );
    expectValid(out, lost.length);
  });

  it('frame rate change 25 -> 50 fps mid-stream, and variable frame rate', () => {
    // Display times: 6 frames at 3600, then at 1800.
    const display = [...Array(13).keys()].map((i) => (i <= 6 ? i * 3600 : 6 * 3600 + (i - 6) * 1800));
    const pts = IPBB.map((i) => display[i]!);
    const { out } = run(
      pts.map((p, id) => ({ pts: p, id })),
      { reorderDepth: 1 },
    );
    expect(out.map((o) => o.dts)).toEqual(oracle(pts, 1, 3600));
    expect(out.map((o) => o.dts)).toEqual([-3600, 0, 3600, 7200, 10800, 14400, 18000, 21600, 23400, 25200, 27000, 28800, 30600]);

    const vfr = [0, 3000, 7000, 8000, 12500, 13100, 20000, 21000, 26000, 27000, 27500, 33000, 34000];
    const vpts = PYRAMID.map((i) => vfr[i]!);
    const r = run(
      vpts.map((p, id) => ({ pts: p, id })),
      { reorderDepth: 2 },
    );
    // Measured duration = sorted[1] - sorted[0] = 3000.
    expect(r.out.map((o) => o.dts)).toEqual(oracle(vpts, 2, 3000));
  });

  it('RTP timestamp wrap: the caller unwraps; dts run on past 2^32', () => {
    // 32-bit RTP timestamps starting 5 frames before the wrap, unwrapped the usual way.
    const start = 2 ** 32 - 5 * F;
    const rtp = IPBB.map((p) => (start + p * F) % 2 ** 32);
    expect(rtp.some((t) => t < start)).toBe(true); // it does wrap
    let ext: number | undefined;
    const unwrapped = rtp.map((t) => {
      if (ext === undefined) return (ext = t);
      const delta = ((((t - (ext % 2 ** 32) + 2 ** 31) % 2 ** 32) + 2 ** 32) % 2 ** 32) - 2 ** 31;
      ext += delta;
      return ext;
    });
    expect(unwrapped).toEqual(IPBB.map((p) => start + p * F));
    const { out, d } = run(
      unwrapped.map((p, id) => ({ pts: p, id })),
      { reorderDepth: 1 },
    );
    expect(out.map((o) => o.dts)).toEqual(oracle(unwrapped, 1, F));
    expect(out.at(-1)!.dts).toBeGreaterThan(2 ** 32);
    expect(d.stats.discontinuities).toBe(0);
  });

  it('a jump back by more than maxBackwardJump restarts the derivation (sender restart)', () => {
    const d = new DtsDeriver<U>({ reorderDepth: 1, frameDuration: F });
    const first = units(IPBB.slice(0, 4), 10 * 90000);
    const out = first.flatMap((u) => d.push(u));
    expect(out.map((o) => o.dts)).toEqual(
      oracle(
        first.map((u) => u.pts),
        1,
        F,
      ),
    );
    const again = d.push({ pts: 0, id: 99 });
    expect(again).toEqual([]); // restarted: held as the first frame of a new sequence
    expect(d.stats.discontinuities).toBe(1);
    expect(d.flush().map((o) => o.dts)).toEqual([-F]);
  });

  it('flush with fewer frames than the depth extrapolates from the smallest PTS', () => {
    const { out } = run(units([0, 2]), { reorderDepth: 2, frameDuration: F });
    expect(out.map((o) => o.dts / F)).toEqual([-2, -1]);
    const one = run(units([5]), { reorderDepth: 3 });
    expect(one.out.map((o) => o.dts)).toEqual([5 * F - 3 * 3000]); // default duration 3000
  });

  it('rejects bad options and non-finite pts', () => {
    expect(() => new DtsDeriver({ reorderDepth: 17 })).toThrow(RangeError);
    expect(() => new DtsDeriver({ frameDuration: 0 })).toThrow(RangeError);
    expect(() => new DtsDeriver().push({ pts: NaN })).toThrow(RangeError);
  });
});

describe('DtsDeriver: properties', () => {
  /** A regular cadence in display order, decode order = each index displaced by less than `w`. */
  const windowed = fc
    .record({
      n: fc.integer({ min: 1, max: 60 }),
      w: fc.integer({ min: 1, max: 6 }),
      base: fc.integer({ min: 0, max: 2 ** 40 }),
      seed: fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: 60, maxLength: 60 }),
    })
    .map(({ n, w, base, seed }) => {
      const order = [...Array(n).keys()]
        .map((i) => ({ i, key: i + seed[i]! * w }))
        .sort((a, b) => a.key - b.key)
        .map((x) => x.i);
      // True reorder depth: most earlier-decoded frames with a larger display index.
      let depth = 0;
      order.forEach((v, k) => (depth = Math.max(depth, order.slice(0, k).filter((u) => u > v).length)));
      return { pts: order.map((i) => base + i * F), depth, w };
    });

  it('any permutation within a window: dts strictly increasing and <= pts, in input order', () => {
    fc.assert(
      fc.property(
        windowed,
        fc.constantFrom<DtsDeriverOptions>({}, { reorderDepth: 0 }, { defaultReorderDepth: 0, lookahead: 0 }, { reorderDepth: 1 }),
        ({ pts }, opts) => {
          const { out } = run(
            pts.map((p, id) => ({ pts: p, id })),
            opts,
          );
          expectValid(out, pts.length);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('with a depth at least the true one: exact (the oracle), nothing clamped or raised', () => {
    fc.assert(
      fc.property(windowed, fc.integer({ min: 0, max: 2 }), ({ pts, depth }, extra) => {
        const D = depth + extra;
        const { out, d } = run(
          pts.map((p, id) => ({ pts: p, id })),
          { reorderDepth: D, frameDuration: F },
        );
        expect(out.map((o) => o.dts)).toEqual(oracle(pts, D, F));
        expect(out.every((o) => o.pts === o.unit.pts)).toBe(true);
        expect(d.stats.dtsClamped + d.stats.ptsRaised).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });

  it('unknown depth, inferred with a lookahead of the window: no pts ever raised', () => {
    fc.assert(
      fc.property(windowed, ({ pts, w }) => {
        const { out, d } = run(
          pts.map((p, id) => ({ pts: p, id })),
          { defaultReorderDepth: 0, lookahead: w },
        );
        expectValid(out, pts.length);
        expect(d.stats.ptsRaised).toBe(0);
        expect(out.every((o) => o.pts === o.unit.pts)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('arbitrary timestamps never break the guarantees (discontinuity detection off)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -(2 ** 45), max: 2 ** 45 }), { maxLength: 80 }),
        fc.integer({ min: 0, max: 4 }),
        (pts, lookahead) => {
          const { out } = run(
            pts.map((p, id) => ({ pts: p, id })),
            { lookahead, maxBackwardJump: Infinity },
          );
          expectValid(out, pts.length);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('with discontinuity detection, dts only goes back where a discontinuity was counted', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4_000_000 }), { maxLength: 80 }), (pts) => {
        const d = new DtsDeriver<U>();
        const out: DtsOutput<U>[] = [];
        let backs = 0;
        for (const [id, p] of pts.entries()) {
          const before = d.stats.discontinuities;
          const r = d.push({ pts: p, id });
          if (d.stats.discontinuities > before) backs++;
          out.push(...r);
        }
        out.push(...d.flush());
        expect(out.map((o) => o.unit.id)).toEqual([...pts.keys()]);
        let decreases = 0;
        for (let i = 0; i < out.length; i++) {
          expect(out[i]!.dts).toBeLessThanOrEqual(out[i]!.pts);
          if (i > 0 && !(out[i]!.dts > out[i - 1]!.dts)) decreases++;
        }
        expect(decreases).toBeLessThanOrEqual(backs);
        expect(d.stats.discontinuities).toBe(backs);
      }),
      { numRuns: 500 },
    );
  });
});
