/**
 * How every command reports a problem: one line on stderr that starts with `streamlab:` and says
 * what to do; no internal error codes, no raw Node error objects. Also the settings every command
 * shares: commander's own errors in the same form with a short usage line (not the whole help),
 * `--log LEVEL` and `-v` on every command, and no "(default: [])" on repeatable options.
 */
import { Help, Option as CommandOption } from 'commander';
import type { Command, Option } from 'commander';
import { setLogFormat, setLogLevel } from '../util/log.ts';
import type { LogFormat } from '../util/log.ts';

const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;

/** Node's system errors (listen, open, stat) as a user reads them. */
function systemMessage(e: NodeJS.ErrnoException & { port?: number; address?: string }): string | undefined {
  if (e.code === 'EADDRINUSE') {
    return `port ${e.port ?? '?'}${e.address ? ` on ${e.address}` : ''} is in use: stop what listens there or choose another port with --port`;
  }
  if (e.code === 'EACCES' && e.syscall === 'listen')
    return `port ${e.port ?? '?'} needs privileges: choose a port of 1024 or above with --port`;
  if (e.code === 'EADDRNOTAVAIL') return `address ${e.address ?? '?'} is not on this machine: give one of its addresses with --host`;
  const file = e.path ? `${e.path}: ` : '';
  if (e.code === 'ENOENT') return `${file}no such file or folder`;
  if (e.code === 'EACCES' || e.code === 'EPERM') return `${file}permission denied`;
  if (e.code === 'EISDIR') return `${file}is a folder, not a file`;
  if (e.code === 'ENOTDIR') return `${file}is not a folder`;
  return undefined;
}

/** An error's text for a user, one line, without our `streamlab:` prefix. */
export function cleanMessage(err: unknown): string {
  return userMessage(err).replace(/^streamlab: /, '');
}

/** The user's line for an error: `streamlab: ...`, one line. */
export function userMessage(err: unknown): string {
  const e = err as (NodeJS.ErrnoException & { port?: number; address?: string }) | undefined;
  let msg =
    (e && typeof e === 'object' && typeof e.code === 'string' && systemMessage(e)) || (err instanceof Error ? err.message : String(err));
  msg = msg
    // Our internal codes (PREP_ERR_PROBE, MEDIA_ERR_IO, ...) mean nothing to a user.
    .replace(/\b[A-Z][A-Z0-9]*_ERR_[A-Z0-9_]+\b:?\s*/g, '')
    // Node's "ENOENT: no such file or directory, open 'x'" left inside another message.
    .replace(/connect ECONNREFUSED \S+/g, 'nothing listens there (is the server running, is the port in the URL right?)')
    .replace(/\b(E[A-Z]+): ([^,]+), \w+ '([^']+)'/g, (_m, _code: string, what: string, file: string) => `${file}: ${what}`)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join('; ');
  return `streamlab: ${msg.replace(/^streamlab:\s*/, '').replace(/^error:\s*/i, '')}`;
}

/** Applies the shared settings to the program and every command registered on it so far. */
export function configureCommands(program: Command): void {
  program.configureOutput({ outputError: (str, write) => write(`${userMessage(str.trim())}\n`) });
  program.showHelpAfterError(`(${program.name()} --help lists the commands)`);
  program.configureHelp({
    optionDescription(this: Help, option: Option): string {
      // A repeatable option's empty start says nothing.
      return Help.prototype.optionDescription
        .call(this, option)
        .replace(/ \(default: \[\]\)$/, '')
        .replace(/, default: \[\]\)$/, ')');
    },
  });
  for (const cmd of program.commands) {
    cmd.configureOutput({ outputError: (str, write) => write(`${userMessage(str.trim())}\n`) });
    cmd.configureHelp(program.configureHelp());
    cmd.showHelpAfterError(`usage: ${program.name()} ${cmd.name()} ${cmd.usage()}  (${program.name()} ${cmd.name()} --help for more)`);
    const has = (flag: string) => cmd.options.some((o) => o.long === flag || o.short === flag);
    if (!has('--log')) cmd.option('--log <level>', `log level: ${LOG_LEVELS.join(', ')} (default warn, or STREAMLAB_LOG)`);
    if (!has('-v') && !has('--verbose')) cmd.option('-v, --verbose', 'same as --log info');
    if (!has('--log-format'))
      cmd.addOption(
        new CommandOption(
          '--log-format <format>',
          'log lines as text or json (default: text on a terminal, else json; or STREAMLAB_LOG_FORMAT)',
        ).choices(['text', 'json']),
      );
    cmd.hook('preAction', (_this, action) => {
      const o = action.opts<{ log?: string; verbose?: boolean; logFormat?: string }>();
      if (o.logFormat !== undefined) {
        if (o.logFormat !== 'text' && o.logFormat !== 'json') action.error(`--log-format: "${o.logFormat}" is not text or json`);
        setLogFormat(o.logFormat as LogFormat);
      }
      if (o.log !== undefined) {
        if (!(LOG_LEVELS as readonly string[]).includes(o.log)) action.error(`--log: "${o.log}" is not one of ${LOG_LEVELS.join(', ')}`);
        setLogLevel(o.log as (typeof LOG_LEVELS)[number]);
      } else if (o.verbose) setLogLevel('info');
    });
  }
}
