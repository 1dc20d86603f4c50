/**
 * Experiment descriptions: what a user writes (JSON or YAML), its validation with errors naming
 * the field, and its expansion into runs (the matrix: netem × jitter buffer × transport × media,
 * each repeated with its seeds).
 */

import { formatNetemArgs, geStationaryLoss, fourStateStationaryLoss, parseNetemArgs } from '../impair/index.ts';
import type { DelayTrace, DeliveryTrace, NetemConfig, TraceOffsetMode } from '../impair/index.ts';
import { correlatedStationaryRate, netemWarnings } from '../impair/netem-warnings.ts';
import type { JitterSettings } from '../receiver/index.ts';
import type { LabIssue } from './errors.ts';
import type { EmodelCodec } from '../stats/emodel.ts';

export type RunMode = 'fast' | 'realtime';
export type TransportKind = 'udp' | 'tcp';

export type { EmodelCodec };

/**
 * What a plain condition (netem words as a string) impairs; an object condition says it itself
 * (`NetemCondition.scope`, from `describeScope`). Said in results.json and the report.
 */
export const IMPAIRMENT_SCOPE =
  'RTP, server to receiver, each track on its own path (its own seeds, its own bottleneck queue if any; a trace replayed on each track from an offset of its own, see traceOffset); RTCP is not impaired either way';

/** One path's model in a condition: the words parsed, and the files they name once loaded. */
export interface PathCondition {
  text: string;
  config: NetemConfig;
  trace?: Uint8Array;
  linkTrace?: DeliveryTrace;
  delayTrace?: DelayTrace;
}

/**
 * One impairment condition: the RTP model of every track (`text`, `config`, ...), and, written as
 * an object, what else it applies to: `tracks` (a track key → that track's RTP model instead; the
 * key is the SDP media type, `video` or `audio`, every track of that type; the track's control
 * id, e.g. `trackID=2`; or its index, 0-based; resolved against the presentation by
 * resolveTrackKeys),
 * `sharedLink` (one bottleneck queue for all tracks' RTP), `rtcp` (server's RTCP to the receiver)
 * and `returnPath` (the receiver's RTCP to the server), each path with its own seeds.
 */
export interface NetemCondition extends PathCondition {
  /** How tc would surprise the author of these words (netem-warnings.ts); printed by the CLI. */
  warnings?: string[];
  tracks?: Record<string, PathCondition>;
  sharedLink?: boolean;
  rtcp?: PathCondition;
  returnPath?: PathCondition;
  /** What applies to what, in words (results.json `params.impairmentScope`, the report). */
  scope: string;
}

/** The sentence saying what a condition impairs. */
export function describeScope(c: Omit<NetemCondition, 'scope'>): string {
  const words = (p: PathCondition) => (p.text === 'none' ? 'nothing' : `"${p.text}"`);
  const tracks = Object.entries(c.tracks ?? {}).map(([k, p]) => `${trackKeyLabel(k)} ${words(p)}`);
  const rtp =
    `RTP server to receiver: ${words(c)} on every track${tracks.length ? ` except ${tracks.join(', ')}` : ''}, ` +
    (c.sharedLink ? 'one bottleneck queue shared by all tracks' : 'each track on its own path and bottleneck');
  const rtcp = c.rtcp ? `RTCP server to receiver (SR, BYE): ${words(c.rtcp)}, per track` : 'RTCP server to receiver: not impaired';
  const ret = c.returnPath
    ? `RTCP receiver to server (RR, BYE): ${words(c.returnPath)}, per track`
    : 'RTCP receiver to server: not impaired';
  return `${rtp}; ${rtcp}; ${ret}; every path has its own seeds (run seed × track × direction)`;
}

/** `track 0` for an index key, `video` (every video track) or `trackID=2` as written. */
export function trackKeyLabel(key: string): string {
  return /^\d+$/.test(key) ? `track ${key}` : key;
}

/** A track of the presentation as the lab sees it (SDP order). */
export interface PresentationTrack {
  index: number;
  /** SDP m= media type: video, audio, ... */
  media: string;
  /** The track's control id (last segment of its control URL, e.g. trackID=2). */
  control: string;
}

