/**
 * A file's send grid (the gcd of every decoding time over all its tracks, divided down to at most
 * MAX_SEND_GRID_MS) and a timeline start aligned on it, for the frame rates and audio rates
 * servers meet; the send lattice (one track's constant sample period) and the instants the other
 * tracks go at; property tests for the alignments.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Track } from '../../src/media/index.ts';
import {
  MAX_LATTICE_MS,
  MAX_SEND_GRID_MS,
  alignedStartMs,
  betweenLattice,
  latticeStartMs,
  latticeTimeOf,
  sendGridMs,
  sendLattice,
} from '../../src/sender/send-grid.ts';

/** A track whose samples are `count` steps of `step` ticks from `first`. */
function track(timescale: number, step: number, count: number, first = 0, kind: Track['kind'] = 'video'): Track {
  const dts = Float64Array.from({ length: count }, (_, i) => first + i * step);
  return {
    id: 1,
    kind,
    codec: 'h264',
    fourcc: 'avc1',
    timescale,
    durationSec: (count * step) / timescale,
    sampleCount: count,
    samples: { count, offsets: new Float64Array(count), sizes: new Uint32Array(count), dts, pts: dts, keyframe: new Uint8Array(count) },
    editShiftTicks: 0,
  };
}

const video25 = track(12800, 512, 500, -1024);
const aac48k = track(48000, 1024, 938, -1024, 'audio');

describe('send grid', () => {
  it('25 fps video with 48 kHz AAC: gcd(40, 21.33) = 2.67 ms', () => {
    expect(sendGridMs([video25, aac48k])).toBeCloseTo(8 / 3, 12);
  });

  it('30 fps with 48 kHz: 1.33 ms; 29.97 fps or 44.1 kHz with 25 fps: no grid of 1 ms', () => {
    expect(sendGridMs([track(15360, 512, 300), aac48k])).toBeCloseTo(4 / 3, 12);
    expect(sendGridMs([track(30000, 1001, 300), aac48k])).toBeUndefined();
    expect(sendGridMs([video25, track(44100, 1024, 900)])).toBeUndefined();
  });

  it(`a coarse grid is divided down to at most ${MAX_SEND_GRID_MS} ms`, () => {
    // Video alone: 40 ms, divided by 8.
    expect(sendGridMs([video25])).toBe(5);
    // 8 kHz G.711 in 20 ms packets with 25 fps video: 20 ms, divided by 4.
    expect(sendGridMs([video25, track(8000, 160, 1000)])).toBe(5);
    // 30 ms Opus frames (48 kHz) alone: 30/6.
    expect(sendGridMs([track(48000, 1440, 100)])).toBe(5);
  });

  it('an irregular sample (variable frame rate) or a single-sample file: no grid', () => {
    const vfr = track(90000, 3600, 100);
    vfr.samples.dts[50] = 50 * 3600 + 7;
    expect(sendGridMs([vfr])).toBeUndefined();
    expect(sendGridMs([track(90000, 3600, 1)])).toBeUndefined();
    expect(sendGridMs([])).toBeUndefined();
  });

  it('an aligned start is the first grid point from now, for any position', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        fc.double({ min: 0, max: 86_400, noNaN: true }),
        fc.constantFrom(8 / 3, 4 / 3, 5, 1),
        (now, startNpt, grid) => {
          const t = alignedStartMs(now, startNpt, grid);
          const steps = (t - startNpt * 1000) / grid;
          const tolerance = 1e-6 * Math.max(1, Math.abs(steps));
          return t >= now - 1e-6 && t < now + grid + 1e-6 && Math.abs(steps - Math.round(steps)) < tolerance;
        },
      ),
    );
  });

  it('two sessions started apart, at different positions, have their samples due at the same instants', () => {
    const grid = sendGridMs([video25, aac48k])!;
    const a = alignedStartMs(1000.4, 0, grid);
    const b = alignedStartMs(2345.9, 3.2, grid);
    // Sample k of a file starting at npt 0 and sample j of one that started at 3.2 s.
    const dueA = (dtsMs: number) => a + dtsMs;
    const dueB = (dtsMs: number) => b + dtsMs - 3200;
    const offset = (dueB(3200 + 40 * 7) - dueA((64 / 3) * 3)) / grid;
    expect(Math.abs(offset - Math.round(offset))).toBeLessThan(1e-9);
  });
});

