/**
 * The nonce-count replay table against a plain model: a count is accepted exactly when it was never
 * accepted before and lies within 32 of the highest accepted; the table never holds more nonces than
 * its bound, and a nonce issued no later than one it let go is never accepted again.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NonceUses } from '../../src/server/auth/nonce-uses.ts';

describe('NonceUses', () => {
  it('accepts a count once, out of order within the window, never below it', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 120 }), { maxLength: 200 }), (counts) => {
        const uses = new NonceUses(10, 60_000);
        const seen = new Set<number>();
        let max = 0;
        for (const nc of counts) {
          const expected = seen.has(nc) || (seen.size > 0 && nc <= max - 32) ? 'replay' : 'fresh';
          expect(uses.use('n', 0, nc, 0)).toBe(expected);
          if (expected === 'fresh') {
            seen.add(nc);
            max = Math.max(max, nc);
          }
        }
      }),
    );
  });

  it('stays within its bound and never accepts a nonce it let go', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 4 })), { maxLength: 150 }),
        (bound, steps) => {
          const uses = new NonceUses(bound, 1e9);
          const accepted = new Map<number, Set<number>>();
          for (const [n, nc] of steps) {
            const r = uses.use(`nonce-${n}`, n, nc, 100);
            expect(uses.counters.nonceUsesTracked).toBeLessThanOrEqual(bound);
            if (r !== 'fresh') continue;
            const set = accepted.get(n) ?? new Set<number>();
            expect(set.has(nc)).toBe(false);
            set.add(nc);
            accepted.set(n, set);
          }
        },
      ),
    );
  });

  it('drops nonces past their lifetime before letting live ones go', () => {
    const uses = new NonceUses(2, 1000);
    expect(uses.use('a', 0, 1, 0)).toBe('fresh');
    expect(uses.use('b', 10, 1, 10)).toBe('fresh');
    expect(uses.use('c', 1500, 1, 1500)).toBe('fresh'); // a (and b) expired: dropped, nothing evicted
    expect(uses.counters).toEqual({ nonceUsesTracked: 1, nonceUsesEvicted: 0 });
    expect(uses.use('c', 1500, 1, 1500)).toBe('replay');
    expect(uses.use('c', 1500, 0, 1500)).toBe('replay'); // nc starts at 1
  });
});
