/**
 * The logger's lines as data for the tests that check what the server and our client log: the
 * sink is swapped for the suite and the level set, both restored after it.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { logLevel, setLogLevel, setLogSink } from '../../src/util/log.ts';
import type { LogLevel } from '../../src/util/log.ts';

export type LogLine = Record<string, unknown>;

/**
 * Every JSON log line written while the suite (the describe block or file it is called in) runs,
 * at `level`. With `perTest`, the list is emptied after each test, so a test sees its own lines.
 */
export function logLinesForSuite(level: LogLevel, { perTest = false }: { perTest?: boolean } = {}): LogLine[] {
  const lines: LogLine[] = [];
  let restoreSink: ((line: string) => void) | undefined;
  let restoreLevel: LogLevel | undefined;
  beforeAll(() => {
    restoreLevel = logLevel();
    setLogLevel(level);
    restoreSink = setLogSink((l) => lines.push(JSON.parse(l) as LogLine));
  });
  afterAll(() => {
    if (restoreSink) setLogSink(restoreSink);
    if (restoreLevel) setLogLevel(restoreLevel);
  });
  if (perTest) {
    afterEach(() => {
      lines.length = 0;
    });
  }
  return lines;
}
