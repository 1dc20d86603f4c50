/**
 * What a user should be told about netem words that tc reads in a surprising way, and about loss
 * models whose long-run loss is not the percentage their words show. Pure: words and config in,
 * one-line warnings out (the CLI prints them next to the normalised words, formatNetemArgs).
 *
 * - a bare number as a time is MICROseconds (`delay 40` = 40 µs);
 * - `bps` rates are BYTES per second (`rate 10mbps` = 80 Mbit/s), a bare rate is bit/s;
 * - keywords are accepted by any prefix (`los` = loss, `del` = delay), first match in tc's order;
 * - `loss random P CORR` (and duplicate/corrupt/reorder with a correlation): netem's correlated
 *   numbers average uniforms, so the long-run rate is far below P (`loss random 5% 25%` ≈ 0.19 %);
 * - `loss gemodel` / `loss state`: the long-run loss follows from the chain, not the first number.
 */

import type { NetemConfig } from './config.ts';
import { fourStateStationaryLoss, geStationaryLoss } from './loss-models.ts';
import { matchKeyword, tokenizeNetemArgs } from './netem-args.ts';
import { formatRate, startsWithDigit } from './netem-units.ts';

/** Relative difference between a model's long-run loss and its first number that is worth a warning. */
export const LOSS_WARN_RELATIVE = 0.1;

/** Grid of the stationary-CDF computation (points on [0, 1]) and its iteration cap. */
const CDF_GRID = 4000;
const CDF_MAX_ITERATIONS = 500;

/**
 * Long-run probability that netem's correlated draw falls below `p`: the stationary CDF at p of
 * X = (1-w) U + w X' (U uniform, X' the previous draw, w = corr). With F that CDF,
 *   F(x) = max(0, (x-w)/(1-w)) + w/(1-w) ∫[max(0,(x-(1-w))/w), min(1,x/w)] F(z) dz,
 * solved by fixed-point iteration on a grid (the chain forgets its start geometrically in w).
 * Undefined (NaN) for corr ≥ 0.99, where a run keeps its first draw for thousands of packets.
 */
export function correlatedStationaryRate(p: number, corr: number): number {
  if (corr <= 0) return p;
  if (corr >= 0.99) return NaN;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const w = corr;
  const n = CDF_GRID;
  const h = 1 / n;
  let f = new Float64Array(n + 1).map((_, i) => i * h); // start from the uniform CDF
  const cum = new Float64Array(n + 1);
  const integral = (a: number, b: number): number => {
    // ∫0^x F, linear between grid points (trapezoid cumulative sums).
    const at = (x: number): number => {
      const k = Math.min(n - 1, Math.floor(x * n));
      const t = x * n - k;
      const fk = f[k]!;
      const fk1 = f[k + 1]!;
      return cum[k]! + h * (t * fk + (t * t * (fk1 - fk)) / 2);
    };
    return b > a ? at(b) - at(a) : 0;
  };
  for (let it = 0; it < CDF_MAX_ITERATIONS; it++) {
    cum[0] = 0;
    for (let k = 1; k <= n; k++) cum[k] = cum[k - 1]! + (h * (f[k - 1]! + f[k]!)) / 2;
    const next = new Float64Array(n + 1);
    let change = 0;
    for (let k = 0; k <= n; k++) {
      const x = k * h;
      const v = Math.max(0, (x - w) / (1 - w)) + (w / (1 - w)) * integral(Math.max(0, (x - (1 - w)) / w), Math.min(1, x / w));
      next[k] = Math.min(1, v);
      change = Math.max(change, Math.abs(next[k]! - f[k]!));
    }
    f = next;
    if (change < 1e-12) break;
  }
  const k = Math.min(n - 1, Math.floor(p * n));
  const t = p * n - k;
  return f[k]! + t * (f[k + 1]! - f[k]!);
}