/** The presentation's tracks in words, for messages: `0 video (trackID=1), 1 audio (trackID=2)`. */
export function describePresentation(tracks: readonly PresentationTrack[]): string {
  return tracks.length === 0 ? 'no tracks' : tracks.map((t) => `${t.index} ${t.media} (${t.control})`).join(', ');
}

/**
 * Per-track models by track index, from the keys a condition wrote (media type, control id or
 * index); an error naming what the presentation has when a key names no track, or when two keys
 * name the same track.
 */
export function resolveTrackKeys<T>(
  tracks: Readonly<Record<string, T>>,
  presentation: readonly PresentationTrack[],
): { ok: true; byIndex: (T | undefined)[] } | { ok: false; message: string } {
  const byIndex: (T | undefined)[] = [];
  const by: string[] = [];
  for (const [key, model] of Object.entries(tracks)) {
    let hit: PresentationTrack[];
    if (/^\d+$/.test(key)) hit = presentation.filter((t) => t.index === Number(key));
    else {
      hit = presentation.filter((t) => t.control === key);
      if (hit.length === 0) hit = presentation.filter((t) => t.media.toLowerCase() === key.toLowerCase());
    }
    if (hit.length === 0) {
      return {
        ok: false,
        message: `tracks.${key}: the presentation has no such track (it has ${describePresentation(presentation)}; a key is a media type, a control id or an index)`,
      };
    }
    for (const t of hit) {
      const other = by[t.index];
      if (other !== undefined) return { ok: false, message: `tracks.${key} and tracks.${other} both name track ${t.index} (${t.media})` };
      by[t.index] = key;
      byIndex[t.index] = model;
    }
  }
  return { ok: true, byIndex };
}

/** Whether a config has bottleneck words (link, queue). */
function hasBottleneck(c: NetemConfig): boolean {
  return c.link !== undefined || c.queue !== undefined;
}

/** An experiment after validation: every field present, every netem string parsed. */
export interface Experiment {
  readonly name: string;
  readonly description: string;
  readonly mode: RunMode;
  /** Media files (absolute paths). */
  readonly media: string[];
  readonly durationSec: number;
  readonly startNpt: number;
  readonly seeds: number[];
  readonly netem: NetemCondition[];
  readonly jitter: { label: string; settings: JitterSettings }[];
  readonly transport: TransportKind[];
  /** PSNR/SSIM against the source with ffmpeg (slow for long runs). */
  readonly quality: boolean;
  readonly waitKeyframe: boolean;
  readonly audioCodec: EmodelCodec;
  /**
   * Where traces start in each run: 'seeded' (default) at an offset drawn from the path's seed
   * (run seed × track × direction), so the runs of a seed set sample a trace; 0 from the start.
   */
  readonly traceOffset: TraceOffsetMode;
}

/** One run of the matrix. */
export interface RunSpec {
  readonly index: number;
  /** Same for every repetition of one condition (netem × jitter × transport × media). */
  readonly condition: string;
  readonly mode: RunMode;
  readonly media: string;
  readonly durationSec: number;
  readonly startNpt: number;
  readonly seed: number;
  readonly repetition: number;
  readonly netem: NetemCondition;
  readonly jitter: { label: string; settings: JitterSettings };
  readonly transport: TransportKind;
  readonly quality: boolean;
  readonly waitKeyframe: boolean;
  readonly audioCodec: EmodelCodec;
  readonly traceOffset: TraceOffsetMode;
}

/**
 * Assumed E-model values for AAC-LC: G.113 gives none. Ie 0 (at 96 kbit/s AAC is transparent on
 * the narrowband scale); Bpl 4.3, G.113's value for G.711 without PLC, because ffmpeg's AAC decoder
 * has no real concealment (a lost frame is silence or a repeat). Override with `audio.ie/bpl`.
 */
export const AAC_EMODEL_ASSUMED: EmodelCodec = { name: 'aac (assumed: Ie 0, Bpl 4.3)', ie: 0, bpl: 4.3 };

