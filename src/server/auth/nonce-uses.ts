/**
 * Replay detection for Digest answers with qop=auth (RFC 7616 §3.4: the nonce count lets the server
 * detect a replayed request). Per nonce, the highest nc accepted and a 32-wide window of the counts
 * just below it, as IPsec's anti-replay window does: a count seen before, or older than the window,
 * is a replay. Counts may arrive a little out of order (one nonce used over two connections), but
 * never twice.
 *
 * Bounded: at most `maxNonces` nonces are remembered. Past that, the one first used earliest goes,
 * and every nonce issued no later than it is from then on answered as "forgotten": the caller treats it
 * as stale (401 with stale=true), so the client retries with a fresh nonce and no replay of a
 * forgotten nonce is ever accepted. A nonce past its lifetime never reaches this table (the issuer
 * calls it stale first), so entries older than the lifetime are dropped as well.
 *
 * Answers without qop (RFC 2069, as GStreamer's client sends) carry no count: a captured one can
 * be replayed for the same method and URI until its nonce goes stale. That weakness is the
 * protocol's.
 */

const WINDOW = 32;

export type NonceUse = 'fresh' | 'replay' | 'forgotten';

interface Uses {
  issuedAt: number;
  /** Highest count accepted. */
  max: number;
  /** Bit k set: count max − k was accepted (k < WINDOW). */
  mask: number;
}

export class NonceUses {
  /** In order of first use (roughly the order of issue). */
  private readonly byNonce = new Map<string, Uses>();
  /** Nonces issued at or before this instant may have been forgotten. */
  private floor = -Infinity;
  private evicted = 0;

  constructor(
    private readonly maxNonces: number,
    private readonly lifetimeMs: number,
  ) {}

  get counters(): { nonceUsesTracked: number; nonceUsesEvicted: number } {
    return { nonceUsesTracked: this.byNonce.size, nonceUsesEvicted: this.evicted };
  }

  /** Records count `nc` (1-based) of `nonce`, issued at `issuedAt`, if it was not used before. */
  use(nonce: string, issuedAt: number, nc: number, nowMs: number): NonceUse {
    if (!Number.isInteger(nc) || nc < 1) return 'replay';
    const u = this.byNonce.get(nonce);
    if (!u) {
      if (issuedAt <= this.floor) return 'forgotten';
      this.makeRoom(nowMs);
      this.byNonce.set(nonce, { issuedAt, max: nc, mask: 1 });
      return 'fresh';
    }
    if (nc > u.max) {
      const shift = nc - u.max;
      u.mask = shift >= WINDOW ? 1 : ((u.mask << shift) | 1) >>> 0;
      u.max = nc;
      return 'fresh';
    }
    const k = u.max - nc;
    if (k >= WINDOW) return 'replay';
    const bit = (1 << k) >>> 0;
    if (u.mask & bit) return 'replay';
    u.mask = (u.mask | bit) >>> 0;
    return 'fresh';
  }

  private makeRoom(nowMs: number): void {
    for (const [nonce, u] of this.byNonce) {
      if (nowMs - u.issuedAt <= this.lifetimeMs) break;
      this.byNonce.delete(nonce);
    }
    for (const [nonce, u] of this.byNonce) {
      if (this.byNonce.size < this.maxNonces) break;
      this.byNonce.delete(nonce);
      this.floor = Math.max(this.floor, u.issuedAt);
      this.evicted++;
    }
  }
}
