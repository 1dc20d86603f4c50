import type { ServeConfig } from './config-file.ts';

/**
 * Mistakes of the merged settings (file and flags): rules naming users need a users file. One
 * line each, like the file's.
 */
export function mergedMistakes(config: ServeConfig, flags: Record<string, unknown>, file: string): string[] {
  const out: string[] = [];
  if (config.users.length > 0 && flags.authFile === undefined)
    out.push(`${file}: paths: rules name users (${config.users.join(', ')}): set authFile in the file or give --auth-file`);
  return out;
}

/** The `serve` flags of a file put under the command line's: a flag given on the command line wins. */
export function mergeFlags<T extends object>(cli: T, file: Record<string, unknown>, fromCli: (key: string) => boolean): T {
  const out: Record<string, unknown> = { ...(cli as Record<string, unknown>) };
  for (const [k, v] of Object.entries(file)) if (!fromCli(k)) out[k] = v;
  return out as T;
}