/** Limits that keep a typo from starting a week-long experiment. */
export const MAX_RUNS = 10_000;
export const MAX_DURATION_SEC = 24 * 3600;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `adaptive`, `200`, `200ms`, `fixed 200`, `fixed:200ms`, or `{ mode, delayMs, ... }`. */
export function parseJitterSpec(v: unknown): { ok: true; label: string; settings: JitterSettings } | { ok: false; message: string } {
  if (typeof v === 'number') {
    if (!(v >= 0 && v <= 10_000)) return { ok: false, message: `fixed delay ${v} ms is out of range 0..10000` };
    return { ok: true, label: `fixed ${v}ms`, settings: { mode: 'fixed', delayMs: v } };
  }
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'adaptive') return { ok: true, label: 'adaptive', settings: { mode: 'adaptive' } };
    const m = /^(?:fixed[\s:]*)?(-?\d+(?:\.\d+)?)\s*(ms)?$/.exec(s);
    if (!m) return { ok: false, message: `"${v}" is neither "adaptive" nor a fixed delay like "200ms"` };
    return parseJitterSpec(Number(m[1]));
  }
  if (isObj(v)) {
    if (v.mode === 'fixed') {
      if (typeof v.delayMs !== 'number') return { ok: false, message: 'fixed mode needs delayMs (a number)' };
      return parseJitterSpec(v.delayMs);
    }
    if (v.mode === 'adaptive' || v.mode === undefined) {
      const settings: Record<string, unknown> = { mode: 'adaptive' };
      const parts: string[] = [];
      for (const k of ['minDelayMs', 'maxDelayMs', 'startDelayMs', 'percentile', 'binMs', 'halfLifeMs']) {
        if (v[k] === undefined) continue;
        const n = v[k];
        if (typeof n !== 'number' || !(n >= 0)) return { ok: false, message: `${k} must be a number ≥ 0` };
        if (k === 'percentile' && !(n > 0 && n < 1)) return { ok: false, message: 'percentile must be in (0, 1)' };
        settings[k] = n;
        parts.push(`${k}=${n}`);
      }
      return { ok: true, label: parts.length ? `adaptive ${parts.join(' ')}` : 'adaptive', settings: settings as JitterSettings };
    }
    return { ok: false, message: `mode "${String(v.mode)}" is neither "fixed" nor "adaptive"` };
  }
  return { ok: false, message: 'expected "adaptive", a delay like "200ms", or an object' };
}

/** The loss a netem config should produce in the long run (undefined when there is no closed form). */
export function configuredLoss(c: NetemConfig): number | undefined {
  // A bottleneck's drops depend on the offered load: no closed form.
  if (hasBottleneck(c)) return undefined;
  const l = c.loss;
  if (!l) return 0;
  if (l.model === 'random') {
    // netem's correlated numbers: the analytic stationary rate (NaN, none, when corr ≥ 99 %).
    const r = correlatedStationaryRate(l.p, l.correlation);
    return Number.isNaN(r) ? undefined : r;
  }
  if (l.model === 'gemodel') return geStationaryLoss(l);
  if (l.model === 'state') return fourStateStationaryLoss(l);
  return undefined;
}

/** Mean loss-run length a Gilbert channel (1-h = 1, 1-k = 0) should produce: 1/r. */
export function configuredMeanBurst(c: NetemConfig): number | undefined {
  const l = c.loss;
  if (l?.model === 'gemodel' && l.oneMinusH === 1 && l.oneMinusK === 0 && l.r > 0) return 1 / l.r;
  if (l?.model === 'random' && l.correlation === 0 && l.p < 1) return 1 / (1 - l.p);
  return undefined;
}

