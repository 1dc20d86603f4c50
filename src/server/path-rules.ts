/**
 * Per-path rules (`serve --config`, `paths:`, in the manner of MediaMTX): for a path or a pattern,
 * where the media comes from, who may read and who may publish, and an impairment. The server
 * takes them as plain options; handlers consult `PathRules.match()`. The config file's model
 * (src/config/) builds them.
 *
 * Patterns: an exact path (`studio/cam1`), `*` for one segment (`cams/*`), a trailing `**` for
 * any depth (`private/**`), or `~REGEX` matched against the whole path (`~^cam[0-9]+$`). The
 * first rule that matches wins.
 *
 * A `~REGEX` is tested against paths that clients send, so it runs on V8's linear-time engine
 * (the `l` flag): no pattern, however written, can make a request path cost more than time
 * proportional to its length. Backreferences and lookarounds, which that engine cannot run, are
 * refused when the file is read.
 */
import { createRequire } from 'node:module';
import type * as V8Module from 'node:v8';
import type { ImpairmentSpec } from '../transport/index.ts';

/** Where a path's media comes from. */
export type PathSource =
  /** This one file, served at the rule's (exact) path. */
  | { kind: 'file'; file: string }
  /** The files of this folder, served under the rule's path (`movies/**` → `movies/<file>`). */
  | { kind: 'folder'; dir: string }
  /** A file played looped, as a live channel at the rule's (exact) path. */
  | { kind: 'loop'; file: string }
  /** An ffmpeg input (its arguments), as a live channel at the rule's (exact) path. */
  | { kind: 'ffmpeg'; args: string[] }
  /** Whoever publishes (ANNOUNCE/RECORD) to a path the rule matches. */
  | { kind: 'publisher' }
  /**
   * An origin pulled over RTSP (`rtsp://` or `rtsps://`, credentials in its userinfo), as a live
   * channel at the rule's (exact) path: on demand (the first DESCRIBE starts it, it stops
   * `closeAfterMs` after the last viewer) or from the start; over `transport` when it says; an
   * `rtsps://` origin checked against its own CA file or not at all (`tls`), else as `--pull-tls-*` say.
   */
  | {
      kind: 'pull';
      url: string;
      onDemand: boolean;
      closeAfterMs: number;
      transport?: 'tcp' | 'udp';
      tls?: { caFile?: string; insecure?: boolean };
    };

/** Who may do something: anyone (no credentials), or these users of the users file. */
export type PathAccess = 'any' | readonly string[];

export interface PathRule {
  /** The path or pattern, as written in the config file. */
  path: string;
  source?: PathSource;
  /** Readers (DESCRIBE, SETUP, PLAY...): replaces the server's `--auth` rule on this path. */
  read?: PathAccess;
  /** Publishers (ANNOUNCE, RECORD): replaces the server's `--auth` rule on this path. */
  publish?: PathAccess;
  /** Network emulation of every session on the path, unless its URL asks for another. */
  impairment?: ImpairmentSpec;
}

/** A path segment a rule may name or a pattern may match. */
export const PATH_SEGMENT = /^[A-Za-z0-9._~-]{1,64}$/;
const MAX_PATH = 255;

/** Whether `pattern` is a pattern (`*`, `**`, `~regex`) rather than one exact path. */
export function isPattern(pattern: string): boolean {
  return pattern.startsWith('~') || pattern.split('/').some((s) => s === '*' || s === '**');
}

/** Why a rule's path is not usable, or undefined when it is. */
export function pathPatternError(pattern: string): string | undefined {
  if (pattern.startsWith('~')) {
    try {
      linearRegExp(pattern.slice(1));
      return undefined;
    } catch (err) {
      const why = (err as Error).message;
      return /linear time/.test(why)
        ? 'a regular expression with backreferences or lookarounds, which cannot be matched in linear time'
        : `an invalid regular expression (${why})`;
    }
  }
  const segments = pattern.split('/');
  if (pattern.length > MAX_PATH) return `a path of at most ${MAX_PATH} characters`;
  for (const [i, s] of segments.entries()) {
    if (s === '**' && i !== segments.length - 1) return '`**` only as the last segment';
    if (s !== '*' && s !== '**' && (!PATH_SEGMENT.test(s) || s === '.' || s === '..'))
      return 'segments of letters, digits, `.`, `_`, `~`, `-` separated by `/` (no leading `/`), or `*`, `**`, `~REGEX`';
  }
  return undefined;
}

