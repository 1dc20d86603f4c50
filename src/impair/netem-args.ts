/**
 * The netem grammar: the arguments of `tc qdisc ... netem`, read the way iproute2's
 * `tc/q_netem.c` reads them, plus our `trace FILE`.
 *
 *   limit PACKETS
 *   delay|latency TIME [JITTER [CORR]]        TIME: 10ms, 1.5s, 250us; a bare number is µs (tc)
 *   distribution uniform|normal|pareto|paretonormal      (needs delay and jitter)
 *   loss|drop [random] PERCENT [CORR]
 *   loss|drop state P13 [P31 [P32 [P23 [P14]]]]
 *   loss|drop gemodel P [R [1-H [1-K]]]
 *   duplicate PERCENT [CORR]
 *   corrupt PERCENT [CORR]
 *   reorder PERCENT [CORR] [gap DISTANCE]   (needs delay; `gap N` may also stand apart)
 *   rate RATE [PACKETOVERHEAD [CELLSIZE [CELLOVERHEAD]]]   RATE: bit kbit mbit gbit tbit, bps
 *                                          kbps mbps gbps tbps, kibit ... tibps; bare = bit/s
 *   seed N
 *   trace FILE                              (ours: 0/1 loss trace, 1 = lost; the caller loads it)
 *   link FILE                               (ours: Mahimahi delivery-opportunity trace, time-traces.ts)
 *   queue droptail|codel [packets N] [bytes N] [target TIME] [interval TIME]
 *                                           (ours: the bottleneck queue of `link` or `rate`, bottleneck.ts)
 *   delaytrace FILE                         (ours: one-way delay over time, time-traces.ts)
 *
 * PERCENT and CORR are always percentages, the `%` optional (tc): `2`, `2%` and `2.0%` are 2 %.
 * An optional positional value is taken when the next word starts with a digit (tc's
 * NEXT_IS_NUMBER). Keywords may be abbreviated to any prefix, first match in tc's order
 * (`lim`, `del`, `dup`). Refused with IMPAIR_ERR_UNSUPPORTED: `slot`, `ecn`, `rate N%`.
 */

import {
  CODEL_INTERVAL_MS,
  CODEL_TARGET_MS,
  IMPAIR_MAX_LIMIT,
  IMPAIR_MAX_QUEUE_BYTES,
  QUEUE_DEFAULT_PACKETS,
  type QueueConfig,
  NETEM_DEFAULT_LIMIT,
  type DelayDistribution,
  type LossConfig,
  type NetemConfig,
  type RateConfig,
} from './config.ts';
import { impairError, type ImpairError, type ImpairResult } from './errors.ts';
import { parseIntegerWord, parsePercentWord, parseRateWord, parseTimeWord, startsWithDigit } from './netem-units.ts';

/** tc's keyword order: an abbreviation means the first keyword it is a prefix of. */
const KEYWORDS = [
  'limit',
  'latency',
  'delay',
  'loss',
  'drop',
  'seed',
  'ecn',
  'reorder',
  'corrupt',
  'gap',
  'duplicate',
  'distribution',
  'rate',
  'slot',
  'trace',
  'link',
  'delaytrace',
  'queue',
] as const;
type Keyword = (typeof KEYWORDS)[number];

const DISTRIBUTIONS: readonly DelayDistribution[] = ['uniform', 'normal', 'pareto', 'paretonormal'];

/** The netem keyword a word abbreviates (tc accepts any prefix; the first keyword in tc's order wins). */
export function matchKeyword(word: string): Keyword | undefined {
  return KEYWORDS.find((k) => word.length <= k.length && k.startsWith(word));
}

/** Splits a netem argument string on whitespace. */
export function tokenizeNetemArgs(text: string): string[] {
  return text.split(/\s+/).filter((w) => w.length > 0);
}

class Cursor {
  i = 0;
  constructor(readonly words: readonly string[]) {}
  peek(): string | undefined {
    return this.words[this.i];
  }
  /** tc NEXT_IS_NUMBER. */
  nextIsNumber(): boolean {
    return startsWithDigit(this.words[this.i]);
  }
  /** tc NEXT_IS_SIGNED_NUMBER. */
  nextIsSignedNumber(): boolean {
    const w = this.words[this.i];
    return startsWithDigit(w) || (w !== undefined && w.startsWith('-'));
  }
  take(): string | undefined {
    return this.words[this.i++];
  }
}

