/**
 * Slows password guessing per client address: after `maxFailures` failed authentications within
 * `windowMs`, the address is refused (without checking credentials) for `lockoutMs`. The table of
 * addresses is bounded (`maxAddresses`): when full, entries whose window and lockout are over go
 * first, then the least recently failed one (counted as an eviction). Time is passed in.
 */

export interface FailureGuardOptions {
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
  maxAddresses: number;
}

interface Entry {
  failures: number;
  windowStart: number;
  lockedUntil: number;
}

export class FailureGuard {
  private readonly table = new Map<string, Entry>();
  readonly counters = { lockouts: 0, evictions: 0 };

  constructor(private readonly o: FailureGuardOptions) {}

  get size(): number {
    return this.table.size;
  }

  /** Milliseconds the address stays locked out, 0 when it is not. */
  lockedFor(ip: string, nowMs: number): number {
    const e = this.table.get(ip);
    return e && e.lockedUntil > nowMs ? e.lockedUntil - nowMs : 0;
  }

  /** Records a failure; true when this one locks the address out. */
  failure(ip: string, nowMs: number): boolean {
    let e = this.table.get(ip);
    if (e) this.table.delete(ip);
    if (!e || (nowMs - e.windowStart > this.o.windowMs && e.lockedUntil <= nowMs)) {
      e = { failures: 0, windowStart: nowMs, lockedUntil: 0 };
    }
    e.failures++;
    let locked = false;
    if (e.failures >= this.o.maxFailures && e.lockedUntil <= nowMs) {
      e.lockedUntil = nowMs + this.o.lockoutMs;
      // The next window starts when the lockout ends.
      e.windowStart = e.lockedUntil;
      e.failures = 0;
      this.counters.lockouts++;
      locked = true;
    }
    this.makeRoom(nowMs);
    this.table.set(ip, e);
    return locked;
  }

  success(ip: string): void {
    this.table.delete(ip);
  }

  private makeRoom(nowMs: number): void {
    if (this.table.size < this.o.maxAddresses) return;
    for (const [ip, e] of this.table) {
      if (e.lockedUntil <= nowMs && nowMs - e.windowStart > this.o.windowMs) this.table.delete(ip);
    }
    while (this.table.size >= this.o.maxAddresses) {
      const oldest = this.table.keys().next();
      if (oldest.done) break;
      this.table.delete(oldest.value);
      this.counters.evictions++;
    }
  }
}
