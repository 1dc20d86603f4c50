import { describe, expect, it } from 'vitest';
import { PSNR_CAP_DB, mseFromPsnr, psnrFromMse, summarizeQuality } from '../../src/lab/video-quality.ts';

describe('quality summary (pure)', () => {
  it('PSNR of the mean MSE, not the mean of capped PSNRs', () => {
    // 9 identical frames (inf) and one frame at 20 dB: MSE 650.25 → mean MSE 65.025 → 30 dB.
    const psnr = new Map<number, number>();
    for (let n = 1; n <= 9; n++) psnr.set(n, Infinity);
    psnr.set(10, 20);
    const ssim = new Map([...psnr.keys()].map((n) => [n, n === 10 ? 0.5 : 1]));
    const s = summarizeQuality(psnr, ssim, 10);
    expect(mseFromPsnr(20)).toBeCloseTo(650.25, 9);
    expect(s.meanMse).toBeCloseTo(65.025, 9);
    expect(s.psnrDb).toBeCloseTo(30, 9);
    // The capped mean would say (9·100 + 20) / 10 = 92 dB.
    expect(s.psnrMean).toBeCloseTo(92, 9);
    expect(s.framesAtCap).toBe(9);
    expect(s.frames).toBe(10);
    expect(s.ssimMean).toBeCloseTo(0.95, 9);
    // 5th percentile of [20, 100 × 9] at index 0.45: 20 + 0.45 · 80 = 56.
    expect(s.psnrP05).toBeCloseTo(56, 9);
    expect(s.psnrMedian).toBe(100);
  });

  it('frames beyond the span are not counted', () => {
    const psnr = new Map([
      [1, Infinity],
      [2, Infinity],
      [3, 25],
    ]);
    const ssim = new Map([
      [1, 1],
      [2, 1],
      [3, 0.7],
    ]);
    const s = summarizeQuality(psnr, ssim, 2);
    expect(s.frames).toBe(2);
    expect(s.psnrDb).toBe(PSNR_CAP_DB);
    expect(s.ssimMean).toBe(1);
  });

  it('the cap holds for MSE 0 and tiny MSEs', () => {
    expect(psnrFromMse(0)).toBe(PSNR_CAP_DB);
    expect(psnrFromMse(1e-12)).toBe(PSNR_CAP_DB);
    expect(psnrFromMse(255 * 255)).toBe(0);
  });
});