/** A percentage to 3 significant digits: `5%`, `0.194%`, `3.23%`. */
function pct(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(3))}%`;
}

/** Positions after a keyword that tc reads as times (delay/latency: TIME [JITTER]). */
function timeWords(words: readonly string[], i: number): number[] {
  const out: number[] = [];
  for (let j = i + 1; j < words.length && j <= i + 2 && startsWithDigit(words[j]); j++) out.push(j);
  return out;
}

/** Warnings about how tc reads the words (units, prefixes). */
function wordWarnings(words: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (startsWithDigit(w) || w.startsWith('-')) continue;
    const lower = w.toLowerCase();
    const kw = matchKeyword(lower);
    if (!kw) continue; // a model or distribution name, a trace path
    if (kw !== lower) out.push(`"${w}" is read as "${kw}" (tc accepts any prefix of a keyword)`);
    if (kw === 'trace' || kw === 'distribution') i++; // the next word is a name, not a keyword
    if (kw === 'delay' || kw === 'latency') {
      for (const j of timeWords(words, i)) {
        if (/^\d+(\.\d+)?$/.test(words[j]!))
          out.push(`"${kw} ... ${words[j]}": a bare number is microseconds in tc (${words[j]} µs); write ${words[j]}ms for milliseconds`);
      }
    }
    if (kw === 'rate') {
      const r = words[i + 1];
      if (r === undefined || !startsWithDigit(r)) continue;
      const m = /^(\d+(?:\.\d+)?)([a-z]*)$/i.exec(r);
      if (!m) continue;
      const unit = m[2]!.toLowerCase();
      if (unit.endsWith('bps')) {
        const bits =
          Number(m[1]) *
          8 *
          ({ bps: 1, kbps: 1e3, mbps: 1e6, gbps: 1e9, tbps: 1e12, kibps: 1024, mibps: 1024 ** 2, gibps: 1024 ** 3, tibps: 1024 ** 4 }[
            unit
          ] ?? 1);
        out.push(
          `"rate ${r}": bps is BYTES per second in tc (${formatRate(bits)} = ${bits / 1e6} Mbit/s); write ${m[1]}${unit.replace('bps', 'bit')} for bits`,
        );
      } else if (unit === '') {
        out.push(`"rate ${r}": a bare rate is bit/s in tc (${r} bit/s); add a unit such as kbit or mbit`);
      }
    }
  }
  return out;
}

/** Warnings about models whose long-run rate is not the number their words show. */
function modelWarnings(config: NetemConfig): string[] {
  const out: string[] = [];
  const l = config.loss;
  if (l?.model === 'random' && l.correlation > 0) out.push(...correlated('loss random', l.p, l.correlation));
  if (l?.model === 'gemodel') {
    const s = geStationaryLoss(l);
    if (differs(s, l.p))
      out.push(
        `"loss gemodel ${pct(l.p)} ...": the long-run loss of this Gilbert-Elliott chain is ${pct(s)}, not ${pct(l.p)} (p is the good→bad transition)`,
      );
  }
  if (l?.model === 'state') {
    const s = fourStateStationaryLoss(l);
    if (differs(s, l.p13))
      out.push(
        `"loss state ${pct(l.p13)} ...": the long-run loss of this 4-state chain is ${pct(s)}, not ${pct(l.p13)} (p13 is a transition)`,
      );
  }
  for (const [name, v] of [
    ['duplicate', config.duplicate],
    ['corrupt', config.corrupt],
    ['reorder', config.reorder],
  ] as const) {
    if (v && v.correlation > 0) out.push(...correlated(name, v.p, v.correlation));
  }
  return out;
}

function differs(actual: number, shown: number): boolean {
  return Math.abs(actual - shown) > LOSS_WARN_RELATIVE * Math.max(shown, 1e-9);
}

function correlated(name: string, p: number, corr: number): string[] {
  const s = correlatedStationaryRate(p, corr);
  if (Number.isNaN(s))
    return [
      `"${name} ${pct(p)} ${pct(corr)}": with a correlation this high a run keeps its first draw for thousands of packets; its rate is not ${pct(p)}`,
    ];
  if (!differs(s, p)) return [];
  const hint = name === 'loss random' ? '; use loss gemodel or loss state for bursts at a given rate' : '';
  return [
    `"${name} ${pct(p)} ${pct(corr)}": netem's correlation averages its random numbers, so the long-run rate is ${pct(s)}, not ${pct(p)}${hint}`,
  ];
}

/** Every warning for netem text as the user wrote it and the config it parsed to. */
export function netemWarnings(text: string | readonly string[], config: NetemConfig): string[] {
  const words = typeof text === 'string' ? tokenizeNetemArgs(text) : text;
  return [...wordWarnings(words), ...modelWarnings(config)];
}
