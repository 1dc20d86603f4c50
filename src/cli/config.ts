/**
 * `streamlab config check FILE`: reads a `serve` config file and prints one line per mistake
 * (exit 1), or what it sets (exit 0).
 */
import { withoutUserinfo } from '../rtsp/index.ts';
import { Command } from 'commander';
import type { Command as CommandType } from 'commander';
import { mergedMistakes } from '../config/index.ts';
import { loadConfigFile } from './config-flags.ts';
import { configureCommands } from './errors.ts';
import { registerServe } from './serve.ts';

/** The `serve` command as `streamlab serve` has it (shared options included), for its options: the file's schema. */
export function serveCommand(): CommandType {
  const program = new Command();
  registerServe(program);
  configureCommands(program);
  return program.commands.find((c) => c.name() === 'serve')!;
}

export function registerConfig(program: CommandType): void {
  const config = program.command('config').description('check a `serve` config file (YAML)');
  config
    .command('check')
    .description("validate FILE: serve's flags, media, paths rules; one line per mistake")
    .argument('<file>', 'config file, e.g. streamlab.yml')
    .action(async (file: string) => {
      const r = await loadConfigFile(file, serveCommand());
      const mistakes = r.ok ? mergedMistakes(r.config, r.config.flags, file) : r.mistakes;
      if (mistakes.length > 0) {
        for (const line of mistakes) process.stderr.write(`streamlab: ${line}\n`);
        process.stderr.write(`streamlab: ${file}: ${mistakes.length} mistake${mistakes.length > 1 ? 's' : ''}\n`);
        process.exitCode = 1;
        return;
      }
      if (!r.ok) return;
      const c = r.config;
      const settings = Object.keys(c.flags);
      process.stdout.write(
        `${file}: ok: ${settings.length} setting${settings.length === 1 ? '' : 's'}${settings.length ? ` (${settings.join(', ')})` : ''}` +
          `${c.media ? `, media ${c.media}` : ''}, ${c.paths.length} path rule${c.paths.length === 1 ? '' : 's'}\n`,
      );
      for (const p of c.paths) {
        const ps = p.source;
        const src = !ps
          ? 'media folder'
          : ps.kind === 'pull'
            ? `pull ${withoutUserinfo(ps.url)} (${ps.onDemand ? `on demand, closed ${ps.closeAfterMs / 1000} s after the last viewer` : 'from start'}, ${ps.transport ?? 'pull transport as --pull-transport'}${ps.tls?.insecure ? ', certificate NOT checked' : ps.tls?.caFile ? `, CA ${ps.tls.caFile}` : ''})`
            : ps.kind;
        const who = (a: unknown) => (a === undefined ? 'as --auth' : a === 'any' ? 'anyone' : (a as string[]).join(','));
        process.stdout.write(
          `  ${p.path}: ${src}; read ${who(p.read)}; publish ${p.source?.kind === 'publisher' ? who(p.publish) : 'no'}${p.impairment ? `; netem ${p.impairment.text}` : ''}\n`,
        );
      }
    });
}