/** Netem words at `path` as one path's model, or an issue. */
function parsePath(
  v: unknown,
  path: string,
  add: (path: string, message: string) => void,
): (PathCondition & { warnings: string[] }) | undefined {
  if (typeof v !== 'string') {
    add(path, 'expected netem words as a string, e.g. "loss gemodel 2% 30%"');
    return undefined;
  }
  const r = parseNetemArgs(v);
  if (!r.ok) {
    add(path, `${v.trim() || '(empty)'}: ${r.message}`);
    return undefined;
  }
  return { text: v.trim() === '' ? 'none' : formatNetemArgs(r.value), config: r.value, warnings: netemWarnings(v, r.value) };
}

/**
 * A condition: netem words (RTP of every track, each on its own path), or an object
 * `{ rtp, tracks: { video|audio|CONTROL|INDEX: words }, sharedLink, rtcp, return }` saying what else it applies to.
 */
export function parseNetemCondition(v: unknown, path: string, add: (path: string, message: string) => void): NetemCondition | undefined {
  if (!isObj(v)) {
    const p = parsePath(v, path, add);
    return p && { ...p, scope: IMPAIRMENT_SCOPE };
  }
  for (const k of Object.keys(v)) {
    if (!['rtp', 'tracks', 'sharedLink', 'rtcp', 'return'].includes(k))
      add(`${path}.${k}`, 'unknown field (rtp, tracks, sharedLink, rtcp, return)');
  }
  const rtp = parsePath(v.rtp ?? '', `${path}.rtp`, add);
  if (!rtp) return undefined;
  const c: Omit<NetemCondition, 'scope'> & { warnings: string[] } = { ...rtp };
  if (v.tracks !== undefined) {
    if (!isObj(v.tracks)) add(`${path}.tracks`, 'expected { video: "netem words", audio: ... } (or a control id, or a track index)');
    else {
      const tracks: Record<string, PathCondition> = {};
      for (const [k, w] of Object.entries(v.tracks)) {
        if (/^\d+$/.test(k) ? Number(k) > 255 : !/^[A-Za-z][\w=.-]{0,63}$/.test(k)) {
          add(`${path}.tracks.${k}`, 'expected a media type (video, audio), a control id (trackID=2) or a track index (0, 1, ...)');
          continue;
        }
        const p = parsePath(w, `${path}.tracks.${k}`, add);
        if (!p) continue;
        c.warnings.push(...p.warnings.map((x) => `${trackKeyLabel(k)}: ${x}`));
        tracks[k] = { text: p.text, config: p.config };
      }
      c.tracks = tracks;
    }
  }
  if (v.sharedLink !== undefined) {
    if (typeof v.sharedLink !== 'boolean') add(`${path}.sharedLink`, 'expected true or false');
    else if (v.sharedLink) {
      if (!hasBottleneck(rtp.config))
        add(`${path}.sharedLink`, 'a shared link needs a bottleneck in rtp: link FILE, or rate RATE with queue');
      for (const [k, t] of Object.entries(c.tracks ?? {})) {
        if (hasBottleneck(t.config))
          add(`${path}.tracks.${k}`, "with sharedLink the bottleneck is rtp's: a track may not have its own link/queue");
      }
      c.sharedLink = true;
    }
  }
  for (const [key, field] of [
    ['rtcp', 'rtcp'],
    ['return', 'returnPath'],
  ] as const) {
    if (v[key] === undefined) continue;
    const p = parsePath(v[key], `${path}.${key}`, add);
    if (!p) continue;
    c.warnings.push(...p.warnings.map((x) => `${key}: ${x}`));
    c[field] = { text: p.text, config: p.config };
  }
  const parts = [c.text + (c.sharedLink ? ' (shared link)' : '')];
  for (const [k, t] of Object.entries(c.tracks ?? {})) parts.push(`${trackKeyLabel(k)}: ${t.text}`);
  if (c.rtcp) parts.push(`rtcp: ${c.rtcp.text}`);
  if (c.returnPath) parts.push(`return: ${c.returnPath.text}`);
  return { ...c, text: parts.join('; '), scope: describeScope(c) };
}

export interface ExperimentDefaults {
  /** Resolves a media name from the file (relative to the experiment file's folder, or absolute). */
  resolveMedia(name: string): string;
  mode?: RunMode;
}

