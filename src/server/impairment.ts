import { formatNetemArgs, parseNetemArgs, parseNetemUrlParam } from '../impair/index.ts';
import type { ImpairmentSpec } from '../transport/index.ts';
import type { NetemConfig } from '../impair/index.ts';
import { RtspError } from './errors.ts';

/**
 * Bounds on what a client may ask for in a URL (the operator's `serve --netem` is not bounded
 * here). Every word that makes the server hold packets or wait is capped: a delay or jitter above
 * 10 s, a queue over 10 000 packets or a link under 8 kbit/s, a bottleneck queue over 10 000 packets or 10 MB, a CoDel target or
 * interval above 10 s is refused with 400.
 */
export const URL_NETEM_LIMITS = {
  maxDelayMs: 10_000,
  maxJitterMs: 10_000,
  maxLimit: 10_000,
  minRateBitsPerSecond: 8_000,
  /** Per-packet and per-cell overheads (bytes) and the cell size, either sign. */
  maxOverheadBytes: 65_535,
  /** A bottleneck queue's byte limit, and CoDel's target and interval. */
  maxQueueBytes: 10_000_000,
  maxCodelMs: 10_000,
} as const;

/** The first URL bound `config` breaks, as a 400 reason; undefined when within bounds. */
export function urlNetemBoundViolation(config: NetemConfig): string | undefined {
  const L = URL_NETEM_LIMITS;
  const d = config.delay;
  if (d && !(d.delayMs <= L.maxDelayMs)) return `delay ${d.delayMs}ms is above ${L.maxDelayMs}ms`;
  if (d && !(d.jitterMs <= L.maxJitterMs)) return `jitter ${d.jitterMs}ms is above ${L.maxJitterMs}ms`;
  if (!(config.limit <= L.maxLimit)) return `limit ${config.limit} is above ${L.maxLimit} packets`;
  const q = config.queue;
  if (q) {
    if (!(q.packets <= L.maxLimit)) return `queue packets ${q.packets} is above ${L.maxLimit}`;
    if (q.bytes !== undefined && !(q.bytes <= L.maxQueueBytes)) return `queue bytes ${q.bytes} is above ${L.maxQueueBytes}`;
    if (!(q.targetMs <= L.maxCodelMs && q.intervalMs <= L.maxCodelMs)) return `queue target/interval above ${L.maxCodelMs}ms`;
  }
  const r = config.rate;
  if (r) {
    if (!(r.bitsPerSecond >= L.minRateBitsPerSecond)) return `rate ${r.bitsPerSecond}bit is below ${L.minRateBitsPerSecond}bit`;
    for (const [name, v] of [
      ['packet overhead', r.packetOverhead],
      ['cell size', r.cellSize],
      ['cell overhead', r.cellOverhead],
    ] as const) {
      if (!(Math.abs(v) <= L.maxOverheadBytes)) return `rate ${name} ${v} is beyond ±${L.maxOverheadBytes} bytes`;
    }
  }
  return undefined;
}

/**
 * Impairment asked for in a request URL: `?netem=<netem words, + separated>&seed=N`, e.g.
 * `rtsp://HOST:8554/sample.mp4?netem=loss+gemodel+2%25+30%25&seed=7`. Any client (VLC included)
 * can so ask for an impaired copy of its own stream. `trace FILE` is refused in URLs (a client must
 * not make the server read files): use `serve --netem` for loss traces.
 */
export function impairmentFromQuery(query: string): ImpairmentSpec | undefined {
  if (!query || query === '?') return undefined;
  const params = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
  const netem = params.get('netem');
  if (netem === null) return undefined;
  const parsed = parseNetemUrlParam(netem);
  if (!parsed.ok) {
    throw new RtspError(400, 'SRV_ERR_NETEM', `netem: ${parsed.message}${parsed.token ? ` (at "${parsed.token}")` : ''}`);
  }
  if (parsed.value.loss?.model === 'trace' || parsed.value.link || parsed.value.delayTrace) {
    throw new RtspError(400, 'SRV_ERR_NETEM', 'netem: trace files (trace, link, delaytrace) are not allowed in URLs');
  }
  const bound = urlNetemBoundViolation(parsed.value);
  if (bound) throw new RtspError(400, 'SRV_ERR_NETEM', `netem: ${bound}`);
  const seedText = params.get('seed');
  const seed = seedText === null ? (parsed.value.seed ?? 1) : Number(seedText);
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new RtspError(400, 'SRV_ERR_NETEM', `seed: "${seedText}" is not a non-negative integer`);
  return { config: parsed.value, seed, text: formatNetemArgs(parsed.value) };
}

/** `serve --netem "<args>" --netem-seed N`: the impairment every session gets unless its URL says otherwise. */
export function impairmentFromArgs(args: string, seed: number | undefined, trace?: Uint8Array): ImpairmentSpec {
  const parsed = parseNetemArgs(args);
  if (!parsed.ok) throw new Error(`--netem: ${parsed.message}${parsed.token ? ` (at "${parsed.token}")` : ''}`);
  return { config: parsed.value, seed: seed ?? parsed.value.seed ?? 1, trace, text: formatNetemArgs(parsed.value) };
}
