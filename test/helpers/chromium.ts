/**
 * Debian's chromium (driven by playwright-core with executablePath: Playwright's own browser
 * download cannot work here). Tests that need it skip without it, unless STREAMLAB_REQUIRE_PEERS=1
 * makes a missing chromium fail.
 */
import { execFileSync } from 'node:child_process';

export function findChromium(): string | undefined {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      // next
    }
  }
  return undefined;
}

/** Headless flags for a sandbox-less container. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'];
