import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDelayTrace, parseDeliveryTrace, parseLossTrace } from '../impair/index.ts';
import type { NetemConfig } from '../impair/index.ts';
import type { PathModel } from './impaired-egress.ts';

/** The files a netem config names, read: what PathModel holds besides the config. */
export type PathTraces = Pick<PathModel, 'trace' | 'linkTrace' | 'delayTrace'>;

/**
 * Reads the files a config names (`trace FILE`, `link FILE`, `delaytrace FILE`), relative to
 * `dir`. A missing or malformed file is a message naming the file and the word.
 */
export async function loadPathTraces(
  config: NetemConfig,
  dir: string,
): Promise<{ ok: true; value: PathTraces } | { ok: false; message: string }> {
  const out: { -readonly [K in keyof PathTraces]: PathTraces[K] } = {};
  const read = async (word: string, file: string): Promise<string | { message: string }> => {
    const full = path.resolve(dir, file);
    const text = await readFile(full, 'utf8').catch(() => undefined);
    return text ?? { message: `${word}: cannot read ${full}` };
  };
  if (config.loss?.model === 'trace') {
    const text = await read('trace', config.loss.path);
    if (typeof text !== 'string') return { ok: false, ...text };
    const t = parseLossTrace(text);
    if (!t.ok) return { ok: false, message: `loss trace ${config.loss.path}: ${t.message}` };
    out.trace = t.value;
  }
  if (config.link) {
    const text = await read('link', config.link.path);
    if (typeof text !== 'string') return { ok: false, ...text };
    const t = parseDeliveryTrace(text);
    if (!t.ok) return { ok: false, message: `link ${config.link.path}: ${t.message}` };
    out.linkTrace = t.value;
  }
  if (config.delayTrace) {
    const text = await read('delaytrace', config.delayTrace.path);
    if (typeof text !== 'string') return { ok: false, ...text };
    const t = parseDelayTrace(text);
    if (!t.ok) return { ok: false, message: `delaytrace ${config.delayTrace.path}: ${t.message}` };
    out.delayTrace = t.value;
  }
  return { ok: true, value: out };
}
