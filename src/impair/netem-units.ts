/**
 * Number words as tc reads them (iproute2 `tc/tc_util.c`): strtod followed by a unit suffix
 * compared case-insensitively. Returns undefined for a malformed word; range checks are the caller's.
 */

const NUMBER_PREFIX = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;

function splitNumber(word: string): { value: number; suffix: string } | undefined {
  const m = NUMBER_PREFIX.exec(word);
  if (!m) return undefined;
  const value = Number(m[0]);
  if (!Number.isFinite(value)) return undefined;
  return { value, suffix: word.slice(m[0].length) };
}

/**
 * tc `parse_percent`: the number is ALWAYS in percent, the `%` sign is optional (`2` and `2%` are
 * both 2 %, `0.5` is 0.5 %). Returns the fraction (0.02), or undefined if malformed.
 */
export function parsePercentWord(word: string): number | undefined {
  const n = splitNumber(word);
  if (!n || (n.suffix !== '' && n.suffix !== '%')) return undefined;
  return n.value / 100;
}

const TIME_UNITS_MS: Record<string, number> = {
  s: 1000,
  sec: 1000,
  secs: 1000,
  ms: 1,
  msec: 1,
  msecs: 1,
  us: 0.001,
  usec: 0.001,
  usecs: 0.001,
};

/** tc `get_time`: a bare number is MICROseconds (`delay 100` is 100 µs). Returns milliseconds. */
export function parseTimeWord(word: string): number | undefined {
  const n = splitNumber(word);
  if (!n) return undefined;
  if (n.suffix === '') return n.value / 1000;
  const scale = TIME_UNITS_MS[n.suffix.toLowerCase()];
  return scale === undefined ? undefined : n.value * scale;
}

/** tc's rate suffixes (bits per second per unit); a bare number is bit/s. Case-insensitive. */
const RATE_UNITS_BPS: ReadonlyArray<readonly [string, number]> = [
  ['bit', 1],
  ['kibit', 1024],
  ['kbit', 1000],
  ['mibit', 1024 ** 2],
  ['mbit', 1e6],
  ['gibit', 1024 ** 3],
  ['gbit', 1e9],
  ['tibit', 1024 ** 4],
  ['tbit', 1e12],
  ['bps', 8],
  ['kibps', 8 * 1024],
  ['kbps', 8000],
  ['mibps', 8 * 1024 ** 2],
  ['mbps', 8e6],
  ['gibps', 8 * 1024 ** 3],
  ['gbps', 8e9],
  ['tibps', 8 * 1024 ** 4],
  ['tbps', 8e12],
];

/** tc `get_rate64`. Returns bits per second (tc stores bytes/s = bits/8; we keep bits). */
export function parseRateWord(word: string): number | undefined {
  const n = splitNumber(word);
  if (!n) return undefined;
  if (n.suffix === '') return n.value;
  const unit = RATE_UNITS_BPS.find(([name]) => name === n.suffix.toLowerCase());
  return unit ? n.value * unit[1] : undefined;
}

/** A plain integer word (limit, gap, seed, cell sizes); `signed` allows a leading '-'. */
export function parseIntegerWord(word: string, signed = false): number | undefined {
  if (!(signed ? /^[+-]?\d+$/ : /^\+?\d+$/).test(word)) return undefined;
  const v = Number(word);
  return Number.isSafeInteger(v) ? v : undefined;
}

/** tc's NEXT_IS_NUMBER: an optional positional value is present when the next word starts with a digit. */
export function startsWithDigit(word: string | undefined): boolean {
  return word !== undefined && word.length > 0 && word.charCodeAt(0) >= 48 && word.charCodeAt(0) <= 57;
}

/**
 * Shortest decimal text t with back(Number(t)) === v, so formatting then parsing gives back the
 * same double (12 significant digits when that suffices, up to 17 otherwise).
 */
function shortestText(x: number, back: (parsed: number) => number, v: number): string {
  for (let digits = 12; digits <= 17; digits++) {
    const t = String(Number(x.toPrecision(digits)));
    if (back(Number(t)) === v) return t;
  }
  return String(x);
}

export function formatPercent(fraction: number): string {
  return `${shortestText(fraction * 100, (n) => n / 100, fraction)}%`;
}

/** Always in ms (tc accepts fractions: `0.5ms`), exact for the round trip. */
export function formatTimeMs(ms: number): string {
  return `${shortestText(ms, (n) => n, ms)}ms`;
}

export function formatRate(bitsPerSecond: number): string {
  for (const [name, scale] of [
    ['gbit', 1e9],
    ['mbit', 1e6],
    ['kbit', 1e3],
  ] as const) {
    if (bitsPerSecond >= scale && Number.isInteger(bitsPerSecond / scale) && (bitsPerSecond / scale) * scale === bitsPerSecond) {
      return `${bitsPerSecond / scale}${name}`;
    }
  }
  return `${shortestText(bitsPerSecond, (n) => n, bitsPerSecond)}bit`;
}
