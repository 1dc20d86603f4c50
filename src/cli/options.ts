/**
 * cli/options: option parsers shared by the subcommands (kept out of main.ts so that the
 * subcommands do not import the program that imports them).
 */
import { InvalidArgumentError } from 'commander';

export function parseIntOption(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer in ${min}..${max}`);
    return n;
  };
}
