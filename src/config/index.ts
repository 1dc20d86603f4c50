/** config: the `serve` config file (YAML): flags, media folder, `paths:` rules. Read by cli. */
export { parseServeConfig, mergeFlags, mergedMistakes } from './config-file.ts';
export type { ConfigResult, FlagSpec, ServeConfig } from './config-file.ts';
