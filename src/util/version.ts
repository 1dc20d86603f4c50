/**
 * util/version: the one place the version string comes from (package.json, read once at load).
 * The CLI's --version, the RTSP `Server:` header, the SDP `s=`/`a=tool` and the receiver's
 * `User-Agent` all use it. The package.json is the nearest one above this file that is
 * streamlab's, so this works from src/ (tsx, vitest), the compiled dist/ and the bench's build.
 */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (let url = new URL('./package.json', import.meta.url); ; url = new URL('../package.json', url)) {
    let text: string | undefined;
    try {
      text = readFileSync(url, 'utf8');
    } catch {
      // not in this directory
    }
    const pkg = text === undefined ? undefined : (JSON.parse(text) as { name?: unknown; version?: unknown });
    if (pkg?.name === 'streamlab' && typeof pkg.version === 'string') return pkg.version;
    if (url.pathname === '/package.json') throw new Error(`no package.json of streamlab above ${import.meta.url}`);
  }
}

/** The package version, e.g. `0.1.0`. */
export const VERSION: string = readVersion();

/** Product token for RTSP `Server:` / `User-Agent` and the SDP tool attribute, e.g. `streamlab/0.1.0`. */
export const PRODUCT: string = `streamlab/${VERSION}`;
