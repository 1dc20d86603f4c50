/**
 * A file's send grid (the gcd of every decoding time over all its tracks, divided down to at most
 * MAX_SEND_GRID_MS) and a timeline start aligned on it, for the frame rates and audio rates
 * servers meet; property tests for the alignment.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Track } from '../../src/media/index.ts';
import { MAX_SEND_GRID_MS, alignedStartMs, sendGridMs } from '../../src/sender/send-grid.ts';

/** A track whose samples are `count` steps of `step` ticks from `first`. */
function track(timescale: number, step: number, count: number, first = 0): Track {
  const dts = Float64Array.from({ length: count }, (_, i) => first + i * step);
  return {
    id: 1,
    kind: 'video',
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
const aac48k = track(48000, 1024, 938, -1024);

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
