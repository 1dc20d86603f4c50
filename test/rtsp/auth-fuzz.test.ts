/** Authorization / WWW-Authenticate parsers on arbitrary input: never throw, stable codes, round trips. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatAuthorization,
  formatDigestChallenge,
  collectChallenges,
  chooseChallenge,
  parseAuthorization,
  parseChallenges,
} from '../../src/rtsp/index.ts';

const printable = fc.stringMatching(/^[ -~]{0,40}$/);
// Header-ish noise: schemes, separators, quotes, backslashes, '=' and control bytes.
const noise = fc
  .array(
    fc.constantFrom('Digest ', 'Basic ', 'username', '=', '"', '\\', ',', ' ', 'realm', 'nonce=', 'qop=auth', 'x', '\x01', 'é', '=='),
    { maxLength: 30 },
  )
  .map((a) => a.join(''));

describe('auth header fuzz', () => {
  it('parseAuthorization and parseChallenges never throw and fail only with AUTH_ERR_ codes', () => {
    fc.assert(
      fc.property(fc.oneof(printable, noise, fc.string({ maxLength: 60 })), (s) => {
        for (const r of [parseAuthorization(s), parseChallenges(s)]) {
          if (!r.ok) expect(r.code).toMatch(/^AUTH_ERR_/);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('any credentials our client writes parse back to the same fields (quotes and backslashes included)', () => {
    fc.assert(
      fc.property(
        fc.record({
          username: printable.filter((u) => !u.includes(':')),
          password: printable,
          realm: printable,
          nonce: printable,
          uri: fc.stringMatching(/^rtsp:\/\/127\.0\.0\.1:\d{1,5}\/[!-~]{0,20}$/),
          method: fc.constantFrom('DESCRIBE', 'SETUP', 'PLAY', 'ANNOUNCE'),
          algorithm: fc.constantFrom('MD5' as const, 'SHA-256' as const),
          qopAuth: fc.boolean(),
          nc: fc.integer({ min: 1, max: 0xffffffff }),
          cnonce: fc.stringMatching(/^[0-9a-f]{8,32}$/),
        }),
        (x) => {
          const header = formatAuthorization(
            { scheme: 'Digest', realm: x.realm, nonce: x.nonce, algorithm: x.algorithm, qopAuth: x.qopAuth, stale: false },
            { username: x.username, password: x.password },
            { method: x.method, uri: x.uri, nc: x.nc, cnonce: x.cnonce },
          );
          const r = parseAuthorization(header);
          expect(r.ok).toBe(true);
          if (!r.ok || r.value.scheme !== 'Digest') return;
          expect([r.value.username, r.value.realm, r.value.nonce, r.value.uri, r.value.algorithm]).toEqual([
            x.username,
            x.realm,
            x.nonce,
            x.uri,
            x.algorithm,
          ]);
          expect(r.value.qop?.cnonce).toBe(x.qopAuth ? x.cnonce : undefined);

          const basic = parseAuthorization(
            formatAuthorization({ scheme: 'Basic', realm: '', nonce: '', algorithm: 'MD5', qopAuth: false, stale: false }, x, {
              method: x.method,
              uri: x.uri,
              nc: 1,
              cnonce: '',
            }),
          );
          expect(basic).toEqual({ ok: true, value: { scheme: 'Basic', username: x.username, password: x.password } });

          const challenge = formatDigestChallenge({ realm: x.realm, nonce: x.nonce, algorithm: x.algorithm, stale: x.qopAuth });
          expect(chooseChallenge(collectChallenges([challenge]))).toEqual({
            scheme: 'Digest',
            realm: x.realm,
            nonce: x.nonce,
            algorithm: x.algorithm,
            qopAuth: true,
            stale: x.qopAuth,
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});
