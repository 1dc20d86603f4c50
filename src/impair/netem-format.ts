/**
 * Canonical netem text for a config (what `parseNetemArgs` reads back to the same config), the URL
 * form of the same words, and the 0/1 loss-trace file format.
 *
 * URL encoding: the value of a query parameter (`?netem=...`) holds the netem words separated by
 * `+` (or `%20`), each word percent-encoded as `encodeURIComponent` does; `%` itself is `%25`:
 *   netem=loss+gemodel+2%25+30%25          → loss gemodel 2% 30%
 *   netem=delay+40ms+10ms+25%25+distribution+normal
 * Since tc reads a bare number as a percentage, `loss+2` also means 2 %.
 */

import { CODEL_INTERVAL_MS, CODEL_TARGET_MS, NETEM_DEFAULT_LIMIT, QUEUE_DEFAULT_PACKETS, type NetemConfig } from './config.ts';
import { impairError, type ImpairResult } from './errors.ts';
import { parseNetemArgs } from './netem-args.ts';
import { formatPercent, formatRate, formatTimeMs } from './netem-units.ts';

/** Canonical words for a config: tc's keyword order, defaults left out, all model parameters given. */
export function netemWords(config: NetemConfig): string[] {
  const out: string[] = [];
  if (config.limit !== NETEM_DEFAULT_LIMIT) out.push('limit', String(config.limit));
  const d = config.delay;
  if (d) {
    out.push('delay', formatTimeMs(d.delayMs));
    if (d.jitterMs !== 0 || d.correlation !== 0) out.push(formatTimeMs(d.jitterMs));
    if (d.correlation !== 0) out.push(formatPercent(d.correlation));
    if (d.distribution) out.push('distribution', d.distribution);
  }
  const l = config.loss;
  if (l) {
    switch (l.model) {
      case 'random':
        out.push('loss', 'random', formatPercent(l.p));
        if (l.correlation !== 0) out.push(formatPercent(l.correlation));
        break;
      case 'state':
        out.push('loss', 'state', ...[l.p13, l.p31, l.p32, l.p23, l.p14].map(formatPercent));
        break;
      case 'gemodel':
        out.push('loss', 'gemodel', ...[l.p, l.r, l.oneMinusH, l.oneMinusK].map(formatPercent));
        break;
      case 'trace':
        out.push('trace', l.path);
        break;
    }
  }
  for (const [kw, v] of [
    ['duplicate', config.duplicate],
    ['corrupt', config.corrupt],
  ] as const) {
    if (!v) continue;
    out.push(kw, formatPercent(v.p));
    if (v.correlation !== 0) out.push(formatPercent(v.correlation));
  }
  const r = config.reorder;
  if (r) {
    out.push('reorder', formatPercent(r.p));
    if (r.correlation !== 0) out.push(formatPercent(r.correlation));
    if (r.gap !== 1) out.push('gap', String(r.gap));
  }
  const rate = config.rate;
  if (rate) {
    out.push('rate', formatRate(rate.bitsPerSecond));
    const tail = [rate.packetOverhead, rate.cellSize, rate.cellOverhead];
    let n = tail.length;
    while (n > 0 && tail[n - 1] === 0) n--;
    out.push(...tail.slice(0, n).map(String));
  }
  if (config.link) out.push('link', config.link.path);
  const q = config.queue;
  if (q) {
    out.push('queue', q.discipline);
    if (q.packets !== QUEUE_DEFAULT_PACKETS) out.push('packets', String(q.packets));
    if (q.bytes !== undefined) out.push('bytes', String(q.bytes));
    if (q.discipline === 'codel' && q.targetMs !== CODEL_TARGET_MS) out.push('target', formatTimeMs(q.targetMs));
    if (q.discipline === 'codel' && q.intervalMs !== CODEL_INTERVAL_MS) out.push('interval', formatTimeMs(q.intervalMs));
  }
  if (config.delayTrace) out.push('delaytrace', config.delayTrace.path);
  if (config.seed !== undefined) out.push('seed', String(config.seed));
  return out;
}

/** Canonical netem text, e.g. `delay 40ms 10ms distribution normal loss gemodel 1% 30% 100% 0%`. */
export function formatNetemArgs(config: NetemConfig): string {
  return netemWords(config).join(' ');
}

/** The URL query value for a config (`loss+gemodel+2%25+30%25+100%25+0%25`). */
export function formatNetemUrlParam(config: NetemConfig): string {
  return netemWords(config).map(encodeURIComponent).join('+');
}

/**
 * Decodes a `netem=` query value: `+` is a space, `%XX` runs are percent-decoded. Lone `%` signs that
 * are not followed by two hex digits are kept, so a value that was already decoded (as
 * `URLSearchParams.get` returns it: `loss gemodel 2% 30%`) reads the same.
 */
export function decodeNetemUrlParam(value: string): string {
  return value.replace(/\+/g, ' ').replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/** Parses the URL form of netem arguments (see the module comment for the encoding). */
export function parseNetemUrlParam(value: string): ImpairResult<NetemConfig> {
  return parseNetemArgs(decodeNetemUrlParam(value));
}

/** Cap on the samples of one loss trace. */
export const LOSS_TRACE_MAX_SAMPLES = 10_000_000;

/**
 * Reads a loss trace: one sample per packet, `1` = lost, `0` = delivered. Samples may be separated
 * by whitespace or commas, or written together (`0001100`); `#` starts a comment to the end of the
 * line. Replay starts at the first sample and wraps around at the end.
 */
export function parseLossTrace(text: string): ImpairResult<Uint8Array> {
  const samples: number[] = [];
  const lines = text.split(/\r?\n/);
  for (let ln = 0; ln < lines.length; ln++) {
    const line = (lines[ln] as string).replace(/#.*$/, '');
    for (const ch of line) {
      if (ch === '0' || ch === '1') {
        if (samples.length >= LOSS_TRACE_MAX_SAMPLES) {
          return impairError('IMPAIR_ERR_BAD_TRACE', `loss trace longer than ${LOSS_TRACE_MAX_SAMPLES} samples`, '');
        }
        samples.push(ch === '1' ? 1 : 0);
      } else if (ch !== ' ' && ch !== '\t' && ch !== ',' && ch !== ';') {
        return impairError('IMPAIR_ERR_BAD_TRACE', `loss trace line ${ln + 1}: "${ch}" is not a 0/1 sample`, lines[ln] as string);
      }
    }
  }
  if (samples.length === 0) return impairError('IMPAIR_ERR_BAD_TRACE', 'loss trace has no samples', '');
  return { ok: true, value: Uint8Array.from(samples) };
}
