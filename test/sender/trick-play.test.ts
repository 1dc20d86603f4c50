import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_ABS_SCALE,
  TrickCursor,
  continueMapping,
  keyframePosition,
  keyframeTable,
  negotiateScale,
  negotiateSpeed,
  playModeOf,
  rtpAt,
} from '../../src/sender/trick-play.ts';
import type { TrickSegment, TrickStep } from '../../src/sender/trick-play.ts';

const CLOCK = 90_000;

/**
 * A synthetic video track on a 90 kHz timescale: `count` frames at 25 fps (3600 ticks), a keyframe
 * every `gop` frames; non-key frames carry a B-frame-like pts (dts + 2 frames) so that only the
 * keyframes' own pts can be the ones the cursor reports.
 */
function track(count: number, gop: number) {
  const dts = new Float64Array(count);
  const pts = new Float64Array(count);
  const keyframe = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    dts[i] = i * 3600;
    keyframe[i] = i % gop === 0 ? 1 : 0;
    pts[i] = keyframe[i] ? dts[i]! : dts[i]! + 7200;
  }
  return { timescale: CLOCK, samples: { count, dts, pts, keyframe, offsets: new Float64Array(count), sizes: new Uint32Array(count) } };
}

/** The sample of Issue 5: 20 s, 500 frames, a keyframe every 2 s (pts 0, 2, ..., 18). */
const SAMPLE_LIKE = track(500, 50);

function segment(startNpt: number, scale: number, over: Partial<TrickSegment> = {}): TrickSegment {
  return { startNpt, scale, speed: 1, clockRate: CLOCK, endNpt: scale > 0 ? Infinity : 0, ...over };
}

function drain(c: TrickCursor): TrickStep[] {
  const out: TrickStep[] = [];
  for (let s = c.current; s; s = c.current) {
    out.push(s);
    c.advance();
    if (out.length > 10_000) throw new Error('cursor does not end');
  }
  return out;
}

describe('keyframe table and positions', () => {
  const table = keyframeTable(SAMPLE_LIKE);

  it('lists the keyframes in presentation order with their pts in seconds', () => {
    expect(table.index).toEqual([0, 50, 100, 150, 200, 250, 300, 350, 400, 450]);
    expect(table.pts).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(keyframeTable(SAMPLE_LIKE)).toBe(table); // built once per track
  });

  it.each([
    [9, 'at-or-before', 4],
    [9, 'at-or-after', 5],
    [10, 'at-or-before', 5],
    [10, 'at-or-after', 5],
    [10 - 1e-9, 'at-or-after', 5], // float noise on an exact keyframe time
    [18.5, 'at-or-after', -1],
    [18.5, 'at-or-before', 9],
    [-1, 'at-or-before', 0],
    [0, 'at-or-after', 0],
  ] as const)('position %f %s → %i', (npt, snap, want) => {
    expect(keyframePosition(table, npt, snap)).toBe(want);
  });
});

