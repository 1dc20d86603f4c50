import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeNetemUrlParam,
  formatNetemArgs,
  formatNetemUrlParam,
  parseLossTrace,
  parseNetemArgs,
  parseNetemUrlParam,
  type NetemConfig,
} from '../../src/impair/index.ts';

// Expected configs are written by hand from tc's rules: percentages are always percent (`%`
// optional), a bare time is microseconds, a bare rate is bit/s, defaults from tc/q_netem.c.
const cases: Array<[string, NetemConfig, string]> = [
  ['', { limit: 1000 }, ''],
  ['loss 2%', { limit: 1000, loss: { model: 'random', p: 0.02, correlation: 0 } }, 'loss random 2%'],
  ['loss 2', { limit: 1000, loss: { model: 'random', p: 0.02, correlation: 0 } }, 'loss random 2%'],
  ['drop random 2.5% 25%', { limit: 1000, loss: { model: 'random', p: 0.025, correlation: 0.25 } }, 'loss random 2.5% 25%'],
  // gemodel defaults: r = 1 - p, 1-h = 100 %, 1-k = 0 %
  [
    'loss gemodel 1%',
    { limit: 1000, loss: { model: 'gemodel', p: 0.01, r: 0.99, oneMinusH: 1, oneMinusK: 0 } },
    'loss gemodel 1% 99% 100% 0%',
  ],
  [
    'loss gemodel 1% 30%',
    { limit: 1000, loss: { model: 'gemodel', p: 0.01, r: 0.3, oneMinusH: 1, oneMinusK: 0 } },
    'loss gemodel 1% 30% 100% 0%',
  ],
  [
    'loss gemodel 1% 30% 70% 0.1%',
    { limit: 1000, loss: { model: 'gemodel', p: 0.01, r: 0.3, oneMinusH: 0.7, oneMinusK: 0.001 } },
    'loss gemodel 1% 30% 70% 0.1%',
  ],
  // state defaults: p31 = 1 - p13, p32 = 0, p23 = 100 %, p14 = 0
  [
    'loss state 10%',
    { limit: 1000, loss: { model: 'state', p13: 0.1, p31: 0.9, p32: 0, p23: 1, p14: 0 } },
    'loss state 10% 90% 0% 100% 0%',
  ],
  [
    'loss state 5% 40% 10% 50% 2%',
    { limit: 1000, loss: { model: 'state', p13: 0.05, p31: 0.4, p32: 0.1, p23: 0.5, p14: 0.02 } },
    'loss state 5% 40% 10% 50% 2%',
  ],
  [
    'delay 40ms 10ms 25% distribution normal',
    { limit: 1000, delay: { delayMs: 40, jitterMs: 10, correlation: 0.25, distribution: 'normal' } },
    'delay 40ms 10ms 25% distribution normal',
  ],
  ['latency 1.5s 250us', { limit: 1000, delay: { delayMs: 1500, jitterMs: 0.25, correlation: 0 } }, 'delay 1500ms 0.25ms'],
  ['delay 100', { limit: 1000, delay: { delayMs: 0.1, jitterMs: 0, correlation: 0 } }, 'delay 0.1ms'],
  ['delay 10MS 2Usecs', { limit: 1000, delay: { delayMs: 10, jitterMs: 0.002, correlation: 0 } }, 'delay 10ms 0.002ms'],
  [
    'delay 50ms reorder 5% gap 3',
    { limit: 1000, delay: { delayMs: 50, jitterMs: 0, correlation: 0 }, reorder: { p: 0.05, correlation: 0, gap: 3 } },
    'delay 50ms reorder 5% gap 3',
  ],
  [
    'delay 50ms reorder 25% 50%',
    { limit: 1000, delay: { delayMs: 50, jitterMs: 0, correlation: 0 }, reorder: { p: 0.25, correlation: 0.5, gap: 1 } },
    'delay 50ms reorder 25% 50%',
  ],
  ['duplicate 1%', { limit: 1000, duplicate: { p: 0.01, correlation: 0 } }, 'duplicate 1%'],
  ['corrupt 0.1% 5%', { limit: 1000, corrupt: { p: 0.001, correlation: 0.05 } }, 'corrupt 0.1% 5%'],
  [
    'rate 2mbit limit 100',
    { limit: 100, rate: { bitsPerSecond: 2e6, packetOverhead: 0, cellSize: 0, cellOverhead: 0 } },
    'limit 100 rate 2mbit',
  ],
  [
    'rate 100kbit 20 53 -5',
    { limit: 1000, rate: { bitsPerSecond: 1e5, packetOverhead: 20, cellSize: 53, cellOverhead: -5 } },
    'rate 100kbit 20 53 -5',
  ],
  ['rate 1MBps', { limit: 1000, rate: { bitsPerSecond: 8e6, packetOverhead: 0, cellSize: 0, cellOverhead: 0 } }, 'rate 8mbit'],
  ['rate 1kibit', { limit: 1000, rate: { bitsPerSecond: 1024, packetOverhead: 0, cellSize: 0, cellOverhead: 0 } }, 'rate 1024bit'],
  ['rate 1500', { limit: 1000, rate: { bitsPerSecond: 1500, packetOverhead: 0, cellSize: 0, cellOverhead: 0 } }, 'rate 1500bit'],
  ['seed 7 trace /tmp/loss.txt', { limit: 1000, loss: { model: 'trace', path: '/tmp/loss.txt' }, seed: 7 }, 'trace /tmp/loss.txt seed 7'],
  // tc abbreviations: first keyword in tc's order that the word is a prefix of.
  [
    'lim 10 del 5ms dup 3%',
    { limit: 10, delay: { delayMs: 5, jitterMs: 0, correlation: 0 }, duplicate: { p: 0.03, correlation: 0 } },
    'limit 10 delay 5ms duplicate 3%',
  ],
];

