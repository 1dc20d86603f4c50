/**
 * Structured, quiet-by-default logging on stderr, one record per line, for people or machines:
 * `text` (`13:10:04.123 INFO  server  session started  client=127.0.0.1 path=sample.mp4`) or
 * `json` (one object per line). The format comes from STREAMLAB_LOG_FORMAT or setLogFormat();
 * by default text when stderr is a terminal, JSON when it is a file or a pipe (a machine reads it).
 * The level comes from STREAMLAB_LOG (error|warn|info|debug) or setLogLevel(); the library's
 * default is 'warn' (`streamlab serve` sets info), so a test run stays silent unless something is
 * wrong.
 */

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

function parseLevel(s: string | undefined): LogLevel | undefined {
  return s && s in ORDER ? (s as LogLevel) : undefined;
}

let current: LogLevel = parseLevel(process.env.STREAMLAB_LOG) ?? 'warn';

export type LogFormat = 'text' | 'json';
const envFormat = process.env.STREAMLAB_LOG_FORMAT;
let format: LogFormat = envFormat === 'text' || envFormat === 'json' ? envFormat : process.stderr.isTTY ? 'text' : 'json';

export function setLogFormat(f: LogFormat): void {
  format = f;
}

/** Whether the level was chosen (STREAMLAB_LOG or setLogLevel), not the default. */
let levelChosen = parseLevel(process.env.STREAMLAB_LOG) !== undefined;

/** The level a command uses when nobody chose one (`serve`: info). */
export function setDefaultLogLevel(level: LogLevel): void {
  if (!levelChosen) current = level;
}

/** A value as text: bare when it has no space, quote or `=`, else JSON-quoted. */
function textValue(v: unknown): string {
  const s = typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : JSON.stringify(v);
  return s !== undefined && /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s ?? String(v));
}

function formatText(t: Date, level: LogLevel, component: string, msg: string, fields: Record<string, unknown>): string {
  const time = t.toISOString().slice(11, 23);
  const kv = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${textValue(v)}`)
    .join(' ');
  return `${time} ${level.toUpperCase().padEnd(5)} ${component.padEnd(7)} ${msg}${kv ? `  ${kv}` : ''}`;
}
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');

export function setLogLevel(level: LogLevel): void {
  current = level;
  levelChosen = true;
}

export function logLevel(): LogLevel {
  return current;
}

/** Redirects log lines (tests capture them). Returns the previous sink. */
export function setLogSink(fn: (line: string) => void): (line: string) => void {
  const prev = sink;
  sink = fn;
  return prev;
}

export interface Logger {
  error(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  enabled(level: LogLevel): boolean;
  child(fields: Record<string, unknown>): Logger;
}

/** Fields every line of this process carries (a worker of `serve --workers`: its number). */
let processFields: Record<string, unknown> = {};

export function setProcessLogFields(fields: Record<string, unknown>): void {
  processFields = { ...fields };
}

export function createLogger(component: string, base: Record<string, unknown> = {}): Logger {
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] > ORDER[current]) return;
    const t = new Date();
    if (format === 'text') {
      sink(formatText(t, level, component, msg, { ...processFields, ...base, ...fields }));
      return;
    }
    const rec = { t: t.toISOString(), level, component, msg, ...processFields, ...base, ...fields };
    sink(JSON.stringify(rec, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  };
  return {
    error: (m, f) => emit('error', m, f),
    warn: (m, f) => emit('warn', m, f),
    info: (m, f) => emit('info', m, f),
    debug: (m, f) => emit('debug', m, f),
    enabled: (level) => ORDER[level] <= ORDER[current],
    child: (fields) => createLogger(component, { ...base, ...fields }),
  };
}
