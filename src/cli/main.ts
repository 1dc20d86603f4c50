/**
 * cli: the `streamlab` commands. Parses flags, calls the library, prints; no protocol logic here.
 */
import { Command, InvalidArgumentError } from 'commander';
import { registerServe } from './serve.ts';
import { registerProbe } from './probe.ts';
import { registerPlay } from './play.ts';
import { registerLab } from './lab.ts';
import { registerNetem } from './netem.ts';
import { registerPush } from './push.ts';
import { registerPrepare } from './prepare.ts';

export function parseIntOption(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer in ${min}..${max}`);
    return n;
  };
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('streamlab')
    .description('RTSP/RTP/RTCP media server, receiver and network lab')
    .version('0.1.0')
    .showHelpAfterError();
  registerServe(program);
  registerProbe(program);
  registerPlay(program);
  registerLab(program);
  registerNetem(program);
  registerPush(program);
  registerPrepare(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.stderr.write(`streamlab: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
