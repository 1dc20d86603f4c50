/**
 * Real-peer gating for tests.
 * A suite that needs external programs runs when they are present, is skipped when they are
 * missing, and FAILS when they are missing and STREAMLAB_REQUIRE_PEERS=1.
 */

import { spawnSync } from 'node:child_process';
import { describe, it } from 'vitest';

const cache = new Map<string, boolean>();

export function hasPeer(bin: string): boolean {
  let ok = cache.get(bin);
  if (ok === undefined) {
    // ffmpeg-style tools answer -version, GStreamer's and VLC's --version.
    ok = [['-version'], ['--version']].some((args) => {
      const r = spawnSync(bin, args, { stdio: 'ignore', timeout: 10_000 });
      return !r.error && r.status === 0;
    });
    cache.set(bin, ok);
  }
  return ok;
}

export function peersRequired(): boolean {
  return process.env.STREAMLAB_REQUIRE_PEERS === '1';
}

/** describe() that runs only when every program in `bins` answers `-version` or `--version`. */
export function describeWithPeers(title: string, bins: readonly string[], fn: () => void): void {
  const missing = bins.filter((b) => !hasPeer(b));
  if (missing.length === 0) {
    describe(title, fn);
  } else if (peersRequired()) {
    describe(title, () => {
      it(`requires ${missing.join(', ')} (STREAMLAB_REQUIRE_PEERS=1)`, () => {
        throw new Error(`missing peer program(s): ${missing.join(', ')}`);
      });
    });
  } else {
    describe.skip(`${title} (missing ${missing.join(', ')})`, fn);
  }
}

/** True when `ffmpeg -encoders` lists `name` (e.g. 'libx265'). */
export function hasEncoder(name: string): boolean {
  if (!hasPeer('ffmpeg')) return false;
  const r = spawnSync('ffmpeg', ['-hide_banner', '-encoders'], { encoding: 'utf8' });
  return new RegExp(`^\\s*\\S+\\s+${name}\\s`, 'm').test(r.stdout ?? '');
}