/**
 * A request path as rules see it: percent-decoded, without empty segments, so that no spelling of
 * a path (`private/a%20b`, `private//x`, `%70rivate/x`) escapes the rule that names it.
 */
export function normalizePath(path: string): string {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // Malformed escapes: matched as written (such a path names no file either).
  }
  return decoded
    .split('/')
    .filter((s) => s !== '')
    .join('/');
}

let linearEngine = false;

/** `source` compiled for V8's linear-time engine (throws when it cannot run there). */
export function linearRegExp(source: string): RegExp {
  if (!linearEngine) {
    // Off by default in Node 20; turning it on only makes the `l` flag available. node:v8 (with
    // the heap and serialization code it brings) is loaded here, by the first `~REGEX` rule, not
    // by every `serve`.
    (createRequire(import.meta.url)('node:v8') as typeof V8Module).setFlagsFromString('--enable-experimental-regexp-engine');
    linearEngine = true;
  }
  // eslint-disable-next-line no-invalid-regexp -- `l` exists once the flag above is set
  return new RegExp(source, 'l');
}

function compile(pattern: string): (path: string) => boolean {
  if (pattern.startsWith('~')) {
    const re = linearRegExp(pattern.slice(1));
    return (p) => re.test(p);
  }
  const want = pattern.split('/');
  return (p) => {
    const got = p.split('/');
    for (let i = 0; i < want.length; i++) {
      const w = want[i];
      if (w === '**') return got.length > i;
      const g = got[i];
      if (g === undefined || (w !== '*' && w !== g)) return false;
    }
    return got.length === want.length;
  };
}

/** Rules that make a live channel: a publisher, a looped file, an ffmpeg input or a pulled origin. */
export function isLiveSource(source: PathSource | undefined): boolean {
  return source?.kind === 'publisher' || source?.kind === 'loop' || source?.kind === 'ffmpeg' || source?.kind === 'pull';
}

/** The rules of a server, in order; the first that matches a path is its rule. */
export class PathRules {
  private readonly compiled: { rule: PathRule; test: (path: string) => boolean }[];

  constructor(readonly rules: readonly PathRule[]) {
    this.compiled = rules.map((rule) => ({ rule, test: compile(rule.path) }));
  }

  /** The rule of a media path (as in the request: no leading slash, no query; decoded here), if any. */
  match(path: string): PathRule | undefined {
    const p = normalizePath(path);
    if (p === '') return undefined;
    return this.compiled.find((c) => c.test(p))?.rule;
  }

  /**
   * Whether `path` is a live channel's by a rule (publisher, looped file, ffmpeg source or pulled origin). Only
   * plain names (PATH_SEGMENT segments, nothing encoded, no `.` or `..`) make channels.
   */
  isLivePath(path: string): boolean {
    if (path.length > MAX_PATH || !path.split('/').every((s) => PATH_SEGMENT.test(s) && s !== '.' && s !== '..')) return false;
    return isLiveSource(this.match(path)?.source);
  }

  /**
   * Where a file or folder rule puts `path`: the folder to resolve in and the path inside it
   * (still checked by resolveMediaPath), or undefined when no such rule matches.
   */
  mount(path: string): { rootDir: string; urlPath: string } | undefined {
    const rule = this.match(path);
    const source = rule?.source;
    if (source?.kind === 'file') {
      const slash = Math.max(source.file.lastIndexOf('/'), 0);
      return { rootDir: source.file.slice(0, slash) || '/', urlPath: encodeURIComponent(source.file.slice(slash + 1)) };
    }
    if (source?.kind === 'folder' && rule) {
      // A folder rule's path is `PREFIX/**` (src/config checks it); resolveMediaPath decodes again.
      const fixed = rule.path.split('/').slice(0, -1);
      const rest = normalizePath(path).split('/').slice(fixed.length);
      return rest.length === 0 ? undefined : { rootDir: source.dir, urlPath: rest.map(encodeURIComponent).join('/') };
    }
    return undefined;
  }
}