type Step<T> = { ok: true; value: T } | ImpairError;

function missing(after: string): ImpairError {
  return impairError('IMPAIR_ERR_MISSING_VALUE', `"${after}" needs a value`, after);
}

function percent(word: string, what: string): Step<number> {
  const v = parsePercentWord(word);
  if (v === undefined) return impairError('IMPAIR_ERR_BAD_NUMBER', `${what}: "${word}" is not a percentage`, word);
  if (!(v >= 0 && v <= 1)) {
    return impairError('IMPAIR_ERR_OUT_OF_RANGE', `${what}: "${word}" is outside 0%..100%`, word);
  }
  return { ok: true, value: v };
}

function time(word: string, what: string): Step<number> {
  const v = parseTimeWord(word);
  if (v === undefined) {
    return impairError('IMPAIR_ERR_BAD_NUMBER', `${what}: "${word}" is not a time (use s, ms or us)`, word);
  }
  if (v < 0) return impairError('IMPAIR_ERR_NEGATIVE_TIME', `${what}: "${word}" is negative`, word);
  return { ok: true, value: v };
}

function integer(word: string, what: string, min: number, max: number, signed = false): Step<number> {
  const v = parseIntegerWord(word, signed);
  if (v === undefined) return impairError('IMPAIR_ERR_BAD_NUMBER', `${what}: "${word}" is not an integer`, word);
  if (v < min || v > max) {
    return impairError('IMPAIR_ERR_OUT_OF_RANGE', `${what}: "${word}" is outside ${min}..${max}`, word);
  }
  return { ok: true, value: v };
}

/** Reads `PERCENT [CORR]` (the correlation only when the next word starts with a digit). */
function percentWithCorrelation(c: Cursor, kw: string, first: string): Step<{ p: number; correlation: number }> {
  const p = percent(first, kw);
  if (!p.ok) return p;
  let correlation = 0;
  if (c.nextIsNumber()) {
    const w = c.take() as string;
    const corr = percent(w, `${kw} correlation`);
    if (!corr.ok) return corr;
    correlation = corr.value;
  }
  return { ok: true, value: { p: p.value, correlation } };
}

/** Reads up to `names.length` optional percentages into `out`, in order. */
function optionalPercents(c: Cursor, what: string, names: readonly string[], out: Record<string, number>): ImpairError | undefined {
  for (const name of names) {
    if (!c.nextIsNumber()) return undefined;
    const w = c.take() as string;
    const v = percent(w, `${what} ${name}`);
    if (!v.ok) return v;
    out[name] = v.value;
  }
  return undefined;
}

