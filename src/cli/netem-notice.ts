/**
 * What serve, play, netem and lab print about an impairment: the netem words as they were
 * understood (normalised, formatNetemArgs) and a warning per surprising reading (netem-warnings.ts).
 */
import { formatNetemArgs, parseNetemArgs } from '../impair/index.ts';
import { netemWarnings } from '../impair/netem-warnings.ts';

/**
 * Lines for stderr; none for words that do not parse (their error is reported elsewhere). Without
 * a label, only the warnings (for a command that prints the normalised words itself).
 */
export function netemNotice(label: string | undefined, words: string): string[] {
  const parsed = parseNetemArgs(words);
  if (!parsed.ok) return [];
  const text = formatNetemArgs(parsed.value) || 'none';
  const warnings = netemWarnings(words, parsed.value).map((w) => `streamlab: warning: ${w}`);
  return label === undefined ? warnings : [`${label}: netem ${text}`, ...warnings];
}

export function printNetemNotice(label: string | undefined, words: string): void {
  for (const line of netemNotice(label, words)) process.stderr.write(`${line}\n`);
}
