/**
 * The `serve` config file (`streamlab serve --config streamlab.yml`, `streamlab config check`):
 * every `serve` flag under its option name (`maxSessions: 50`, or `max-sessions: 50`), the media
 * directory (`media: DIR`), and `paths:` rules in the manner of MediaMTX (path-rules.ts).
 *
 * The flags are not listed here: the CLI passes the `serve` command's own options as FlagSpecs,
 * so the file accepts exactly the flags there are, parsed by the same parsers. Every mistake is
 * one line: `FILE:LINE: where.in.the.file: what was expected (got ...)`.
 */
import path from 'node:path';
import { LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node, Pair } from 'yaml';
import { parseNetemArgs } from '../impair/index.ts';
import { impairmentFromArgs, isPattern, pathPatternError } from '../server/index.ts';
import type { PathAccess, PathRule, PathSource } from '../server/index.ts';
import type { LiveChannelSpec } from '../server/live/index.ts';
import { ON_DEMAND_CLOSE_AFTER_MS, PULL_TRANSPORTS, splitArgs } from '../server/live/index.ts';
import { parseRtspUrl, withoutUserinfo } from '../rtsp/index.ts';

/** One flag of the command, as the CLI describes it (derived from commander's options). */
export interface FlagSpec {
  /** camelCase option name: the config key and the flags object's key (`maxSessions`). */
  key: string;
  /** `--max-sessions`. */
  flag: string;
  /** False for switches (`--auth-basic`): the file wants true or false. */
  takesValue: boolean;
  /** Repeatable (`--live`): the file wants a list. */
  repeatable: boolean;
  choices?: readonly string[];
  /** The value names a file or folder: a relative one is taken from the config file's folder. */
  isPath?: boolean;
  /** The flag's own parser (throws with what it expected). */
  parse?: (value: string, previous: unknown) => unknown;
}

/** What a valid file says. */
export interface ServeConfig {
  /** Flag values by key, parsed as on the command line. */
  flags: Record<string, unknown>;
  /** `media:`, resolved against the file's folder. */
  media: string | undefined;
  /** The `paths:` rules in file order. */
  paths: PathRule[];
  /** Channels the rules feed (looped files, ffmpeg inputs) at their paths: for ServerOptions.live. */
  live: LiveChannelSpec[];
  /** Users the rules name (to check against the users file). */
  users: string[];
}

export type ConfigResult = { ok: true; config: ServeConfig } | { ok: false; mistakes: string[] };

const RULE_KEYS = [
  'source',
  'read',
  'publish',
  'netem',
  'sourceOnDemand',
  'sourceCloseAfter',
  'sourceTransport',
  'sourceTlsCa',
  'sourceTlsInsecure',
] as const;
/** Rule keys that only a pulled source (`source: rtsp://...`) takes. */
const PULL_KEYS = ['sourceOnDemand', 'sourceCloseAfter', 'sourceTransport', 'sourceTlsCa', 'sourceTlsInsecure'] as const;
/** Rule keys that only an `rtsps://` origin takes. */
const TLS_KEYS = ['sourceTlsCa', 'sourceTlsInsecure'];
/** Longest `sourceCloseAfter` (s). */
const MAX_CLOSE_AFTER_SEC = 86_400;
const SOURCE_KINDS = ['file', 'folder', 'loop', 'ffmpeg'] as const;
const USER = /^[^:\s]{1,64}$/;
/** Keys of the file that are not flags. */
const OWN_KEYS = ['media', 'paths'];
/** Flags the file cannot set. */
const NOT_IN_FILE = new Set(['config', 'help', 'version']);

function camel(key: string): string {
  return key.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Edit distance, for "did you mean" (keys are short). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length]!;
}

