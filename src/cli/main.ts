/**
 * cli: the `streamlab` commands. Parses flags, calls the library, prints; no protocol logic here.
 *
 * Each subcommand's module (and so the library behind it) is loaded only when that command runs:
 * `streamlab --version` loads none, `streamlab serve` loads the server and not the lab (vega) or
 * the receiver. Help and unknown commands load them all, to list them.
 */
import { Command } from 'commander';
import { VERSION } from '../util/version.ts';

type Register = (program: Command) => void;

/** Subcommand name → loader of its register function (the order is the order in `--help`). */
const COMMANDS: Record<string, () => Promise<Register>> = {
  serve: async () => (await import('./serve.ts')).registerServe,
  probe: async () => (await import('./probe.ts')).registerProbe,
  play: async () => (await import('./play.ts')).registerPlay,
  lab: async () => (await import('./lab.ts')).registerLab,
  netem: async () => (await import('./netem.ts')).registerNetem,
  push: async () => (await import('./push.ts')).registerPush,
  prepare: async () => (await import('./prepare.ts')).registerPrepare,
  config: async () => (await import('./config.ts')).registerConfig,
};

/** Which subcommands argv needs: none for --version, one when it names one, all otherwise. */
export function commandsFor(args: readonly string[]): string[] {
  const first = args[0];
  if (first === '-V' || first === '--version') return [];
  if (first !== undefined && Object.hasOwn(COMMANDS, first)) return [first];
  return Object.keys(COMMANDS);
}

/** The program with the given subcommands registered (default: all of them). */
export async function buildProgram(commands: readonly string[] = Object.keys(COMMANDS)): Promise<Command> {
  const program = new Command();
  program.name('streamlab').description('RTSP/RTP/RTCP media server, receiver and network lab').version(VERSION).showHelpAfterError();
  const registers = await Promise.all(commands.map((name) => COMMANDS[name]!()));
  for (const register of registers) register(program);
  // Shared error output, usage line and log options (errors.ts); not needed by --version alone.
  if (registers.length > 0) (await import('./errors.ts')).configureCommands(program);
  return program;
}

/**
 * Output piped into a reader that stopped (`streamlab probe FILE | head -1`): stop quietly, as
 * Unix tools do, rather than die of an unhandled EPIPE with a stack trace.
 */
function exitQuietlyOnClosedStdout(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

export async function main(argv: string[]): Promise<void> {
  exitQuietlyOnClosedStdout();
  try {
    const program = await buildProgram(commandsFor(argv.slice(2)));
    await program.parseAsync(argv);
  } catch (err) {
    const { userMessage } = await import('./errors.ts');
    // A config file's mistakes (serve.ts ConfigMistakes): one line each.
    const lines =
      err instanceof Error && Array.isArray((err as { lines?: unknown }).lines) ? (err as unknown as { lines: unknown[] }).lines : [err];
    for (const l of lines) process.stderr.write(`${userMessage(l)}\n`);
    process.exitCode = 1;
  }
}