/**
 * Validates a parsed experiment document. Every problem is returned, each naming its field;
 * `value` is set only when there is none.
 */
export function validateExperiment(doc: unknown, d: ExperimentDefaults): { value?: Experiment; issues: LabIssue[] } {
  const issues: LabIssue[] = [];
  const root = 'experiment';
  const add = (path: string, message: string) => issues.push({ path, message });
  if (!isObj(doc)) {
    add(root, 'expected an object');
    return { issues };
  }
  const known = new Set([
    'name',
    'description',
    'mode',
    'media',
    'durationSec',
    'duration',
    'startNpt',
    'repetitions',
    'seeds',
    'matrix',
    'quality',
    'waitKeyframe',
    'audio',
    'traceOffset',
  ]);
  for (const k of Object.keys(doc)) if (!known.has(k)) add(`${root}.${k}`, 'unknown field');
  const str = (k: string, def: string): string => {
    const v = doc[k];
    if (v === undefined) return def;
    if (typeof v !== 'string') add(`${root}.${k}`, 'expected a string');
    return typeof v === 'string' ? v : def;
  };
  const name = str('name', 'experiment');
  const description = str('description', '');
  let mode: RunMode = d.mode ?? 'fast';
  if (doc.mode !== undefined) {
    if (doc.mode === 'fast' || doc.mode === 'realtime') mode = d.mode ?? doc.mode;
    else add(`${root}.mode`, `"${String(doc.mode)}" is neither "fast" nor "realtime"`);
  }
  const num = (path: string, v: unknown, min: number, max: number, integer = false): number | undefined => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      add(path, 'expected a number');
      return undefined;
    }
    if (integer && !Number.isInteger(v)) {
      add(path, `${v} is not an integer`);
      return undefined;
    }
    if (v < min || v > max) {
      add(path, `${v} is out of range ${min}..${max}`);
      return undefined;
    }
    return v;
  };
  const durRaw = doc.durationSec ?? doc.duration;
  const durationSec = durRaw === undefined ? 10 : (num(`${root}.durationSec`, durRaw, 0.5, MAX_DURATION_SEC) ?? 10);
  const startNpt = doc.startNpt === undefined ? 0 : (num(`${root}.startNpt`, doc.startNpt, 0, MAX_DURATION_SEC) ?? 0);
  let seeds: number[] = [1];
  if (doc.seeds !== undefined) {
    if (!Array.isArray(doc.seeds) || doc.seeds.length === 0) add(`${root}.seeds`, 'expected a non-empty list of integers');
    else seeds = doc.seeds.map((s, i) => num(`${root}.seeds[${i}]`, s, 0, Number.MAX_SAFE_INTEGER, true) ?? 0);
    if (doc.repetitions !== undefined && Array.isArray(doc.seeds) && doc.repetitions !== doc.seeds.length) {
      add(`${root}.repetitions`, `says ${String(doc.repetitions)} but seeds lists ${doc.seeds.length}`);
    }
  } else if (doc.repetitions !== undefined) {
    const n = num(`${root}.repetitions`, doc.repetitions, 1, 1000, true) ?? 1;
    seeds = Array.from({ length: n }, (_, i) => i + 1);
  }
  const matrix = doc.matrix ?? {};
  if (!isObj(matrix)) add(`${root}.matrix`, 'expected an object');
  const m: Obj = isObj(matrix) ? matrix : {};
  for (const k of Object.keys(m))
    if (!['netem', 'jitter', 'transport', 'media'].includes(k))
      add(`${root}.matrix.${k}`, 'unknown field (netem, jitter, transport, media)');
  const list = (path: string, v: unknown, def: unknown[]): unknown[] => {
    if (v === undefined) return def;
    if (!Array.isArray(v)) return [v];
    if (v.length === 0) add(path, 'empty list');
    return v;
  };
  const netem: Experiment['netem'] = [];
  list(`${root}.matrix.netem`, m.netem, ['']).forEach((v, i) => {
    const c = parseNetemCondition(v, `${root}.matrix.netem[${i}]`, add);
    if (c) netem.push(c);
  });
  const jitter: Experiment['jitter'] = [];
  list(`${root}.matrix.jitter`, m.jitter, ['adaptive']).forEach((v, i) => {
    const r = parseJitterSpec(v);
    if (!r.ok) {
      add(`${root}.matrix.jitter[${i}]`, r.message);
      return;
    }
    jitter.push({ label: r.label, settings: r.settings });
  });
  const transport: TransportKind[] = [];
  list(`${root}.matrix.transport`, m.transport, ['udp']).forEach((v, i) => {
    if (v === 'udp' || v === 'tcp') transport.push(v);
    else add(`${root}.matrix.transport[${i}]`, `"${String(v)}" is neither "udp" nor "tcp"`);
  });
  const media: string[] = [];
  const mediaList = m.media ?? doc.media;
  const mediaPath = m.media !== undefined ? `${root}.matrix.media` : `${root}.media`;
  list(mediaPath, mediaList, ['sample.mp4']).forEach((v, i) => {
    if (typeof v !== 'string' || v === '') {
      add(`${mediaPath}[${i}]`, 'expected a file name');
      return;
    }
    media.push(d.resolveMedia(v));
  });
  const bool = (k: string, def: boolean): boolean => {
    const v = doc[k];
    if (v === undefined) return def;
    if (typeof v !== 'boolean') add(`${root}.${k}`, 'expected true or false');
    return v === true;
  };
  const quality = bool('quality', true);
  const waitKeyframe = bool('waitKeyframe', false);
  let traceOffset: TraceOffsetMode = 'seeded';
  if (doc.traceOffset !== undefined) {
    if (doc.traceOffset === 0 || doc.traceOffset === '0') traceOffset = 0;
    else if (doc.traceOffset !== 'seeded') add(`${root}.traceOffset`, `${JSON.stringify(doc.traceOffset)} is neither "seeded" nor 0`);
  }
  let audioCodec = AAC_EMODEL_ASSUMED;
  if (doc.audio !== undefined) {
    if (!isObj(doc.audio)) add(`${root}.audio`, 'expected { ie, bpl }');
    else {
      const ie = num(`${root}.audio.ie`, doc.audio.ie ?? AAC_EMODEL_ASSUMED.ie, 0, 95);
      const bpl = num(`${root}.audio.bpl`, doc.audio.bpl ?? AAC_EMODEL_ASSUMED.bpl, 1, 100);
      if (ie !== undefined && bpl !== undefined) audioCodec = { name: `configured: Ie ${ie}, Bpl ${bpl}`, ie, bpl };
    }
  }
  const runs = netem.length * jitter.length * transport.length * media.length * seeds.length;
  if (runs > MAX_RUNS) add(`${root}.matrix`, `${runs} runs is more than ${MAX_RUNS}`);
  if (issues.length > 0) return { issues };
  return {
    issues,
    value: {
      name,
      description,
      mode,
      media,
      durationSec,
      startNpt,
      seeds,
      netem,
      jitter,
      transport,
      quality,
      waitKeyframe,
      audioCodec,
      traceOffset,
    },
  };
}

/** The runs of an experiment in order: conditions outermost, repetitions innermost. */
export function expandRuns(e: Experiment): RunSpec[] {
  const runs: RunSpec[] = [];
  for (const media of e.media) {
    for (const transport of e.transport) {
      for (const jitter of e.jitter) {
        for (const netem of e.netem) {
          const condition = `${netem.text} | ${jitter.label} | ${transport}${e.media.length > 1 ? ` | ${baseName(media)}` : ''}`;
          e.seeds.forEach((seed, repetition) => {
            runs.push({
              index: runs.length,
              condition,
              mode: e.mode,
              media,
              durationSec: e.durationSec,
              startNpt: e.startNpt,
              seed,
              repetition,
              netem,
              jitter,
              transport,
              quality: e.quality,
              waitKeyframe: e.waitKeyframe,
              audioCodec: e.audioCodec,
              traceOffset: e.traceOffset,
            });
          });
        }
      }
    }
  }
  return runs;
}

function baseName(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}
