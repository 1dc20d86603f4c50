/**
 * Gating for GStreamer tests, with the same rules as describeWithPeers (run when present, skip
 * when missing, FAIL when missing and STREAMLAB_REQUIRE_PEERS=1). A separate helper because
 * `gst-launch-1.0 -version` (what hasPeer runs) is an error: GStreamer wants `--version`; and
 * because a GStreamer test also needs its elements (plugins), checked with gst-inspect-1.0.
 */

import { spawnSync } from 'node:child_process';
import { describe, it } from 'vitest';
import { hasPeer, peersRequired } from './peers.ts';
import { runProgram } from './run-program.ts';
import type { ProgramResult } from './run-program.ts';

const cache = new Map<string, boolean>();

function runs(bin: string, args: string[]): boolean {
  const key = `${bin} ${args.join(' ')}`;
  let ok = cache.get(key);
  if (ok === undefined) {
    const r = spawnSync(bin, args, { stdio: 'ignore' });
    ok = !r.error && r.status === 0;
    cache.set(key, ok);
  }
  return ok;
}

/** What is missing to run gst-launch-1.0 with `elements` (and the `-version` programs in `bins`). */
export function missingForGstreamer(elements: readonly string[], bins: readonly string[] = []): string[] {
  const missing = bins.filter((b) => !hasPeer(b));
  if (!runs('gst-launch-1.0', ['--version'])) return [...missing, 'gst-launch-1.0'];
  if (!runs('gst-inspect-1.0', ['--version'])) return [...missing, 'gst-inspect-1.0'];
  return [...missing, ...elements.filter((e) => !runs('gst-inspect-1.0', ['--exists', e]))];
}

export function describeWithGstreamer(title: string, elements: readonly string[], bins: readonly string[], fn: () => void): void {
  const missing = missingForGstreamer(elements, bins);
  if (missing.length === 0) {
    describe(title, fn);
  } else if (peersRequired()) {
    describe(title, () => {
      it(`requires ${missing.join(', ')} (STREAMLAB_REQUIRE_PEERS=1)`, () => {
        throw new Error(`missing peer program(s)/GStreamer element(s): ${missing.join(', ')}`);
      });
    });
  } else {
    describe.skip(`${title} (missing ${missing.join(', ')})`, fn);
  }
}

/**
 * rtspsrc playing both tracks of `location` over TCP into fakesinks that stop after 30 buffers
 * each, so the pipeline ends by itself; `extra` are more rtspsrc properties.
 */
export function rtspsrcToFakesinks(location: string, extra: string[] = []): Promise<ProgramResult> {
  const branch = ['src.', '!', 'queue', '!', 'fakesink', 'num-buffers=30'];
  return runProgram(
    'gst-launch-1.0',
    ['-q', 'rtspsrc', 'name=src', `location=${location}`, 'protocols=tcp', ...extra, ...branch, ...branch],
    40_000,
  );
}
