/**
 * The server's authentication policy on a manual clock: who is asked, what is accepted, stale
 * nonces, logging and counting of failures, the per-address lockout and its bounded table.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AuthGate, FailureGuard, parseUsersFile } from '../../src/server/auth/index.ts';
import type { AuthOptions } from '../../src/server/auth/index.ts';
import { chooseChallenge, collectChallenges, createRequest, digestHa1, formatAuthorization } from '../../src/rtsp/index.ts';
import type { RtspResponse } from '../../src/rtsp/index.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { seededRandom } from '../../src/util/random.ts';
import { setLogSink } from '../../src/util/log.ts';

const URL = 'rtsp://127.0.0.1:8554/sample.mp4';
const IP = '127.0.0.1';
const realm = 'streamlab';
const users = new Map([
  [
    'alice',
    new Map([
      ['MD5', digestHa1('MD5', 'alice', realm, 'wonderland')] as const,
      ['SHA-256', digestHa1('SHA-256', 'alice', realm, 'wonderland')] as const,
    ]),
  ],
  ['bob', new Map([['MD5', digestHa1('MD5', 'bob', realm, 'builder')] as const])],
]);

function gate(extra: Partial<AuthOptions> = {}, clock = new ManualClock()) {
  return { clock, gate: new AuthGate({ users, rule: 'all', ...extra }, clock, seededRandom(7)) };
}

function req(method: string, authorization?: string, uri = URL) {
  return createRequest(method, uri, { CSeq: '1', ...(authorization ? { Authorization: authorization } : {}) });
}

function denied(outcome: ReturnType<AuthGate['check']>): RtspResponse {
  if (outcome.ok) throw new Error('expected a refusal');
  return outcome.response;
}

/** Nonce counts as a client keeps them: each answer uses the next one unless told otherwise. */
let lastNc = 0;

/** What a client answers to the challenge in `res` (our client's choice: SHA-256 first). */
function answer(
  res: RtspResponse,
  method: string,
  user: string,
  password: string,
  opts: { uri?: string; qop?: boolean; md5?: boolean; nc?: number } = {},
) {
  let cs = collectChallenges(res.headers.getAll('WWW-Authenticate'));
  if (opts.md5) cs = cs.filter((c) => c.params.get('algorithm') === 'MD5');
  const chosen = chooseChallenge(cs);
  if (!chosen) throw new Error('no challenge');
  if (opts.qop === false) chosen.qopAuth = false;
  return formatAuthorization(
    chosen,
    { username: user, password },
    {
      method,
      uri: opts.uri ?? URL,
      nc: opts.nc ?? ++lastNc,
      cnonce: '0a4f113b',
    },
  );
}

