/**
 * Structured, quiet-by-default logging: one JSON object per line on stderr. The level comes from
 * STREAMLAB_LOG (error|warn|info|debug) or setLogLevel(); the default is 'warn' so a server or a
 * test run stays silent unless something is wrong.
 */

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

function parseLevel(s: string | undefined): LogLevel | undefined {
  return s && s in ORDER ? (s as LogLevel) : undefined;
}

let current: LogLevel = parseLevel(process.env.STREAMLAB_LOG) ?? 'warn';
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');

export function setLogLevel(level: LogLevel): void {
  current = level;
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

export function createLogger(component: string, base: Record<string, unknown> = {}): Logger {
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] > ORDER[current]) return;
    const rec = { t: new Date().toISOString(), level, component, msg, ...base, ...fields };
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
