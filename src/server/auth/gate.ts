/**
 * Who must authenticate, and the check itself: the server's one authentication policy, called for
 * every request from handleRequest (src/server/handlers.ts) before any handler runs.
 *
 * - Rules: `read` (DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER),
 *   `publish` (ANNOUNCE, RECORD), `all` (both) or `none` (only where a config path rule names
 *   users: path-access.ts). OPTIONS never needs credentials.
 * - Digest (RFC 7616) with stateless nonces (nonce.ts) and, for qop=auth answers, a bounded table
 *   of the nonce counts used (nonce-uses.ts): a replayed count is a failure, a nonce the table had
 *   to forget is stale; a challenge per algorithm the users file
 *   has, SHA-256 first and MD5 last (ffmpeg answers the last Digest challenge it sees and knows only
 *   MD5). Answers with qop=auth and without qop (RFC 2069) are accepted.
 * - Basic (RFC 7617) only when enabled; it sends the password in clear and we have no TLS yet.
 * - Failures answer 401 with the challenges, are logged (user, address, reason) and counted; too
 *   many from one address lock it out for a while (503 + Retry-After, failure-guard.ts).
 */

import {
  createResponse,
  digestHa1,
  digestResponse,
  formatBasicChallenge,
  formatDigestChallenge,
  parseAuthorization,
} from '../../rtsp/index.ts';
import type { BasicCredentials, DigestAlgorithm, DigestCredentials, RtspRequest, RtspResponse } from '../../rtsp/index.ts';
import type { Clock } from '../../util/clock.ts';
import { constantTimeEqual } from '../../util/hash.ts';
import { createLogger } from '../../util/log.ts';
import type { Random } from '../../util/random.ts';
import { FailureGuard } from './failure-guard.ts';
import { NonceIssuer } from './nonce.ts';
import type { NonceSecret } from './nonce.ts';
import { NonceUses } from './nonce-uses.ts';
import type { UserTable } from './users.ts';

const log = createLogger('auth');

/** `none`: only what per-path rules (serve --config `paths:`) ask for. */
export type AuthRule = 'read' | 'publish' | 'all' | 'none';

export const READ_METHODS = ['DESCRIBE', 'SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER'] as const;
export const PUBLISH_METHODS = ['ANNOUNCE', 'RECORD'] as const;

export interface AuthOptions {
  users: UserTable;
  /** Which methods need credentials. */
  rule: AuthRule;
  /** Default `streamlab`; must match the users file's realm. */
  realm?: string;
  /** Offer and accept Basic (the caller has made sure the operator forced it: no TLS). */
  basic?: boolean;
  /** A nonce older than this is stale (default 300 s). */
  nonceLifetimeSec?: number;
  /** Failures from one address within `failureWindowSec` that lock it out (default 5 in 60 s). */
  maxFailures?: number;
  failureWindowSec?: number;
  /** How long a locked-out address is refused (default 60 s). */
  lockoutSec?: number;
  /** Addresses remembered by the failure guard (default 4096). */
  maxTrackedAddresses?: number;
  /** Nonces whose counts are remembered for replay detection (default 10000). */
  maxTrackedNonces?: number;
  /**
   * The nonce key and timeline shared with other processes (the workers of `serve --workers N`,
   * given by their primary); by default a key of this server's own.
   */
  nonceSecret?: NonceSecret;
}

export const AUTH_DEFAULTS = {
  realm: 'streamlab',
  nonceLifetimeSec: 300,
  maxFailures: 5,
  failureWindowSec: 60,
  lockoutSec: 60,
  maxTrackedAddresses: 4096,
  maxTrackedNonces: 10_000,
} as const;

export interface AuthCounters {
  /** Requests that needed credentials and carried none (the normal first 401). */
  challenged: number;
  /** Requests whose credentials were accepted. */
  accepted: number;
  /** Requests whose credentials were refused (wrong, unknown user, malformed, bad nonce...). */
  failed: number;
  /** Correct answers to a nonce that had expired or was forgotten (401 with stale=true). */
  stale: number;
  /** Correct answers whose nonce count was used before (refused as failures). */
  replays: number;
  /** Nonces in the replay table, and nonces it let go because it was full. */
  nonceUsesTracked: number;
  nonceUsesEvicted: number;
  /** Requests refused unchecked because their address was locked out. */
  lockedOut: number;
  /** Addresses locked out, and tracked addresses dropped because the table was full. */
  lockouts: number;
  evictions: number;
}

