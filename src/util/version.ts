/**
 * util/version: the one place the version string comes from (package.json, read once at load).
 * The CLI's --version, the RTSP `Server:` header, the SDP `s=`/`a=tool` and the receiver's
 * `User-Agent` all use it. Works from src/ (tsx, vitest) and from the compiled dist/ alike: both
 * sit two levels below the package root.
 */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  const pkg = JSON.parse(readFileSync(url, 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new Error(`no version in ${url.pathname}`);
  return pkg.version;
}

/** The package version, e.g. `0.1.0`. */
export const VERSION: string = readVersion();

/** Product token for RTSP `Server:` / `User-Agent` and the SDP tool attribute, e.g. `streamlab/0.1.0`. */
export const PRODUCT: string = `streamlab/${VERSION}`;
