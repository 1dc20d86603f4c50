/**
 * config: the `serve` config file (YAML): flags, media folder, `paths:` rules. Read by cli.
 * The parser (config-file.ts, with the yaml package) is imported only when a file is read:
 * `import('…/config/config-file.ts')`, so `serve` without --config does not load it.
 */
export { mergeFlags, mergedMistakes } from './merge.ts';
export type { ConfigResult, FlagSpec, ServeConfig } from './config-file.ts';
