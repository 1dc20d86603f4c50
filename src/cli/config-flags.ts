/**
 * The config file's schema, derived from a command's commander options so the file and the flags
 * cannot drift: each option becomes a FlagSpec (src/config) with its own parser and choices.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { ConfigResult, FlagSpec } from '../config/index.ts';
import { readPullCa } from '../server/live/pull-tls.ts';
import type { LiveChannelSpec } from '../server/live/index.ts';

export function flagSpecsOf(cmd: Command): FlagSpec[] {
  return cmd.options
    .filter((o) => o.long !== undefined && !o.negate)
    .map((o) => {
      const parse = o.parseArg as ((value: string, previous: unknown) => unknown) | undefined;
      return {
        key: o.attributeName(),
        flag: o.long!,
        takesValue: o.required || o.optional,
        repeatable: Array.isArray(o.defaultValue) || o.variadic,
        isPath: /<(file|dir)>/.test(o.flags),
        ...(o.argChoices ? { choices: o.argChoices } : {}),
        ...(parse ? { parse: (v: string, prev: unknown) => parse(v, prev) } : {}),
      };
    });
}

/** Reads and checks a config file against a command's flags. */
export async function loadConfigFile(file: string, cmd: Command): Promise<ConfigResult> {
  const text = await readFile(file, 'utf8');
  const baseDir = path.dirname(path.resolve(file));
  // The YAML parser loads only here (serve without --config never needs it).
  const { parseServeConfig } = await import('../config/config-file.ts');
  const r = parseServeConfig(text, flagSpecsOf(cmd), { file, baseDir });
  // `live: [NAME=FILE]`: the file from the config file's folder too.
  const live = r.ok ? r.config.flags.live : undefined;
  if (r.ok && Array.isArray(live))
    r.config.flags.live = live.map((c: LiveChannelSpec) => ('file' in c ? { ...c, file: path.resolve(baseDir, c.file) } : c));
  if (!r.ok) return r;
  // A rule's own CA for its rtsps:// origin: read and parsed now (config check says so too).
  const mistakes: string[] = [];
  for (const spec of r.config.live) {
    if (!('pull' in spec) || spec.tls?.caFile === undefined) continue;
    try {
      spec.tls.ca = await readPullCa(spec.tls.caFile, `paths.${spec.path ?? spec.name}.sourceTlsCa`);
    } catch (err) {
      mistakes.push(`${file}: ${(err as Error).message}`);
    }
  }
  return mistakes.length > 0 ? { ok: false, mistakes } : r;
}