let restore: ((line: string) => void) | undefined;
afterEach(() => {
  if (restore) setLogSink(restore);
  restore = undefined;
});
function captureLogs(): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  restore = setLogSink((l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  return lines;
}

describe('AuthGate', () => {
  it('asks for credentials with one Digest challenge per algorithm, SHA-256 first and MD5 last; OPTIONS passes', () => {
    const { gate: g } = gate();
    expect(g.check(req('OPTIONS'), IP)).toEqual({ ok: true });
    const res = denied(g.check(req('DESCRIBE'), IP));
    expect(res.statusCode).toBe(401);
    const h = res.headers.getAll('WWW-Authenticate');
    expect(h).toHaveLength(2);
    expect(h[0]).toMatch(/^Digest realm="streamlab", nonce="[A-Za-z0-9_-]{43}", algorithm=SHA-256, qop="auth"$/);
    expect(h[1]).toMatch(/^Digest realm="streamlab", nonce="[A-Za-z0-9_-]{43}", algorithm=MD5, qop="auth"$/);
    expect(g.counters).toMatchObject({ challenged: 1, failed: 0 });
  });

  it('accepts SHA-256 and MD5 answers with qop=auth, RFC 2069 answers, and the request path as digest-uri', () => {
    const { gate: g } = gate();
    const challenge = denied(g.check(req('DESCRIBE'), IP));
    expect(g.check(req('DESCRIBE', answer(challenge, 'DESCRIBE', 'alice', 'wonderland')), IP)).toEqual({ ok: true, user: 'alice' });
    expect(g.check(req('SETUP', answer(challenge, 'SETUP', 'bob', 'builder', { md5: true })), IP)).toEqual({ ok: true, user: 'bob' });
    expect(g.check(req('PLAY', answer(challenge, 'PLAY', 'bob', 'builder', { md5: true, qop: false })), IP)).toEqual({
      ok: true,
      user: 'bob',
    });
    expect(g.check(req('PLAY', answer(challenge, 'PLAY', 'alice', 'wonderland', { uri: '/sample.mp4' })), IP)).toMatchObject({ ok: true });
    expect(g.counters).toMatchObject({ accepted: 4, failed: 0 });
  });

  it('refuses, logs (user, address, reason) and counts: wrong password, unknown user, other method, other URI, forged nonce, other address', () => {
    const logs = captureLogs();
    const { gate: g } = gate({ maxFailures: 100 });
    const c = denied(g.check(req('DESCRIBE'), IP));
    const cases: [string, string, string][] = [
      [answer(c, 'DESCRIBE', 'alice', 'Wonderland'), IP, 'wrong password'],
      [answer(c, 'DESCRIBE', 'mallory', 'x'), IP, 'unknown user'],
      [answer(c, 'DESCRIBE', 'bob', 'builder'), IP, 'no SHA-256 credentials for the user'],
      [answer(c, 'PLAY', 'alice', 'wonderland'), IP, 'wrong password'], // signed for PLAY, sent as DESCRIBE
      [answer(c, 'DESCRIBE', 'alice', 'wonderland', { uri: 'rtsp://127.0.0.1:8554/other.mp4' }), IP, 'digest uri is not the request URI'],
      [answer(c, 'DESCRIBE', 'alice', 'wonderland').replace(/nonce="[^"]+"/, `nonce="${'A'.repeat(43)}"`), IP, 'nonce not issued'],
      [answer(c, 'DESCRIBE', 'alice', 'wonderland'), '127.0.0.2', 'nonce not issued'],
      ['Digest username="alice"', IP, 'AUTH_ERR_MISSING'],
      [answer(c, 'DESCRIBE', 'alice', 'wonderland').replace('realm="streamlab"', 'realm="other"'), IP, 'is not ours'],
    ];
    for (const [authorization, ip, reason] of cases) {
      const res = denied(g.check(req('DESCRIBE', authorization), ip));
      expect(res.statusCode).toBe(401);
      expect(res.headers.getAll('WWW-Authenticate')).toHaveLength(2);
      const line = logs.at(-1);
      expect(line).toMatchObject({ level: 'warn', msg: 'authentication failed', client: ip, method: 'DESCRIBE' });
      expect(String(line?.reason)).toContain(reason);
    }
    expect(logs.filter((l) => l.msg === 'authentication failed').map((l) => l.user)).toEqual([
      'alice',
      'mallory',
      'bob',
      'alice',
      'alice',
      'alice',
      'alice',
      undefined,
      'alice',
    ]);
    expect(g.counters).toMatchObject({ failed: cases.length, accepted: 0 });
  });

  it('a correct answer to an expired nonce gets 401 with stale=true (not a failure); a fresh nonce works again', () => {
    const { gate: g, clock } = gate({ nonceLifetimeSec: 60 });
    const c = denied(g.check(req('DESCRIBE'), IP));
    const auth = answer(c, 'DESCRIBE', 'alice', 'wonderland');
    clock.advance(59_000);
    expect(g.check(req('DESCRIBE', auth), IP).ok).toBe(true);
    clock.advance(2_000);
    const stale = denied(g.check(req('DESCRIBE', auth), IP));
    expect(stale.statusCode).toBe(401);
    expect(stale.headers.getAll('WWW-Authenticate').every((h) => h.endsWith(', stale=true'))).toBe(true);
    expect(g.counters).toMatchObject({ stale: 1, failed: 0 });
    // A wrong password on a stale nonce is a failure, not "stale".
    expect(denied(g.check(req('DESCRIBE', answer(c, 'DESCRIBE', 'alice', 'nope')), IP)).headers.get('WWW-Authenticate')).not.toContain(
      'stale',
    );
    expect(g.check(req('DESCRIBE', answer(stale, 'DESCRIBE', 'alice', 'wonderland')), IP).ok).toBe(true);
  });

  it("gates sharing a NonceSecret (the workers of serve --workers) accept each other's nonces on one timeline; another key does not", () => {
    const epoch = Date.UTC(2026, 0, 1);
    const key = Buffer.alloc(32, 7);
    // The primary's monotonic 0 is `epoch`; worker A started 1 s later, worker B 200 s later (a restart).
    const secret = { key, originMs: epoch };
    const a = gate({ nonceLifetimeSec: 60, nonceSecret: secret }, new ManualClock(0, epoch + 1000));
    const b = gate({ nonceLifetimeSec: 60, nonceSecret: secret }, new ManualClock(0, epoch + 200_000));
    const other = gate(
      { nonceLifetimeSec: 60, nonceSecret: { key: Buffer.alloc(32, 8), originMs: epoch } },
      new ManualClock(0, epoch + 1000),
    );
    b.clock.advance(5000);
    a.clock.advance(204_000); // the same wall-clock instant as b's
    const c = denied(a.gate.check(req('DESCRIBE'), IP));
    expect(b.gate.check(req('DESCRIBE', answer(c, 'DESCRIBE', 'alice', 'wonderland')), IP)).toEqual({ ok: true, user: 'alice' });
    expect(b.gate.counters).toMatchObject({ accepted: 1, stale: 0, failed: 0 });
    expect(
      denied(other.gate.check(req('DESCRIBE', answer(c, 'DESCRIBE', 'alice', 'wonderland')), IP)).headers.get('WWW-Authenticate'),
    ).not.toContain('stale');
    expect(other.gate.counters).toMatchObject({ accepted: 0, failed: 1 });
    // The lifetime runs on the shared timeline: 61 s after issue the nonce is stale on b.
    b.clock.advance(61_000);
    const stale = denied(b.gate.check(req('DESCRIBE', answer(c, 'DESCRIBE', 'alice', 'wonderland')), IP));
    expect(stale.headers.getAll('WWW-Authenticate').every((h) => h.endsWith(', stale=true'))).toBe(true);
  });

  it('two clients of one address challenged in the same millisecond get nonces of their own, and both get in', () => {
    const { gate: g } = gate();
    // Two players behind one NAT, started together: no clock tick between the challenges.
    const a = denied(g.check(req('DESCRIBE'), IP));
    const b = denied(g.check(req('DESCRIBE'), IP));
    const nonceOf = (r: RtspResponse) => /nonce="([^"]+)"/.exec(r.headers.get('WWW-Authenticate') ?? '')?.[1];
    expect(nonceOf(a)).not.toBe(nonceOf(b));
    // Each answers with nonce count 1, as a fresh client does: neither is a replay of the other.
    expect(g.check(req('DESCRIBE', answer(a, 'DESCRIBE', 'alice', 'wonderland', { nc: 1 })), IP).ok).toBe(true);
    expect(g.check(req('DESCRIBE', answer(b, 'DESCRIBE', 'alice', 'wonderland', { nc: 1 })), IP).ok).toBe(true);
    expect(g.counters).toMatchObject({ accepted: 2, replays: 0, failed: 0 });
  });

  it('a replayed nonce count is refused as a failure; counts may come out of order within the window', () => {
    const { gate: g } = gate();
    const c = denied(g.check(req('DESCRIBE'), IP));
    const lines = captureLogs();
    const first = answer(c, 'DESCRIBE', 'alice', 'wonderland', { nc: 5 });
    expect(g.check(req('DESCRIBE', first), IP).ok).toBe(true);
    expect(denied(g.check(req('DESCRIBE', first), IP)).statusCode).toBe(401);
    expect(lines.at(-1)).toMatchObject({ msg: 'authentication failed', reason: 'nonce count 00000005 used before (replay)' });
    // Two connections sharing a nonce: 7 then 6 are both new; 6 again is not.
    expect(g.check(req('SETUP', answer(c, 'SETUP', 'alice', 'wonderland', { nc: 7 })), IP).ok).toBe(true);
    expect(g.check(req('SETUP', answer(c, 'SETUP', 'alice', 'wonderland', { nc: 6 })), IP).ok).toBe(true);
    expect(g.check(req('SETUP', answer(c, 'SETUP', 'alice', 'wonderland', { nc: 6 })), IP).ok).toBe(false);
    // Further back than the 32-wide window below the highest count: refused even if never seen.
    expect(g.check(req('PLAY', answer(c, 'PLAY', 'alice', 'wonderland', { nc: 40 })), IP).ok).toBe(true);
    expect(g.check(req('PLAY', answer(c, 'PLAY', 'alice', 'wonderland', { nc: 8 })), IP).ok).toBe(false);
    expect(g.check(req('PLAY', answer(c, 'PLAY', 'alice', 'wonderland', { nc: 9 })), IP).ok).toBe(true);
    expect(g.counters).toMatchObject({ accepted: 5, replays: 3, failed: 3, nonceUsesTracked: 1 });
  });

  it('the nonce-count table stays bounded: a nonce it let go is answered stale, never accepted again', () => {
    const { gate: g, clock } = gate({ maxTrackedNonces: 2, maxFailures: 100 });
    const challenges = [];
    for (let i = 0; i < 3; i++) {
      challenges.push(denied(g.check(req('DESCRIBE'), IP)));
      clock.advance(1000);
    }
    const replayable = challenges.map((c) => answer(c, 'DESCRIBE', 'alice', 'wonderland'));
    for (const a of replayable) expect(g.check(req('DESCRIBE', a), IP).ok).toBe(true);
    expect(g.counters).toMatchObject({ nonceUsesTracked: 2, nonceUsesEvicted: 1 });
    // The first nonce was let go: its replay is stale (the client would retry with a new nonce).
    const stale = denied(g.check(req('DESCRIBE', replayable[0]), IP));
    expect(stale.headers.getAll('WWW-Authenticate').every((h) => h.endsWith(', stale=true'))).toBe(true);
    // So is a new count on it: the table cannot tell it from a replay.
    expect(denied(g.check(req('DESCRIBE', answer(challenges[0]!, 'DESCRIBE', 'alice', 'wonderland')), IP)).statusCode).toBe(401);
    // The other two are still tracked: their replays fail.
    for (const a of replayable.slice(1)) expect(g.check(req('DESCRIBE', a), IP).ok).toBe(false);
    expect(g.check(req('DESCRIBE', answer(stale, 'DESCRIBE', 'alice', 'wonderland')), IP).ok).toBe(true);
    expect(g.counters).toMatchObject({ stale: 2, replays: 2 });
  });

  it.each([
    ['read', ['DESCRIBE', 'SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER'], ['OPTIONS', 'ANNOUNCE', 'RECORD']],
    ['publish', ['ANNOUNCE', 'RECORD'], ['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY', 'TEARDOWN']],
    ['all', ['DESCRIBE', 'SETUP', 'PLAY', 'ANNOUNCE', 'RECORD', 'GET_PARAMETER'], ['OPTIONS']],
  ] as const)('rule %s protects exactly its methods', (rule, protectedMethods, open) => {
    const { gate: g } = gate({ rule });
    for (const m of protectedMethods) expect(denied(g.check(req(m), IP)).statusCode, m).toBe(401);
    for (const m of open) expect(g.check(req(m), IP), m).toEqual({ ok: true });
  });

  it('Basic: refused unless enabled; enabled, checked against the HA1 of the users file', () => {
    const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
    const off = gate({ maxFailures: 100 }).gate;
    expect(denied(off.check(req('DESCRIBE', basic('bob', 'builder')), IP)).statusCode).toBe(401);
    expect(off.counters.failed).toBe(1);
    const on = gate({ basic: true, maxFailures: 100 }).gate;
    const c = denied(on.check(req('DESCRIBE'), IP));
    expect(c.headers.getAll('WWW-Authenticate').at(-1)).toBe('Basic realm="streamlab"');
    expect(on.check(req('DESCRIBE', basic('bob', 'builder')), IP)).toEqual({ ok: true, user: 'bob' });
    expect(on.check(req('DESCRIBE', basic('alice', 'wonderland')), IP)).toEqual({ ok: true, user: 'alice' });
    expect(denied(on.check(req('DESCRIBE', basic('bob', 'Builder')), IP)).statusCode).toBe(401);
  });

  it('brute force: after 5 failures in the window the address is refused 503 + Retry-After, even with the right password, until the lockout ends', () => {
    const logs = captureLogs();
    const { gate: g, clock } = gate({ maxFailures: 5, failureWindowSec: 60, lockoutSec: 30 });
    const c = denied(g.check(req('DESCRIBE'), IP));
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      expect(denied(g.check(req('DESCRIBE', answer(c, 'DESCRIBE', 'alice', `guess${i}`)), IP)).statusCode).toBe(401);
    }
    expect(logs.at(-1)).toMatchObject({ msg: 'authentication failed', lockedOutForSec: 30 });
    clock.advance(10_000);
    const good = answer(c, 'DESCRIBE', 'alice', 'wonderland');
    const refused = denied(g.check(req('DESCRIBE', good), IP));
    expect(refused.statusCode).toBe(503);
    expect(refused.headers.get('Retry-After')).toBe('20');
    // Another address is not affected.
    expect(
      g.check(req('DESCRIBE', answer(denied(g.check(req('DESCRIBE'), '127.0.0.9')), 'DESCRIBE', 'alice', 'wonderland')), '127.0.0.9').ok,
    ).toBe(true);
    clock.advance(20_001);
    expect(g.check(req('DESCRIBE', answer(denied(g.check(req('DESCRIBE'), IP)), 'DESCRIBE', 'alice', 'wonderland')), IP).ok).toBe(true);
    expect(g.counters).toMatchObject({ lockouts: 1, lockedOut: 1, failed: 5 });
  });

  it('failures spread wider than the window never lock out', () => {
    const { gate: g, clock } = gate({ maxFailures: 3, failureWindowSec: 10 });
    for (let i = 0; i < 10; i++) {
      clock.advance(6_000);
      expect(denied(g.check(req('DESCRIBE', answer(denied(g.check(req('DESCRIBE'), IP)), 'DESCRIBE', 'alice', 'x')), IP)).statusCode).toBe(
        401,
      );
    }
    expect(g.counters.lockouts).toBe(0);
  });
});