/** `reason` says why a request was refused (for the refusal's log line). */
export type AuthOutcome = { ok: true; user?: string } | { ok: false; response: RtspResponse; reason: string };

export class AuthGate {
  readonly realm: string;
  private readonly methods: ReadonlySet<string>;
  private readonly nonces: NonceIssuer;
  private readonly uses: NonceUses;
  private readonly guard: FailureGuard;
  private readonly algorithms: DigestAlgorithm[];
  /** Added to the clock's now() to stamp and check nonces (0 unless a NonceSecret moves them to a shared timeline). */
  private readonly nonceOffsetMs: number;
  private readonly counts = { challenged: 0, accepted: 0, failed: 0, stale: 0, replays: 0, lockedOut: 0 };

  constructor(
    private readonly o: AuthOptions,
    private readonly clock: Clock,
    random: Random,
  ) {
    this.realm = o.realm ?? AUTH_DEFAULTS.realm;
    this.methods = new Set<string>([
      ...(o.rule === 'read' || o.rule === 'all' ? READ_METHODS : []),
      ...(o.rule === 'publish' || o.rule === 'all' ? PUBLISH_METHODS : []),
    ]);
    const lifetimeMs = (o.nonceLifetimeSec ?? AUTH_DEFAULTS.nonceLifetimeSec) * 1000;
    this.nonces = new NonceIssuer(random, lifetimeMs, o.nonceSecret?.key);
    // now() + offset is the shared timeline's time: this process's clock origin (wall) minus the shared origin.
    this.nonceOffsetMs = o.nonceSecret ? clock.wallNow() - clock.now() - o.nonceSecret.originMs : 0;
    this.uses = new NonceUses(o.maxTrackedNonces ?? AUTH_DEFAULTS.maxTrackedNonces, lifetimeMs);
    this.guard = new FailureGuard({
      maxFailures: o.maxFailures ?? AUTH_DEFAULTS.maxFailures,
      windowMs: (o.failureWindowSec ?? AUTH_DEFAULTS.failureWindowSec) * 1000,
      lockoutMs: (o.lockoutSec ?? AUTH_DEFAULTS.lockoutSec) * 1000,
      maxAddresses: o.maxTrackedAddresses ?? AUTH_DEFAULTS.maxTrackedAddresses,
    });
    const have = new Set<DigestAlgorithm>();
    for (const algs of o.users.values()) for (const a of algs.keys()) have.add(a);
    // Most preferred first (RFC 7616 §3.7); MD5 last for ffmpeg.
    this.algorithms = (['SHA-256', 'MD5'] as const).filter((a) => have.has(a));
  }

  get counters(): AuthCounters {
    return { ...this.counts, ...this.guard.counters, ...this.uses.counters };
  }

  /** Whether `method` needs credentials under the rule. */
  protects(method: string): boolean {
    return this.methods.has(method);
  }

  /**
   * Checks a request's credentials when the rule protects its method, or when `required` says so
   * (a config path rule naming users); `user` is set when credentials were checked.
   */
  check(req: RtspRequest, clientIp: string, required = this.methods.has(req.method)): AuthOutcome {
    if (!required) return { ok: true };
    const now = this.clock.now();
    const locked = this.guard.lockedFor(clientIp, now);
    if (locked > 0) {
      this.counts.lockedOut++;
      log.debug('refused: address locked out', { client: clientIp, method: req.method, remainingMs: Math.round(locked) });
      return {
        ok: false,
        response: createResponse(503, { 'Retry-After': String(Math.ceil(locked / 1000)) }),
        reason: 'address locked out after repeated authentication failures',
      };
    }
    const header = req.headers.get('Authorization');
    if (header === undefined) {
      this.counts.challenged++;
      log.debug('credentials asked for', { client: clientIp, method: req.method });
      return this.challenge(clientIp, now, false, 'credentials required');
    }
    const parsed = parseAuthorization(header);
    if (!parsed.ok) return this.fail(req, clientIp, now, undefined, `${parsed.code}: ${parsed.message}`);
    const creds = parsed.value;
    const verdict = creds.scheme === 'Basic' ? this.checkBasic(creds) : this.checkDigest(creds, req, clientIp, now);
    if (verdict === 'stale') {
      this.counts.stale++;
      log.debug('nonce stale', { user: creds.username, client: clientIp });
      return this.challenge(clientIp, now, true, 'nonce stale');
    }
    if (verdict !== 'ok') return this.fail(req, clientIp, now, creds.username, verdict);
    this.counts.accepted++;
    this.guard.success(clientIp);
    return { ok: true, user: creds.username };
  }

