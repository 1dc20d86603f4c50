/**
 * Stateless Digest nonces: base64url( issued-at (8 bytes, ms of the server's monotonic clock) ||
 * salt (8 random bytes) || HMAC-SHA-256(key, issued-at || salt || client address)[0..16] ). The
 * salt makes every challenge's nonce its own: two clients of one address challenged in the same
 * millisecond (two players behind one NAT, started together) got the same nonce without it, and
 * the second one's first answer (nonce count 1 again) was refused as a replay. The server
 * remembers nothing per nonce;
 * the key is drawn from the injected Random when the server starts, so nonces die with it, or
 * given (NonceSecret: the workers of `serve --workers N` share their primary's key and timeline,
 * so a nonce issued by one worker is valid on every other). A nonce
 * older than its lifetime is "stale" (answered 401 with `stale=true`, RFC 7616 §3.3), one that was
 * not issued by this server or for another address is invalid.
 *
 * Replays of qop=auth answers are caught by their nonce count (nonce-uses.ts, a bounded table kept
 * by the gate); an RFC 2069 answer (no qop, no count) can be replayed for the same method and URL
 * until its nonce goes stale.
 */

import { constantTimeEqual, hmacSha256 } from '../../util/hash.ts';
import type { Random } from '../../util/random.ts';

const STAMP_BYTES = 8;
const SALT_BYTES = 8;
const MAC_BYTES = 16;
/** What issue() writes: the stamp and the salt, then the MAC. */
const SIGNED_BYTES = STAMP_BYTES + SALT_BYTES;

/**
 * A key and a timeline shared by several processes: `originMs` is the wall-clock instant (ms since
 * the Unix epoch) that is 0 of the nonces' issued-at; each process converts its own monotonic clock
 * to it once, at start (gate.ts).
 */
export interface NonceSecret {
  key: Buffer;
  originMs: number;
}

export type NonceCheck = { verdict: 'valid' | 'stale'; issuedAt: number } | { verdict: 'invalid' };

export class NonceIssuer {
  private readonly key: Buffer;

  constructor(
    private readonly random: Random,
    private readonly lifetimeMs: number,
    key?: Buffer,
  ) {
    if (key !== undefined && key.length < 16) throw new Error('a nonce key needs at least 16 bytes');
    this.key = key ?? Buffer.from(random.hex(32), 'hex');
  }

  issue(clientIp: string, nowMs: number): string {
    const signed = Buffer.alloc(SIGNED_BYTES);
    signed.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(nowMs))));
    signed.write(this.random.hex(SALT_BYTES), STAMP_BYTES, 'hex');
    return Buffer.concat([signed, this.mac(signed, clientIp)]).toString('base64url');
  }

  check(nonce: string, clientIp: string, nowMs: number): NonceCheck {
    const invalid = { verdict: 'invalid' } as const;
    if (nonce.length !== Math.ceil(((SIGNED_BYTES + MAC_BYTES) * 4) / 3) || !/^[A-Za-z0-9_-]+$/.test(nonce)) return invalid;
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== SIGNED_BYTES + MAC_BYTES) return invalid;
    const signed = raw.subarray(0, SIGNED_BYTES);
    if (!constantTimeEqual(raw.subarray(SIGNED_BYTES).toString('hex'), this.mac(signed, clientIp).toString('hex'))) return invalid;
    const issuedAt = Number(signed.readBigUInt64BE());
    if (issuedAt > nowMs + 1000) return invalid;
    return { verdict: nowMs - issuedAt > this.lifetimeMs ? 'stale' : 'valid', issuedAt };
  }

  private mac(signed: Buffer, clientIp: string): Buffer {
    return hmacSha256(this.key, Buffer.concat([signed, Buffer.from(clientIp, 'utf8')])).subarray(0, MAC_BYTES);
  }
}