function parseLoss(c: Cursor, kw: string): Step<LossConfig> {
  const w = c.take();
  if (w === undefined) return missing(kw);
  // Old syntax `loss 2%` (tc: first char a digit); a negative number also lands here for a clear error.
  if (startsWithDigit(w) || (w.startsWith('-') && parsePercentWord(w) !== undefined)) {
    const r = percentWithCorrelation(c, 'loss', w);
    return r.ok ? { ok: true, value: { model: 'random', ...r.value } } : r;
  }
  if (w === 'random') {
    const first = c.take();
    if (first === undefined) return missing('loss random');
    const r = percentWithCorrelation(c, 'loss random', first);
    return r.ok ? { ok: true, value: { model: 'random', ...r.value } } : r;
  }
  if (w === 'state') {
    const first = c.take();
    if (first === undefined) return missing('loss state');
    const p13 = percent(first, 'loss state p13');
    if (!p13.ok) return p13;
    const v: { p13: number; p31: number; p32: number; p23: number; p14: number } = {
      p13: p13.value,
      p31: 1 - p13.value,
      p32: 0,
      p23: 1,
      p14: 0,
    };
    const err = optionalPercents(c, 'loss state', ['p31', 'p32', 'p23', 'p14'], v);
    if (err) return err;
    // The kernel adds p13 + p14 and p31 + p32 as u32 thresholds; beyond 100 % they wrap. Refuse.
    if (v.p13 + v.p14 > 1 + 1e-12) {
      return impairError('IMPAIR_ERR_OUT_OF_RANGE', 'loss state: p13 + p14 exceeds 100%', first);
    }
    if (v.p31 + v.p32 > 1 + 1e-12) {
      return impairError('IMPAIR_ERR_OUT_OF_RANGE', 'loss state: p31 + p32 exceeds 100%', first);
    }
    return { ok: true, value: { model: 'state', p13: v.p13, p31: v.p31, p32: v.p32, p23: v.p23, p14: v.p14 } };
  }
  if (w === 'gemodel') {
    const first = c.take();
    if (first === undefined) return missing('loss gemodel');
    const p = percent(first, 'loss gemodel p');
    if (!p.ok) return p;
    const v: { p: number; r: number; oneMinusH: number; oneMinusK: number } = { p: p.value, r: 1 - p.value, oneMinusH: 1, oneMinusK: 0 };
    const err = optionalPercents(c, 'loss gemodel', ['r', 'oneMinusH', 'oneMinusK'], v);
    if (err) return err;
    return { ok: true, value: { model: 'gemodel', p: v.p, r: v.r, oneMinusH: v.oneMinusH, oneMinusK: v.oneMinusK } };
  }
  return impairError('IMPAIR_ERR_UNKNOWN_MODEL', `unknown loss model "${w}" (random, state, gemodel)`, w);
}

function parseRate(c: Cursor, kw: string): Step<RateConfig> {
  const w = c.take();
  if (w === undefined) return missing(kw);
  if (w.includes('%')) {
    return impairError('IMPAIR_ERR_UNSUPPORTED', `rate "${w}": a percentage of the device speed needs a device`, w);
  }
  const bps = parseRateWord(w);
  if (bps === undefined) return impairError('IMPAIR_ERR_BAD_NUMBER', `rate: "${w}" is not a rate (e.g. 2mbit)`, w);
  if (bps < 0) return impairError('IMPAIR_ERR_OUT_OF_RANGE', `rate: "${w}" is negative`, w);
  const rate = { bitsPerSecond: bps, packetOverhead: 0, cellSize: 0, cellOverhead: 0 };
  const I32 = 2 ** 31;
  if (c.nextIsSignedNumber()) {
    const v = integer(c.take() as string, 'rate packet overhead', -I32, I32 - 1, true);
    if (!v.ok) return v;
    rate.packetOverhead = v.value;
  }
  if (c.nextIsNumber()) {
    const v = integer(c.take() as string, 'rate cell size', 0, 2 ** 32 - 1);
    if (!v.ok) return v;
    rate.cellSize = v.value;
  }
  if (c.nextIsSignedNumber()) {
    const v = integer(c.take() as string, 'rate cell overhead', -I32, I32 - 1, true);
    if (!v.ok) return v;
    rate.cellOverhead = v.value;
  }
  return { ok: true, value: rate };
}

interface Draft {
  limit: number;
  delay?: { delayMs: number; jitterMs: number; correlation: number };
  distribution?: DelayDistribution;
  loss?: LossConfig;
  duplicate?: { p: number; correlation: number };
  corrupt?: { p: number; correlation: number };
  reorder?: { p: number; correlation: number };
  gap?: number;
  rate?: RateConfig;
  seed?: number;
  link?: { path: string };
  delayTrace?: { path: string };
  queue?: QueueConfig;
}

const QUEUE_OPTIONS = ['packets', 'bytes', 'target', 'interval'] as const;