  private checkBasic(c: BasicCredentials): 'ok' | string {
    if (!this.o.basic) return 'Basic credentials, but Basic is not enabled';
    const entry = this.o.users.get(c.username);
    if (!entry) return 'unknown user';
    for (const [alg, ha1] of entry) {
      if (constantTimeEqual(digestHa1(alg, c.username, this.realm, c.password), ha1)) return 'ok';
    }
    return 'wrong password';
  }

  private checkDigest(c: DigestCredentials, req: RtspRequest, clientIp: string, now: number): 'ok' | 'stale' | string {
    if (c.realm !== this.realm) return `realm ${JSON.stringify(c.realm.slice(0, 64))} is not ours`;
    if (!uriMatches(c.uri, req.uri)) return 'digest uri is not the request URI';
    const nonce = this.nonces.check(c.nonce, clientIp, now + this.nonceOffsetMs);
    if (nonce.verdict === 'invalid') return 'nonce not issued by this server for this address';
    const ha1 = this.o.users.get(c.username)?.get(c.algorithm);
    if (ha1 === undefined) return this.o.users.has(c.username) ? `no ${c.algorithm} credentials for the user` : 'unknown user';
    const expected = digestResponse({
      algorithm: c.algorithm,
      ha1,
      nonce: c.nonce,
      method: req.method,
      uri: c.uri,
      ...(c.qop ? { qop: c.qop } : {}),
    });
    if (!constantTimeEqual(expected, c.response)) return 'wrong password';
    if (nonce.verdict === 'stale') return 'stale';
    if (!c.qop) return 'ok';
    const use = this.uses.use(c.nonce, nonce.issuedAt, parseInt(c.qop.nc, 16), now + this.nonceOffsetMs);
    if (use === 'forgotten') return 'stale';
    if (use === 'replay') {
      this.counts.replays++;
      return `nonce count ${c.qop.nc} used before (replay)`;
    }
    return 'ok';
  }

  private fail(req: RtspRequest, clientIp: string, now: number, user: string | undefined, reason: string): AuthOutcome {
    this.counts.failed++;
    const lockedNow = this.guard.failure(clientIp, now);
    log.warn('authentication failed', {
      user: user?.slice(0, 64),
      client: clientIp,
      method: req.method,
      reason,
      ...(lockedNow ? { lockedOutForSec: this.o.lockoutSec ?? AUTH_DEFAULTS.lockoutSec } : {}),
    });
    return this.challenge(clientIp, now, false, `authentication failed: ${reason}`);
  }

  private challenge(clientIp: string, now: number, stale: boolean, reason: string): AuthOutcome {
    const headers: [string, string][] = [];
    const nonce = this.nonces.issue(clientIp, now + this.nonceOffsetMs);
    for (const algorithm of this.algorithms) {
      headers.push(['WWW-Authenticate', formatDigestChallenge({ realm: this.realm, nonce, algorithm, stale })]);
    }
    if (this.o.basic) headers.push(['WWW-Authenticate', formatBasicChallenge(this.realm)]);
    return { ok: false, response: createResponse(401, headers), reason };
  }
}

/** The digest-uri names the request's URI: the same string, or its path (and query) alone. */
function uriMatches(digestUri: string, requestUri: string): boolean {
  if (digestUri === requestUri) return true;
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(\/[^#]*)?/i.exec(requestUri);
  return m !== null && digestUri === (m[1] ?? '/');
}