function suggest(key: string, known: readonly string[]): string {
  const best = known.map((k) => ({ k, d: distance(key.toLowerCase(), k.toLowerCase()) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= Math.max(2, Math.floor(key.length / 4)) ? ` (did you mean ${best.k}?)` : '';
}

function shown(node: unknown): string {
  const v = isScalar(node) ? node.value : node;
  if (isMap(v)) return 'a map';
  if (isSeq(v)) return 'a list';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

class Mistakes {
  readonly lines: string[] = [];
  constructor(
    private readonly file: string,
    private readonly counter: LineCounter,
  ) {}

  add(node: Node | Pair | null | undefined, at: string, message: string): void {
    const n = node && 'range' in node ? node : node && 'key' in node ? (node.key as Node | null) : undefined;
    const offset = n?.range?.[0];
    const line = offset !== undefined ? `:${this.counter.linePos(offset).line}` : '';
    this.lines.push(`${this.file}${line}: ${at ? `${at}: ` : ''}${message}`);
  }
}

/** A scalar's text for a flag parser: numbers and strings as written, nothing else. */
function scalarText(node: unknown): string | undefined {
  if (!isScalar(node)) return undefined;
  const v = node.value;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function parseFlag(spec: FlagSpec, node: unknown, at: string, m: Mistakes, baseDir: string): { ok: boolean; value?: unknown } {
  const fail = (expected: string) => {
    m.add(node as Node, at, `expected ${expected} (as ${spec.flag}), got ${shown(node)}`);
    return { ok: false };
  };
  if (!spec.takesValue) {
    if (!isScalar(node) || typeof node.value !== 'boolean') return fail('true or false');
    return { ok: true, value: node.value };
  }
  const items = spec.repeatable ? (isSeq(node) ? node.items : [node]) : [node];
  let value: unknown = spec.repeatable ? [] : undefined;
  for (const [i, item] of items.entries()) {
    const where = spec.repeatable && isSeq(node) ? `${at}[${i}]` : at;
    const written = scalarText(item);
    const text = written !== undefined && spec.isPath ? path.resolve(baseDir, written) : written;
    if (text === undefined) {
      m.add(
        item as Node,
        where,
        `expected ${spec.choices ? `one of ${spec.choices.join(', ')}` : 'a value'} (as ${spec.flag}), got ${shown(item)}`,
      );
      return { ok: false };
    }
    if (spec.choices && !spec.choices.includes(text)) {
      m.add(item as Node, where, `expected one of ${spec.choices.join(', ')} (as ${spec.flag}), got ${shown(item)}`);
      return { ok: false };
    }
    try {
      value = spec.parse ? spec.parse(text, value) : text;
    } catch (err) {
      const why = (err instanceof Error ? err.message : String(err)).replace(/^--[a-z-]+:?\s*/, '');
      m.add(item as Node, where, `${why.replace(/, got .*$/, '')} (as ${spec.flag}), got ${shown(item)}`);
      return { ok: false };
    }
  }
  return { ok: true, value };
}

function parseAccess(node: unknown, at: string, m: Mistakes, users: Set<string>): PathAccess | undefined {
  const expected = 'any, or a list of user names of the users file';
  if (isScalar(node) && node.value === 'any') return 'any';
  const items = isSeq(node) ? node.items : isScalar(node) && typeof node.value === 'string' ? [node] : undefined;
  if (!items || items.length === 0) {
    m.add(node as Node, at, `expected ${expected}, got ${shown(node)}`);
    return undefined;
  }
  const names: string[] = [];
  for (const [i, item] of items.entries()) {
    const v = isScalar(item) ? item.value : undefined;
    if (typeof v !== 'string' || !USER.test(v)) {
      m.add(item as Node, isSeq(node) ? `${at}[${i}]` : at, `expected a user name (no ':' or spaces), got ${shown(item)}`);
      return undefined;
    }
    names.push(v);
    users.add(v);
  }
  return names;
}

function parseSource(node: unknown, rulePath: string, at: string, m: Mistakes, baseDir: string): PathSource | undefined {
  const expected = `publisher, rtsp://ORIGIN/PATH, or a map with one of ${SOURCE_KINDS.map((k) => `${k}:`).join(', ')}`;
  if (isScalar(node) && node.value === 'publisher') return { kind: 'publisher' };
  if (isScalar(node) && typeof node.value === 'string' && /^rtsps?:\/\//i.test(node.value)) {
    const u = parseRtspUrl(node.value);
    if (!u.ok) {
      m.add(node, at, `expected rtsp://[USER:PASS@]HOST[:PORT]/PATH or rtsps://..., got ${JSON.stringify(withoutUserinfo(node.value))}`);
      return undefined;
    }
    if (isPattern(rulePath)) {
      m.add(node, at, `a pulled origin is served at one exact path, not the pattern ${rulePath}`);
      return undefined;
    }
    return { kind: 'pull', url: node.value, onDemand: true, closeAfterMs: ON_DEMAND_CLOSE_AFTER_MS };
  }
  if (!isMap(node) || node.items.length !== 1) {
    m.add(node as Node, at, `expected ${expected}, got ${shown(node)}`);
    return undefined;
  }
  const pair = node.items[0]!;
  const kind = isScalar(pair.key) ? String(pair.key.value) : '';
  const text = scalarText(pair.value);
  if (!(SOURCE_KINDS as readonly string[]).includes(kind)) {
    m.add(pair, `${at}.${kind}`, `expected ${expected}${suggest(kind, SOURCE_KINDS)}`);
    return undefined;
  }
  if (text === undefined || text.trim() === '') {
    m.add(
      (pair.value ?? pair) as Node,
      `${at}.${kind}`,
      `expected ${kind === 'ffmpeg' ? 'ffmpeg input arguments' : kind === 'folder' ? 'a folder' : 'a file'}, got ${shown(pair.value)}`,
    );
    return undefined;
  }
  const where = `${at}.${kind}`;
  if (kind === 'folder') {
    if (!rulePath.endsWith('/**') || isPattern(rulePath.slice(0, -3))) {
      m.add(pair, where, `a folder is served under a path ending in /** (e.g. movies/**), not under ${rulePath}`);
      return undefined;
    }
    return { kind: 'folder', dir: path.resolve(baseDir, text) };
  }
  if (isPattern(rulePath)) {
    m.add(pair, where, `a ${kind} source needs one exact path, not the pattern ${rulePath}`);
    return undefined;
  }
  if (kind === 'ffmpeg') {
    const args = splitArgs(text);
    if (args.length === 0) {
      m.add(pair, where, 'expected ffmpeg input arguments, e.g. -re -f lavfi -i testsrc2');
      return undefined;
    }
    return { kind: 'ffmpeg', args };
  }
  return { kind: kind as 'file' | 'loop', file: path.resolve(baseDir, text) };
}

function parseRule(pair: Pair, m: Mistakes, baseDir: string, users: Set<string>, netemSeed: number | undefined): PathRule | undefined {
  const rulePath = isScalar(pair.key) ? String(pair.key.value) : '';
  const at = `paths.${rulePath}`;
  const patternError = pathPatternError(rulePath);
  if (patternError) {
    m.add(pair, at, `a path is ${patternError}`);
    return undefined;
  }
  const rule: PathRule = { path: rulePath };
  if (pair.value === null || (isScalar(pair.value) && pair.value.value === null)) return rule;
  if (!isMap(pair.value)) {
    m.add((pair.value ?? pair) as Node, at, `expected a map of ${RULE_KEYS.join(', ')}, got ${shown(pair.value)}`);
    return undefined;
  }
  let ok = true;
  const pullSettings: { key: string; item: Pair; where: string }[] = [];
  let sourceBad = false;
  for (const item of pair.value.items) {
    const key = isScalar(item.key) ? String(item.key.value) : '';
    const where = `${at}.${key}`;
    if (key === 'source') {
      const s = parseSource(item.value, rulePath, where, m, baseDir);
      if (s) rule.source = s;
      else ok = false;
      sourceBad = !s;
    } else if (key === 'read' || key === 'publish') {
      const a = parseAccess(item.value, where, m, users);
      if (a) rule[key] = a;
      else ok = false;
    } else if (key === 'netem') {
      const text = scalarText(item.value);
      const parsed = text !== undefined ? parseNetemArgs(text) : undefined;
      if (!parsed || !parsed.ok) {
        m.add(
          item.value as Node,
          where,
          `expected netem words like "loss 2% delay 40ms 10ms"${parsed && !parsed.ok ? `: ${parsed.message}` : ''}, got ${shown(item.value)}`,
        );
        ok = false;
      } else if (parsed.value.loss?.model === 'trace') {
        m.add(item.value as Node, where, 'a loss trace file is only for --netem, not a path rule');
        ok = false;
      } else {
        rule.impairment = impairmentFromArgs(text!, netemSeed);
      }
    } else if ((PULL_KEYS as readonly string[]).includes(key)) {
      pullSettings.push({ key, item, where });
    } else {
      m.add(item, where, `unknown rule setting; expected ${RULE_KEYS.join(', ')}${suggest(key, RULE_KEYS)}`);
      ok = false;
    }
  }
  // After the source, whatever order the file gives them in.
  for (const { key, item, where } of pullSettings) {
    const s = rule.source;
    if (s?.kind !== 'pull') {
      if (!sourceBad) m.add(item, where, `${key} is for a pulled source (source: rtsp://ORIGIN/PATH)`);
      ok = false;
      continue;
    }
    const v = isScalar(item.value) ? item.value.value : undefined;
    if (TLS_KEYS.includes(key) && !/^rtsps:/i.test(s.url)) {
      m.add(item, where, `${key} is for an rtsps:// origin (source: rtsps://ORIGIN/PATH)`);
      ok = false;
      continue;
    }
    if (key === 'sourceTlsCa') {
      if (typeof v !== 'string' || v.trim() === '') {
        m.add((item.value ?? item) as Node, where, `expected the PEM file of the origin's CA, got ${shown(item.value)}`);
        ok = false;
      } else s.tls = { ...s.tls, caFile: path.resolve(baseDir, v) };
    } else if (key === 'sourceTlsInsecure') {
      if (typeof v !== 'boolean') {
        m.add(item.value as Node, where, `expected true or false, got ${shown(item.value)}`);
        ok = false;
      } else s.tls = { ...s.tls, insecure: v };
    } else if (key === 'sourceOnDemand') {
      if (typeof v !== 'boolean') {
        m.add(item.value as Node, where, `expected true or false, got ${shown(item.value)}`);
        ok = false;
      } else s.onDemand = v;
    } else if (key === 'sourceCloseAfter') {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_CLOSE_AFTER_SEC) {
        m.add(item.value as Node, where, `expected seconds, an integer in 0..${MAX_CLOSE_AFTER_SEC}, got ${shown(item.value)}`);
        ok = false;
      } else s.closeAfterMs = v * 1000;
    } else if (typeof v !== 'string' || !(PULL_TRANSPORTS as readonly string[]).includes(v)) {
      m.add(item.value as Node, where, `expected one of ${PULL_TRANSPORTS.join(', ')}, got ${shown(item.value)}`);
      ok = false;
    } else s.transport = v as 'tcp' | 'udp';
  }
  if (rule.source?.kind === 'pull' && rule.source.tls?.caFile !== undefined && rule.source.tls.insecure === true) {
    m.add(pair, `${at}.sourceTlsInsecure`, 'give sourceTlsCa or sourceTlsInsecure: true, not both');
    ok = false;
  }
  if (rule.publish !== undefined && rule.source && rule.source.kind !== 'publisher') {
    m.add(pair, `${at}.publish`, `publishing needs source: publisher (this path plays its ${rule.source.kind})`);
    ok = false;
  }
  // Who may publish, and no source named: the path is a publisher's (as in MediaMTX).
  if (rule.publish !== undefined && !rule.source) rule.source = { kind: 'publisher' };
  return ok ? rule : undefined;
}

/** Parses and checks a config file's text. `file` names it in mistakes; relative paths resolve against `baseDir`. */
export function parseServeConfig(text: string, flags: readonly FlagSpec[], where: { file: string; baseDir: string }): ConfigResult {
  const counter = new LineCounter();
  const m = new Mistakes(where.file, counter);
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true });
  } catch (err) {
    return { ok: false, mistakes: [`${where.file}: not YAML: ${String(err)}`] };
  }
  for (const e of doc.errors) {
    const line = e.linePos?.[0]?.line;
    m.lines.push(
      `${where.file}${line !== undefined ? `:${line}` : ''}: not valid YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
    );
  }
  if (m.lines.length > 0) return { ok: false, mistakes: m.lines };
  const config: ServeConfig = { flags: {}, media: undefined, paths: [], live: [], users: [] };
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return { ok: true, config };
  if (!isMap(root)) {
    m.add(root, '', `expected a map of settings (serve's flags, media, paths), got ${shown(root)}`);
    return { ok: false, mistakes: m.lines };
  }
  const byKey = new Map(flags.filter((f) => !NOT_IN_FILE.has(f.key)).map((f) => [f.key, f]));
  const known = [...byKey.keys(), ...OWN_KEYS];
  let pathsPair: Pair | undefined;
  for (const pair of root.items) {
    const raw = isScalar(pair.key) ? String(pair.key.value) : '';
    const key = camel(raw);
    if (key === 'paths') {
      pathsPair = pair;
      continue;
    }
    if (key === 'media') {
      const t = scalarText(pair.value);
      if (t === undefined || t === '') m.add(pair.value ?? pair, raw, `expected the media folder, got ${shown(pair.value)}`);
      else config.media = path.resolve(where.baseDir, t);
      continue;
    }
    const spec = byKey.get(key);
    if (!spec) {
      const flagHint = NOT_IN_FILE.has(key) ? ` (--${kebab(key)} only on the command line)` : suggest(key, known);
      m.add(pair, raw, `unknown setting; expected one of serve's flags, media or paths${flagHint}`);
      continue;
    }
    if (key in config.flags) {
      m.add(pair, raw, `given twice (as ${kebab(key)} and ${key})`);
      continue;
    }
    const r = parseFlag(spec, pair.value, raw, m, where.baseDir);
    if (r.ok) config.flags[key] = r.value;
  }
  const users = new Set<string>();
  if (pathsPair) {
    if (!isMap(pathsPair.value)) {
      m.add((pathsPair.value ?? pathsPair) as Node, 'paths', `expected a map of path or pattern → rule, got ${shown(pathsPair.value)}`);
    } else {
      const seed = typeof config.flags.netemSeed === 'number' ? config.flags.netemSeed : undefined;
      for (const pair of pathsPair.value.items) {
        const rule = parseRule(pair, m, where.baseDir, users, seed);
        if (!rule) continue;
        config.paths.push(rule);
        const s = rule.source;
        if (s?.kind === 'loop') config.live.push({ name: rule.path, file: s.file, path: rule.path });
        if (s?.kind === 'ffmpeg') config.live.push({ name: rule.path, ffmpegArgs: s.args, path: rule.path });
        if (s?.kind === 'pull')
          config.live.push({
            name: rule.path,
            pull: s.url,
            path: rule.path,
            ...(s.transport ? { transport: s.transport } : {}),
            ...(s.tls ? { tls: s.tls } : {}),
            ...(s.onDemand ? { onDemand: { closeAfterMs: s.closeAfterMs } } : {}),
          });
      }
    }
  }
  config.users = [...users];
  return m.lines.length > 0 ? { ok: false, mistakes: m.lines } : { ok: true, config };
}
