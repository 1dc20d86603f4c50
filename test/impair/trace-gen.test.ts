import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeliverySchedule, parseDelayTrace, parseDeliveryTrace } from '../../src/impair/index.ts';
import { CELLULAR_DEFAULT, bundledTraces, generateCellularTrace } from '../../src/impair/trace-gen.ts';

const DIR = path.resolve(import.meta.dirname, '../../media/traces');

describe('bundled traces (media/traces)', () => {
  it('are exactly what scripts/gen-traces.ts writes, and parse', () => {
    for (const [name, text] of Object.entries(bundledTraces())) {
      expect(readFileSync(path.join(DIR, name), 'utf8'), name).toBe(text);
      const r = name.startsWith('delay') ? parseDelayTrace(text) : parseDeliveryTrace(text);
      expect(r.ok, name).toBe(true);
    }
  });

  it('the constant traces are 12 and 2.4 Mbit/s', () => {
    const rate = (name: string) => {
      const r = parseDeliveryTrace(readFileSync(path.join(DIR, name), 'utf8'));
      if (!r.ok) throw new Error(r.message);
      return new DeliverySchedule(r.value).opportunitiesPerSecond * 1500 * 8;
    };
    expect(rate('const-12mbit.trace')).toBe(12_000_000);
    expect(rate('const-2.4mbit.trace')).toBe(2_400_000);
  });

  it('the cellular generator is deterministic per seed and follows its model', () => {
    const a = generateCellularTrace(1);
    expect(generateCellularTrace(1)).toEqual(a);
    expect(generateCellularTrace(2)).not.toEqual(a);
    // Mean capacity: lognormal, E[C] = exp(mu + sigma^2 / 2) = 7.2 Mbit/s before clipping and
    // outages; over 60 s (600 correlated blocks) within a broad band around it.
    const mbit = (a.length * 1500 * 8) / (CELLULAR_DEFAULT.durationMs / 1000) / 1e6;
    expect(mbit).toBeGreaterThan(4);
    expect(mbit).toBeLessThan(11);
    // Non-decreasing whole ms within the duration, starting at 1.
    expect(a.every((t, i) => Number.isInteger(t) && t >= 1 && t <= 60_000 && (i === 0 || t >= (a[i - 1] as number)))).toBe(true);
  });
});