describe('FailureGuard', () => {
  it('the address table stays bounded: expired entries go first, then the oldest (counted)', () => {
    const guard = new FailureGuard({ maxFailures: 3, windowMs: 1000, lockoutMs: 5000, maxAddresses: 4 });
    for (let i = 0; i < 100; i++) guard.failure(`10.0.0.${i}`, 0);
    expect(guard.size).toBe(4);
    expect(guard.counters.evictions).toBe(96);
    // After the window, old entries make room without evicting anyone.
    guard.failure('10.0.1.1', 5000);
    expect(guard.size).toBe(1);
    expect(guard.counters.evictions).toBe(96);
    for (let n = 0; n < 3; n++) guard.failure('10.0.1.2', 5000);
    expect(guard.lockedFor('10.0.1.2', 5000)).toBe(5000);
    guard.success('10.0.1.2');
    expect(guard.lockedFor('10.0.1.2', 5000)).toBe(0);
  });
});

describe('users file (htdigest)', () => {
  it('MD5 and SHA-256 HA1 lines, comments, other realms skipped with a warning, bad lines refused', () => {
    const md5 = digestHa1('MD5', 'alice', realm, 'pw');
    const sha = digestHa1('SHA-256', 'alice', realm, 'pw');
    const r = parseUsersFile(`# users\nalice:streamlab:${md5}\r\nalice:streamlab:${sha.toUpperCase()}\n\ncarol:other:${md5}\n`, realm);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual(['line 5: carol is in realm "other", not "streamlab": skipped']);
    expect([...r.users.entries()].map(([u, m]) => [u, Object.fromEntries(m)])).toEqual([['alice', { MD5: md5, 'SHA-256': sha }]]);
    expect(parseUsersFile('alice:pw\n', realm).errors).toEqual(['line 1: expected user:realm:HA1 (2 fields)']);
    expect(parseUsersFile('alice:streamlab:xyz\n', realm).errors[0]).toContain('neither 32 (MD5) nor 64 (SHA-256)');
    expect(parseUsersFile(`:streamlab:${md5}\n`, realm).errors[0]).toContain('empty user name');
    expect(parseUsersFile(`a:streamlab:${md5}\na:streamlab:${md5}\n`, realm).errors[0]).toContain('second MD5 line');
  });
});