/** `queue droptail|codel [packets N] [bytes N] [target TIME] [interval TIME]`. */
function parseQueue(c: Cursor, kw: string): Step<QueueConfig> {
  const w = c.take();
  if (w === undefined) return missing(kw);
  if (w !== 'droptail' && w !== 'codel') {
    return impairError('IMPAIR_ERR_UNKNOWN_MODEL', `unknown queue discipline "${w}" (droptail, codel)`, w);
  }
  const q: { -readonly [K in keyof QueueConfig]: QueueConfig[K] } = {
    discipline: w,
    packets: QUEUE_DEFAULT_PACKETS,
    targetMs: CODEL_TARGET_MS,
    intervalMs: CODEL_INTERVAL_MS,
  };
  for (let opt = c.peek(); opt !== undefined && (QUEUE_OPTIONS as readonly string[]).includes(opt); opt = c.peek()) {
    c.take();
    const v = c.take();
    if (v === undefined) return missing(`queue ${opt}`);
    if (opt === 'packets' || opt === 'bytes') {
      const n = integer(v, `queue ${opt}`, 1, opt === 'packets' ? IMPAIR_MAX_LIMIT : IMPAIR_MAX_QUEUE_BYTES);
      if (!n.ok) return n;
      if (opt === 'packets') q.packets = n.value;
      else q.bytes = n.value;
      continue;
    }
    if (w !== 'codel') return impairError('IMPAIR_ERR_CONFLICT', `queue ${opt}: only codel has a ${opt}`, opt);
    const t = time(v, `queue ${opt}`);
    if (!t.ok) return t;
    if (!(t.value > 0)) return impairError('IMPAIR_ERR_OUT_OF_RANGE', `queue ${opt}: must be above 0`, v);
    if (opt === 'target') q.targetMs = t.value;
    else q.intervalMs = t.value;
  }
  return { ok: true, value: q };
}

function parseOne(c: Cursor, word: string, d: Draft): ImpairError | undefined {
  const kw = matchKeyword(word);
  if (kw === undefined) return impairError('IMPAIR_ERR_UNKNOWN_KEYWORD', `unknown netem word "${word}"`, word);
  switch (kw) {
    case 'limit': {
      const w = c.take();
      if (w === undefined) return missing(word);
      const v = integer(w, 'limit', 0, IMPAIR_MAX_LIMIT);
      if (!v.ok) return v;
      d.limit = v.value;
      return undefined;
    }
    case 'latency':
    case 'delay': {
      const w = c.take();
      if (w === undefined) return missing(word);
      const t = time(w, 'delay');
      if (!t.ok) return t;
      const delay = { delayMs: t.value, jitterMs: 0, correlation: 0 };
      if (c.nextIsNumber()) {
        const j = time(c.take() as string, 'delay jitter');
        if (!j.ok) return j;
        delay.jitterMs = j.value;
        if (c.nextIsNumber()) {
          const corr = percent(c.take() as string, 'delay correlation');
          if (!corr.ok) return corr;
          delay.correlation = corr.value;
        }
      }
      d.delay = delay;
      return undefined;
    }
    case 'loss':
    case 'drop':
    case 'trace': {
      if (d.loss) {
        return impairError('IMPAIR_ERR_DUPLICATE_OPTION', `only one loss model may be given ("${word}" is a second)`, word);
      }
      if (kw === 'trace') {
        const path = c.take();
        if (path === undefined) return missing(word);
        d.loss = { model: 'trace', path };
        return undefined;
      }
      const r = parseLoss(c, word);
      if (!r.ok) return r;
      d.loss = r.value;
      return undefined;
    }
    case 'seed': {
      const w = c.take();
      if (w === undefined) return missing(word);
      const v = integer(w, 'seed', 0, Number.MAX_SAFE_INTEGER);
      if (!v.ok) return v;
      d.seed = v.value;
      return undefined;
    }
    case 'ecn':
      return impairError('IMPAIR_ERR_UNSUPPORTED', 'ecn (mark instead of drop) is not emulated', word);
    case 'slot':
      return impairError('IMPAIR_ERR_UNSUPPORTED', 'slot (bursty delivery slots) is not emulated', word);
    case 'reorder':
    case 'corrupt':
    case 'duplicate': {
      const w = c.take();
      if (w === undefined) return missing(word);
      const r = percentWithCorrelation(c, kw, w);
      if (!r.ok) return r;
      if (kw === 'reorder') d.reorder = r.value;
      else if (kw === 'corrupt') d.corrupt = r.value;
      else d.duplicate = r.value;
      return undefined;
    }
    case 'gap': {
      const w = c.take();
      if (w === undefined) return missing(word);
      const v = integer(w, 'gap', 0, 2 ** 32 - 1);
      if (!v.ok) return v;
      d.gap = v.value;
      return undefined;
    }
    case 'distribution': {
      const w = c.take();
      if (w === undefined) return missing(word);
      if (!(DISTRIBUTIONS as readonly string[]).includes(w)) {
        return impairError(
          'IMPAIR_ERR_UNKNOWN_MODEL',
          `unknown distribution "${w}" (uniform, normal, pareto, paretonormal; custom tables are not supported)`,
          w,
        );
      }
      d.distribution = w as DelayDistribution;
      return undefined;
    }
    case 'link':
    case 'delaytrace': {
      const path = c.take();
      if (path === undefined) return missing(word);
      if (kw === 'link') d.link = { path };
      else d.delayTrace = { path };
      return undefined;
    }
    case 'queue': {
      const q = parseQueue(c, word);
      if (!q.ok) return q;
      d.queue = q.value;
      return undefined;
    }
    case 'rate': {
      const r = parseRate(c, word);
      if (!r.ok) return r;
      d.rate = r.value;
      return undefined;
    }
  }
}

