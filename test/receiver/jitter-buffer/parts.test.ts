/** The building blocks on their own, with hand-computed values, and a lasting delay rise. */
import { describe, expect, it } from 'vitest';
import { DelayEstimator, JitterBuffer, PlayoutClock, WindowedMin } from '../../../src/receiver/jitter-buffer/index.ts';
import { type Arrival, drive, pkt } from './helpers.ts';

describe('WindowedMin', () => {
  it('keeps the minimum of the last windowMs', () => {
    const w = new WindowedMin(100);
    expect(w.min).toBeUndefined();
    w.add(0, 5);
    w.add(10, 3);
    w.add(20, 4);
    expect(w.min).toBe(3);
    w.add(111, 9); // window [11, 111]: 4 (t=20), 9
    expect(w.min).toBe(4);
    w.add(200, 10); // window [100, 200]: 9, 10
    expect(w.min).toBe(9);
    w.add(1000, 50); // everything else expired; the newest always stays
    expect(w.min).toBe(50);
  });

  it('caps its entries', () => {
    const w = new WindowedMin(1000, 2);
    w.add(0, 1);
    w.add(1, 2);
    w.add(2, 3); // rising values all stay in the deque; the cap drops the oldest
    expect(w.min).toBe(2);
  });
});

describe('DelayEstimator', () => {
  const base = { minDelayMs: 0, maxDelayMs: 100, startDelayMs: 40, binMs: 10, halfLifeMs: 1000 };

  it('percentile of a decaying histogram', () => {
    const med = new DelayEstimator({ ...base, percentile: 0.5 });
    const p95 = new DelayEstimator({ ...base, percentile: 0.95 });
    expect(med.targetMs).toBe(40); // no sample yet: the start delay
    for (const e of [med, p95]) {
      e.add(0, 0); // bin 0, weight 1
      e.add(25, 0); // bin 2, weight 1
    }
    // weights: bin0 1, bin2 1: the median (1 of 2) is reached in bin 0 -> upper edge 10 ms
    expect(med.targetMs).toBe(10);
    expect(p95.targetMs).toBe(30);
    for (const e of [med, p95]) e.add(25, 1000);
    // one half-life later: bin0 0.5, bin2 0.5 + 1 = 1.5; total 2, median at 1 -> bin 2 -> 30
    expect(med.targetMs).toBe(30);
    expect(med.weight).toBeCloseTo(2, 12);
    for (const e of [med, p95]) e.add(5000, 1000);
    // beyond maxDelay: the last bin (10). bin0 .5, bin2 1.5, bin10 1; total 3
    // median 1.5 -> reached in bin 2 (cum 2) -> 30; 95 % = 2.85 -> bin 10 -> 110, clamped to 100
    expect(med.targetMs).toBe(30);
    expect(p95.targetMs).toBe(100);
  });

  it('clamps to minDelayMs and survives rescaling of old weights', () => {
    const e = new DelayEstimator({ ...base, minDelayMs: 20, halfLifeMs: 1, percentile: 0.5 });
    e.add(95, 0);
    expect(e.targetMs).toBe(100);
    e.add(0, 400); // 400 half-lives later: the old sample weighs 2^-400
    expect(e.targetMs).toBe(20);
    expect(e.weight).toBeCloseTo(1, 12);
  });
});

describe('PlayoutClock', () => {
  const opts = { clockRate: 1000, baseWindowMs: 2000, slewUp: 0.2, slewDown: 0.05, maxDelayMs: 300 };

  it('maps timestamps across 2^32 -> 0', () => {
    const c = new PlayoutClock(opts);
    c.sync(2 ** 32 - 10, 500, 100); // base 500, offset 600
    expect(c.deadline(2 ** 32 - 10)).toBe(600);
    const ext = c.unwrap(5);
    expect(ext).toBe(2 ** 32 + 5);
    expect(c.mediaMs(ext)).toBe(15);
    expect(c.deadline(ext)).toBe(615);
    expect(c.appliedDelayMs).toBe(100);
  });

  it('slews towards base + target, caps at maxDelayMs, respects the floor', () => {
    const c = new PlayoutClock(opts);
    c.sync(0, 500, 100); // offset 600, last update at 500
    expect(c.observe(10, 500)).toBe(0); // transit 490: the new fastest, relative delay 0
    expect(c.baseMs).toBe(490);
    expect(c.update(600, 100)).toBe(true); // want 590; 100 ms at 0.05 -> -5
    expect(c.offsetMs).toBe(595);
    expect(c.update(700, 100)).toBe(true);
    expect(c.offsetMs).toBe(590);
    expect(c.update(800, 100)).toBe(false);
    expect(c.update(900, 250)).toBe(true); // want 740; 100 ms at 0.2 -> +20
    expect(c.offsetMs).toBe(610);
    expect(c.update(10_000, 1000)).toBe(true); // target capped at 300: want 790
    expect(c.appliedDelayMs).toBe(300);
    expect(c.update(10_100, 0, () => 787)).toBe(true); // want 490, -5 -> 785, floor 787
    expect(c.offsetMs).toBe(787);
  });
});

describe('a lasting rise of the network delay', () => {
  it('the offset climbs to meet it even while every packet is late (nothing is released)', () => {
    // Fixed 50 ms, 20 ms packets. From packet 50 (sent at 1000 ms) on, every packet takes 300 ms
    // more. Until the on-time samples leave the 2 s window (last one arrived at 980 ms: gone at
    // 2980), the base stays 0 and the offset 50: all late. Then the base is 300, and the offset
    // climbs at 0.2 ms/ms from 50: it passes 300 (packets on time) 1250 ms later, ~4230 ms,
    // and reaches 350 (applied 50) at ~4480.
    const arrivals: Arrival[] = [];
    for (let i = 0; i < 500; i++) arrivals.push({ packet: pkt(i, i * 160), arrivalMs: 20 * i + (i >= 50 ? 300 : 0) });
    const jb = new JitterBuffer({ mode: 'fixed', delayMs: 50, clockRate: 8000 });
    const r = drive(jb, arrivals);
    arrivals.forEach((a, k) => {
      if (a.arrivalMs >= 1300 && a.arrivalMs < 2980) expect(r.outcomes[k]).toBe('late');
      if (a.arrivalMs < 1000 || a.arrivalMs >= 4300) expect(r.outcomes[k]).toBe('accepted');
    });
    expect(jb.stats().appliedDelayMs).toBe(50);
  });
});
