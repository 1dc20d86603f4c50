import { describe, expect, it } from 'vitest';
import { RtspError } from '../../src/server/errors.ts';
import { impairmentFromQuery } from '../../src/server/index.ts';

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
  ])('refuses %s with 400 and the reason', (q, reason) => {
    const r = refusal(q);
    expect(r?.status).toBe(400);
    expect(r?.message).toMatch(reason);
  });

  it.each(['?netem=delay+10s+10s', '?netem=limit+10000', '?netem=rate+8kbit', '?netem=delay+100ms+rate+1mbit+limit+50'])(
    'accepts %s at or inside the bounds',
    (q) => {
      expect(refusal(q)).toBeUndefined();
      expect(impairmentFromQuery(q)).toBeDefined();
    },
  );
});