describe('send lattice', () => {
  it('on the track with the shortest constant sample duration: AAC under 25 fps video, video alone', () => {
    expect(sendLattice([video25, aac48k])).toEqual({ track: 1, periodSec: 1024 / 48000, phaseSec: 0 });
    expect(sendLattice([video25])).toEqual({ track: 0, periodSec: 0.04, phaseSec: 0 });
    // 44.1 kHz AAC with 29.97 fps video: no send grid, but a lattice (23.2 ms).
    expect(sendLattice([track(30000, 1001, 300), track(44100, 1024, 900, 0, 'audio')])).toEqual({
      track: 1,
      periodSec: 1024 / 44100,
      phaseSec: 0,
    });
    // 60 fps video has the shorter period (16.7 ms), but the audio keeps its times: the lattice is the audio's.
    expect(sendLattice([track(15360, 256, 600), aac48k])!.track).toBe(1);
    // A first sample off the period's multiples: the phase.
    expect(sendLattice([track(48000, 1024, 100, 480)])!.phaseSec).toBeCloseTo(0.01, 12);
  });

  it(`not on an irregular track, a single sample, or a period beyond ${MAX_LATTICE_MS} ms`, () => {
    const vfr = track(90000, 3600, 100);
    vfr.samples.dts[50] = 50 * 3600 + 7;
    expect(sendLattice([vfr])).toBeUndefined();
    // The irregular audio track leaves the lattice to the video.
    const jumpy = track(48000, 1024, 100, 0, 'audio');
    jumpy.samples.dts[10]! += 1;
    expect(sendLattice([video25, jumpy])!.track).toBe(0);
    expect(sendLattice([track(48000, 1024, 1)])).toBeUndefined();
    expect(sendLattice([track(90000, 9000, 50)])).toBeUndefined();
    expect(sendLattice([])).toBeUndefined();
  });

  it('a start is the last lattice instant at or before now (never a wait), a whole number of periods from clock 0', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e7, noNaN: true }),
        fc.double({ min: 0, max: 3600, noNaN: true }),
        fc.constantFrom(1024 / 48000, 1024 / 44100, 0.04, 0.02),
        (now, npt, periodSec) => {
          const start = latticeStartMs(now, npt, periodSec);
          const period = periodSec * 1000;
          expect(start).toBeLessThanOrEqual(now);
          expect(now - start).toBeLessThan(period * (1 + 1e-9));
          const k = (start - npt * 1000) / period;
          expect(Math.abs(k - Math.round(k))).toBeLessThan(1e-6);
        },
      ),
    );
  });

  it("other tracks' samples go at the midpoint at or before their decoding time: up to a period early, never late", () => {
    const lattice = sendLattice([video25, aac48k])!;
    const between = betweenLattice(lattice);
    const p = lattice.periodSec;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), (frame) => {
        const dts = frame * 0.04;
        const at = latticeTimeOf(dts, between);
        expect(at).toBeLessThanOrEqual(dts + 1e-12);
        expect(dts - at).toBeLessThan(p);
        const k = (at - p / 2) / p;
        expect(Math.abs(k - Math.round(k))).toBeLessThan(1e-6);
      }),
    );
    // A time on the lattice, computed another way, stays where it is.
    expect(latticeTimeOf(3 * (1024 / 48000), lattice)).toBeCloseTo(3 * (1024 / 48000), 12);
    expect(latticeTimeOf(1024 / 48000 - 1e-13, lattice)).toBeCloseTo(1024 / 48000, 12);
  });
});
