import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RtspError } from '../../src/server/errors.ts';
import { impairmentFromQuery } from '../../src/server/index.ts';
import { URL_NETEM_LIMITS } from '../../src/server/impairment.ts';

function refusal(query: string): { status: number; message: string } | undefined {
  try {
    impairmentFromQuery(query);
    return undefined;
  } catch (e) {
    if (!(e instanceof RtspError)) throw e;
    return { status: e.status, message: e.message };
  }
}

describe('URL impairment bounds (issue 13)', () => {
  it.each([
    ['?netem=delay+99999999999999s', /delay .* above 10000ms/],
    ['?netem=delay+10001ms', /delay 10001ms is above/],
    ['?netem=delay+10ms+10001ms', /jitter 10001ms is above/],
    ['?netem=limit+10001', /limit 10001 is above 10000/],
    ['?netem=rate+7999bit', /rate 7999bit is below 8000bit/],
    ['?netem=rate+1mbit+100000', /packet overhead/],
    ['?netem=rate+1mbit+queue+droptail+packets+10001', /queue packets 10001 is above 10000/],
    ['?netem=rate+1mbit+queue+droptail+bytes+10000001', /queue bytes 10000001 is above/],
    ['?netem=rate+1mbit+queue+codel+interval+11s', /target\/interval above 10000ms/],
    ['?netem=link+%2Fetc%2Fpasswd', /trace files .* not allowed in URLs/],
    ['?netem=delaytrace+x.trace', /trace files .* not allowed in URLs/],
  ])('refuses %s with 400 and the reason', (q, reason) => {
    const r = refusal(q);
    expect(r?.status).toBe(400);
    expect(r?.message).toMatch(reason);
  });

  it.each([
    '?netem=delay+10s+10s',
    '?netem=limit+10000',
    '?netem=rate+8kbit',
    '?netem=delay+100ms+rate+1mbit+limit+50',
    '?netem=rate+1mbit+queue+codel+packets+10000',
  ])('accepts %s at or inside the bounds', (q) => {
    expect(refusal(q)).toBeUndefined();
    expect(impairmentFromQuery(q)).toBeDefined();
  });

  it('any query either is refused with 400 or yields a config inside every bound (property)', () => {
    const unit = fc.constantFrom('ms', 's', 'us', '');
    const num = fc.oneof(
      fc.integer({ min: 0, max: 10 ** 15 }).map(String),
      fc.double({ min: 0, max: 1e6, noNaN: true }).map((x) => x.toFixed(3)),
    );
    const word = fc.oneof(
      fc.tuple(num, unit, num, unit).map(([a, u, b, v]) => `delay+${a}${u}+${b}${v}`),
      num.map((n) => `limit+${n.split('.')[0]}`),
      fc
        .tuple(num, fc.constantFrom('bit', 'kbit', 'mbit', 'bps'), fc.integer({ min: -100_000, max: 100_000 }))
        .map(([n, u, o]) => `rate+${n}${u}+${o}`),
      num.map((n) => `loss+random+${n}%25`),
    );
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 3 }), (words) => {
        let spec;
        try {
          spec = impairmentFromQuery(`?netem=${words.join('+')}`);
        } catch (e) {
          expect(e).toBeInstanceOf(RtspError);
          expect((e as RtspError).status).toBe(400);
          return;
        }
        if (spec === undefined) throw new Error('netem words in the query give an impairment');
        const c = spec.config;
        expect(c.limit).toBeLessThanOrEqual(URL_NETEM_LIMITS.maxLimit);
        if (c.delay) {
          expect(c.delay.delayMs).toBeLessThanOrEqual(URL_NETEM_LIMITS.maxDelayMs);
          expect(c.delay.jitterMs).toBeLessThanOrEqual(URL_NETEM_LIMITS.maxJitterMs);
        }
        if (c.rate) expect(c.rate.bitsPerSecond).toBeGreaterThanOrEqual(URL_NETEM_LIMITS.minRateBitsPerSecond);
      }),
      { numRuns: 500 },
    );
  });
});