/**
 * Parses netem arguments (a string, split on whitespace, or the words). Never throws; errors name
 * the offending word. The checks tc makes after parsing are made too: reorder needs a delay, gap
 * needs reorder, a distribution needs delay and jitter.
 */
export function parseNetemArgs(input: string | readonly string[]): ImpairResult<NetemConfig> {
  const words = typeof input === 'string' ? tokenizeNetemArgs(input) : input.filter((w) => w.length > 0);
  const c = new Cursor(words);
  const d: Draft = { limit: NETEM_DEFAULT_LIMIT };
  for (let w = c.take(); w !== undefined; w = c.take()) {
    const err = parseOne(c, w, d);
    if (err) return err;
  }
  const delayMs = d.delay?.delayMs ?? 0;
  let reorder: NetemConfig['reorder'];
  if (d.reorder && d.reorder.p > 0) {
    if (delayMs === 0) {
      return impairError('IMPAIR_ERR_CONFLICT', 'reordering is not possible without some delay', 'reorder');
    }
    reorder = { ...d.reorder, gap: d.gap && d.gap > 0 ? d.gap : 1 };
  } else if (d.gap !== undefined && d.gap > 0) {
    return impairError('IMPAIR_ERR_CONFLICT', 'gap given without a reorder probability', 'gap');
  } else if (d.reorder) {
    reorder = { ...d.reorder, gap: 1 };
  }
  if (d.distribution && (delayMs === 0 || (d.delay?.jitterMs ?? 0) === 0)) {
    return impairError('IMPAIR_ERR_CONFLICT', 'a distribution needs both a delay and a jitter', 'distribution');
  }
  if (d.link && d.rate) {
    return impairError('IMPAIR_ERR_CONFLICT', 'link (a delivery trace) and rate both set the link speed: give one', 'link');
  }
  if (d.queue && !d.link && !(d.rate && d.rate.bitsPerSecond > 0)) {
    return impairError('IMPAIR_ERR_CONFLICT', 'a queue needs a link to drain it: link FILE or rate RATE', 'queue');
  }
  const config: {
    -readonly [K in keyof NetemConfig]: NetemConfig[K];
  } = { limit: d.limit };
  if (d.delay) config.delay = d.distribution ? { ...d.delay, distribution: d.distribution } : d.delay;
  if (d.loss) config.loss = d.loss;
  if (d.duplicate) config.duplicate = d.duplicate;
  if (d.corrupt) config.corrupt = d.corrupt;
  if (reorder) config.reorder = reorder;
  if (d.rate) config.rate = d.rate;
  if (d.link) config.link = d.link;
  if (d.queue) config.queue = d.queue;
  if (d.delayTrace) config.delayTrace = d.delayTrace;
  if (d.seed !== undefined) config.seed = d.seed;
  return { ok: true, value: config };
}