describe('TrickCursor', () => {
  const table = keyframeTable(SAMPLE_LIKE);

  it('Scale 2 from 10 s: keyframes 10..18, one per wall second, RTP time = wall time', () => {
    const steps = drain(new TrickCursor(table, segment(10, 2), 5));
    expect(steps).toEqual([
      { sample: 250, ptsSec: 10, dueSec: 0, rtpTicks: 0 },
      { sample: 300, ptsSec: 12, dueSec: 1, rtpTicks: 90_000 },
      { sample: 350, ptsSec: 14, dueSec: 2, rtpTicks: 180_000 },
      { sample: 400, ptsSec: 16, dueSec: 3, rtpTicks: 270_000 },
      { sample: 450, ptsSec: 18, dueSec: 4, rtpTicks: 360_000 },
    ]);
  });

  it('Scale -2 from 10 s: keyframes 10 down to 0 (inclusive), timestamps still rising', () => {
    const steps = drain(new TrickCursor(table, segment(10, -2), 5));
    expect(steps.map((s) => s.sample)).toEqual([250, 200, 150, 100, 50, 0]);
    expect(steps.map((s) => s.dueSec)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(steps.map((s) => s.rtpTicks)).toEqual([0, 90_000, 180_000, 270_000, 360_000, 450_000]);
  });

  it('Scale 4 continuing from 9 s: the next keyframe (10 s) is due when the position reaches it', () => {
    const steps = drain(new TrickCursor(table, segment(9, 4), keyframePosition(table, 9, 'at-or-after')));
    expect(steps.map((s) => s.ptsSec)).toEqual([10, 12, 14, 16, 18]);
    // (pts − 9) / 4 seconds of wall time; RTP ticks the same in 90 kHz units.
    expect(steps.map((s) => s.dueSec)).toEqual([0.25, 0.75, 1.25, 1.75, 2.25]);
    expect(steps.map((s) => s.rtpTicks)).toEqual([22_500, 67_500, 112_500, 157_500, 202_500]);
  });

  it('Speed 2 halves the wall time but leaves the RTP times alone', () => {
    const steps = drain(new TrickCursor(table, segment(10, 2, { speed: 2 }), 5));
    expect(steps.map((s) => s.dueSec)).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(steps.map((s) => s.rtpTicks)).toEqual([0, 90_000, 180_000, 270_000, 360_000]);
  });

  it('stops at the range end: before it going forward, at or after it going back', () => {
    expect(drain(new TrickCursor(table, segment(10, 2, { endNpt: 14 }), 5)).map((s) => s.ptsSec)).toEqual([10, 12]);
    expect(drain(new TrickCursor(table, segment(10, -2, { endNpt: 4 }), 5)).map((s) => s.ptsSec)).toEqual([10, 8, 6, 4]);
  });

  it('skips keyframes closer than 1/25 s of wall time (Scale 16 over a 0.4 s GOP)', () => {
    const dense = keyframeTable(track(100, 10)); // keyframes every 0.4 s: 0.025 s apart at Scale 16
    const steps = drain(new TrickCursor(dense, segment(0, 16), 0));
    expect(steps.map((s) => s.ptsSec)).toEqual([0, 0.8, 1.6, 2.4, 3.2]);
    expect(steps.map((s) => s.dueSec)).toEqual([0, 0.05, 0.1, 0.15, 0.2]);
  });

  it('a position past the last keyframe ends at once; a keyframe behind a fast-forward start is sent first', () => {
    expect(new TrickCursor(table, segment(19, 2), table.index.length).current).toBeUndefined();
    expect(new TrickCursor(table, segment(11, 2), 5).current).toEqual({ sample: 250, ptsSec: 10, dueSec: 0, rtpTicks: 0 });
  });

  it('refuses scales that are not fast forward or rewind', () => {
    expect(() => new TrickCursor(table, segment(0, 1), 0)).toThrow(RangeError);
    expect(() => new TrickCursor(table, segment(0, 0.5), 0)).toThrow(RangeError);
  });

  it('property: keyframes only, in the Scale direction, due and RTP time monotonic, RTP time maps back to the pts', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 1.01, max: MAX_ABS_SCALE, noNaN: true }),
        fc.boolean(),
        fc.double({ min: 0.25, max: 4, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (count, gop, absScale, back, speed, at) => {
          const t = track(count, gop);
          const table = keyframeTable(t);
          const scale = back ? -absScale : absScale;
          const start = at * (count * 0.04);
          const pos = keyframePosition(table, start, back ? 'at-or-before' : 'at-or-after');
          const steps = drain(new TrickCursor(table, segment(start, scale, { speed }), pos < 0 ? table.index.length : pos));
          for (let i = 0; i < steps.length; i++) {
            const s = steps[i]!;
            expect(t.samples.keyframe[s.sample]).toBe(1);
            if (i > 0) {
              const p = steps[i - 1]!;
              expect(Math.sign(s.ptsSec - p.ptsSec)).toBe(back ? -1 : 1);
              expect(s.dueSec).toBeGreaterThanOrEqual(p.dueSec + 1 / 25 - 1e-6);
              expect(s.rtpTicks).toBeGreaterThan(p.rtpTicks);
            }
            // The receiver's mapping (RFC 7826 C.1.4): npt = start + Scale × ticks / clock rate.
            expect(Math.abs(start + (scale * s.rtpTicks) / CLOCK - s.ptsSec)).toBeLessThanOrEqual((absScale * 0.5) / CLOCK + 1e-9);
            // A first keyframe up to 1 µs (the cursor's EPS) before the start is due at once.
            expect(Math.abs(s.dueSec - Math.abs(s.ptsSec - start) / absScale / speed)).toBeLessThanOrEqual(
              1e-6 / (absScale * speed) + 1e-9,
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('RTP mapping across Scale changes', () => {
  const BASE = 4_000_000_000; // near the 2^32 wrap: callers wrap with >>> 0 only on the wire

  it('Scale 1 → 2 at 10 s → back to 1 at 14 s: the RTP clock runs on without a jump', () => {
    const normal = { npt: 0, rtp: BASE, scale: 1 };
    expect(rtpAt(normal, 10, CLOCK)).toBe(BASE + 900_000);
    const ff = continueMapping(rtpAt(normal, 10, CLOCK), undefined, 10, 2, CLOCK);
    expect(ff).toEqual({ npt: 10, rtp: BASE + 900_000, scale: 2 });
    // 4 s of media at Scale 2 is 2 s of playback: 180 000 ticks.
    expect(rtpAt(ff, 14, CLOCK)).toBe(BASE + 1_080_000);
    const back = continueMapping(rtpAt(ff, 14, CLOCK), undefined, 14, 1, CLOCK);
    expect(back).toEqual({ npt: 0, rtp: BASE + 1_080_000 - 14 * CLOCK, scale: 1 });
    expect(rtpAt(back, 14, CLOCK)).toBe(BASE + 1_080_000);
    expect(rtpAt(back, 15, CLOCK)).toBe(BASE + 1_170_000);
  });

  it('rewind: media time goes down while the RTP clock goes up', () => {
    const rw = continueMapping(rtpAt({ npt: 0, rtp: BASE, scale: 1 }, 10, CLOCK), undefined, 10, -2, CLOCK);
    expect(rtpAt(rw, 6, CLOCK)).toBe(BASE + 900_000 + 180_000);
    // Back to Scale 1 at the keyframe at 6 s: continues from there.
    const back = continueMapping(rtpAt(rw, 6, CLOCK), undefined, 6, 1, CLOCK);
    expect(rtpAt(back, 6, CLOCK)).toBe(BASE + 1_080_000);
  });

  it('never restarts at or below what was already sent (B-frames sent ahead of the position)', () => {
    const m = continueMapping(rtpAt({ npt: 0, rtp: 0, scale: 1 }, 10, CLOCK), 900_000 + 7200 + 3600, 10, 2, CLOCK);
    expect(m.rtp).toBe(910_800);
  });

  it('a seek with a Scale change jumps in media time but not in RTP time', () => {
    const m = continueMapping(rtpAt({ npt: 0, rtp: 0, scale: 1 }, 5, CLOCK), undefined, 16, -4, CLOCK);
    expect(m).toEqual({ npt: 16, rtp: 450_000, scale: -4 });
  });
});

describe('negotiation', () => {
  it.each([
    [2, true, 2],
    [-2, true, -2],
    [32, true, 16],
    [-100, true, -16],
    [0.5, true, 0.5],
    [1 / 3, true, 0.333333],
    [4, false, 1],
    [-1, false, 1],
    [0.0000001, true, 0.0625],
    [-0.01, true, -0.0625],
  ])('Scale %f (video %s) → %f', (req, video, want) => {
    expect(negotiateScale(req, video)).toBe(want);
  });

  it('property: any finite non-zero request gives a servable Scale with its sign', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => x !== 0),
        (x) => {
          const s = negotiateScale(x, true);
          expect(Math.sign(s)).toBe(Math.sign(x));
          expect(Math.abs(s)).toBeGreaterThanOrEqual(1 / 16 - 1e-6);
          expect(Math.abs(s)).toBeLessThanOrEqual(MAX_ABS_SCALE);
          expect(Number.isFinite(s)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it.each([
    [2, 2],
    [10, 4],
    [0.1, 0.25],
  ])('Speed %f → %f', (req, want) => {
    expect(negotiateSpeed(req)).toBe(want);
  });

  it.each([
    [1, 'normal'],
    [0.5, 'slow'],
    [2, 'keyframes'],
    [-1, 'keyframes'],
    [-0.5, 'keyframes'],
  ] as const)('mode of Scale %f is %s', (scale, mode) => {
    expect(playModeOf(scale)).toBe(mode);
  });
});
