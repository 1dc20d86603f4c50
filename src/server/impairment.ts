import { formatNetemArgs, parseNetemArgs, parseNetemUrlParam } from '../impair/index.ts';
import type { ImpairmentSpec } from '../transport/index.ts';
import { RtspError } from './errors.ts';

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
  if (parsed.value.loss?.model === 'trace') throw new RtspError(400, 'SRV_ERR_NETEM', 'netem: trace files are not allowed in URLs');
  const seedText = params.get('seed');
  const seed = seedText === null ? (parsed.value.seed ?? 1) : Number(seedText);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RtspError(400, 'SRV_ERR_NETEM', `seed: "${seedText}" is not a non-negative integer`);
  return { config: parsed.value, seed, text: formatNetemArgs(parsed.value) };
}

/** `serve --netem "<args>" --netem-seed N`: the impairment every session gets unless its URL says otherwise. */
export function impairmentFromArgs(args: string, seed: number | undefined, trace?: Uint8Array): ImpairmentSpec {
  const parsed = parseNetemArgs(args);
  if (!parsed.ok) throw new Error(`--netem: ${parsed.message}${parsed.token ? ` (at "${parsed.token}")` : ''}`);
  return { config: parsed.value, seed: seed ?? parsed.value.seed ?? 1, trace, text: formatNetemArgs(parsed.value) };
}