describe('parseNetemArgs / formatNetemArgs', () => {
  it.each(cases)('%j', (text, want, canonical) => {
    const r = parseNetemArgs(text);
    expect(r).toEqual({ ok: true, value: want });
    expect(formatNetemArgs(want)).toBe(canonical);
    expect(parseNetemArgs(canonical)).toEqual({ ok: true, value: want });
  });

  it('accepts the words as an array', () => {
    expect(parseNetemArgs(['loss', 'gemodel', '2%', '30%'])).toEqual(parseNetemArgs('loss gemodel 2% 30%'));
  });

  it.each([
    ['loss 101%', 'IMPAIR_ERR_OUT_OF_RANGE', '101%'],
    ['loss -5%', 'IMPAIR_ERR_OUT_OF_RANGE', '-5%'],
    ['loss gemodel 2% 130%', 'IMPAIR_ERR_OUT_OF_RANGE', '130%'],
    ['loss markov 2%', 'IMPAIR_ERR_UNKNOWN_MODEL', 'markov'],
    ['loss', 'IMPAIR_ERR_MISSING_VALUE', 'loss'],
    ['loss gemodel', 'IMPAIR_ERR_MISSING_VALUE', 'loss gemodel'],
    ['delay', 'IMPAIR_ERR_MISSING_VALUE', 'delay'],
    ['delay -10ms', 'IMPAIR_ERR_NEGATIVE_TIME', '-10ms'],
    ['delay 10parsecs', 'IMPAIR_ERR_BAD_NUMBER', '10parsecs'],
    ['delay 10ms -2ms', 'IMPAIR_ERR_UNKNOWN_KEYWORD', '-2ms'],
    ['jitter 10ms', 'IMPAIR_ERR_UNKNOWN_KEYWORD', 'jitter'],
    ['loss 1% loss 2%', 'IMPAIR_ERR_DUPLICATE_OPTION', 'loss'],
    ['loss 1% trace a.txt', 'IMPAIR_ERR_DUPLICATE_OPTION', 'trace'],
    ['reorder 5%', 'IMPAIR_ERR_CONFLICT', 'reorder'],
    ['delay 10ms gap 5', 'IMPAIR_ERR_CONFLICT', 'gap'],
    ['delay 10ms distribution normal', 'IMPAIR_ERR_CONFLICT', 'distribution'],
    ['delay 10ms 5ms distribution experimental', 'IMPAIR_ERR_UNKNOWN_MODEL', 'experimental'],
    ['slot 10ms', 'IMPAIR_ERR_UNSUPPORTED', 'slot'],
    ['loss 1% ecn', 'IMPAIR_ERR_UNSUPPORTED', 'ecn'],
    ['rate 10%', 'IMPAIR_ERR_UNSUPPORTED', '10%'],
    ['rate 2furlongs', 'IMPAIR_ERR_BAD_NUMBER', '2furlongs'],
    ['limit 1.5', 'IMPAIR_ERR_BAD_NUMBER', '1.5'],
    ['limit 99999999', 'IMPAIR_ERR_OUT_OF_RANGE', '99999999'],
    ['loss state 60% 50% 0% 100% 60%', 'IMPAIR_ERR_OUT_OF_RANGE', '60%'],
    ['loss 2%%', 'IMPAIR_ERR_BAD_NUMBER', '2%%'],
  ])('%j → %s naming %j', (text, code, token) => {
    const r = parseNetemArgs(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe(code);
    expect(r.token).toBe(token);
    expect(r.message.length).toBeGreaterThan(0);
  });
});

describe('URL form', () => {
  it('decodes the issue example', () => {
    expect(parseNetemUrlParam('loss+gemodel+2%25+30%25')).toEqual({
      ok: true,
      value: { limit: 1000, loss: { model: 'gemodel', p: 0.02, r: 0.3, oneMinusH: 1, oneMinusK: 0 } },
    });
  });

  it('reads an already-decoded value the same (URLSearchParams.get output)', () => {
    const raw = 'delay+40ms+10ms+25%25+distribution+normal';
    const decoded = new URLSearchParams(`netem=${raw}`).get('netem') as string;
    expect(decoded).toBe('delay 40ms 10ms 25% distribution normal');
    expect(decodeNetemUrlParam(raw)).toBe(decoded);
    expect(parseNetemUrlParam(decoded)).toEqual(parseNetemUrlParam(raw));
  });

  it('%20 separates words as + does', () => {
    expect(decodeNetemUrlParam('loss%20random%202%25')).toBe('loss random 2%');
  });

  it('formats and reads back', () => {
    const cfg: NetemConfig = { limit: 1000, loss: { model: 'gemodel', p: 0.02, r: 0.3, oneMinusH: 1, oneMinusK: 0 } };
    expect(formatNetemUrlParam(cfg)).toBe('loss+gemodel+2%25+30%25+100%25+0%25');
    expect(parseNetemUrlParam(formatNetemUrlParam(cfg))).toEqual({ ok: true, value: cfg });
  });
});

describe('parseLossTrace', () => {
  it('reads 0/1 samples with comments, separators and packed runs', () => {
    const r = parseLossTrace('# header\n0 0 1\n1,0;0\n00110 # tail comment\n');
    expect(r).toEqual({ ok: true, value: Uint8Array.from([0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0]) });
  });

  it.each([
    ['0 1 2', 'IMPAIR_ERR_BAD_TRACE'],
    ['# nothing\n', 'IMPAIR_ERR_BAD_TRACE'],
    ['0 x', 'IMPAIR_ERR_BAD_TRACE'],
  ])('%j → %s', (text, code) => {
    const r = parseLossTrace(text);
    expect(r.ok ? 'ok' : r.code).toBe(code);
  });
});

describe('properties', () => {
  const vocab = [
    'limit',
    'delay',
    'latency',
    'loss',
    'drop',
    'random',
    'state',
    'gemodel',
    'duplicate',
    'corrupt',
    'reorder',
    'gap',
    'rate',
    'seed',
    'distribution',
    'normal',
    'pareto',
    'uniform',
    'paretonormal',
    'trace',
    'slot',
    'ecn',
    '1%',
    '50%',
    '0',
    '3',
    '100',
    '10ms',
    '2.5ms',
    '1s',
    '-1',
    '2mbit',
    '150%',
    'x',
  ];
  const words = fc.array(
    fc.oneof(
      fc.constantFrom(...vocab),
      fc.string({ minLength: 1, maxLength: 6 }).filter((w) => !/\s/.test(w)),
    ),
    { maxLength: 14 },
  );

  it('random words never throw, and any accepted config formats back to itself', () => {
    fc.assert(
      fc.property(words, (ws) => {
        const r = parseNetemArgs(ws);
        if (!r.ok) {
          expect(r.code).toMatch(/^IMPAIR_ERR_/);
          return;
        }
        expect(parseNetemArgs(formatNetemArgs(r.value))).toEqual(r);
        expect(parseNetemUrlParam(formatNetemUrlParam(r.value))).toEqual(r);
      }),
      { numRuns: 2000 },
    );
  });

  it('arbitrary percentages and times round-trip exactly', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 1e6, noNaN: true }), (pct, ms) => {
        const r = parseNetemArgs(`loss ${pct}% delay ${ms}ms`);
        if (!r.ok) throw new Error(r.message);
        expect(parseNetemArgs(formatNetemArgs(r.value))).toEqual(r);
      }),
      { numRuns: 1000 },
    );
  });
});
