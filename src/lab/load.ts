/**
 * Reading an experiment from a `.json`, `.yaml` or `.yml` file, or building one from the CLI's
 * one-off flags. Media names resolve against the experiment file's folder, then the media folder.
 */

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ExperimentError } from './errors.ts';
import { resolveTrackKeys, validateExperiment } from './experiment.ts';
import { loadPathTraces } from '../transport/index.ts';
import { ChunkCache, DEFAULTS, openMediaEntry } from '../server/index.ts';
import type { Experiment, PathCondition, PresentationTrack, RunMode } from './experiment.ts';

export interface LoadOptions {
  /** Folder searched for media names not found next to the experiment (default: ./media). */
  mediaDir?: string;
  /** Overrides the file's mode (`--fast` / `--realtime`). */
  mode?: RunMode;
}

export function mediaResolver(dirs: string[]): (name: string) => string {
  return (name) => {
    if (path.isAbsolute(name)) return name;
    for (const d of dirs) {
      const p = path.resolve(d, name);
      if (existsSync(p)) return p;
    }
    return path.resolve(dirs[dirs.length - 1] ?? '.', name);
  };
}

/** Parses the text of an experiment file (JSON, or YAML by extension) and validates it. */
export function parseExperimentText(text: string, fileName: string, o: LoadOptions = {}): Experiment {
  let doc: unknown;
  try {
    doc = /\.ya?ml$/i.test(fileName) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ExperimentError('LAB_ERR_EXPERIMENT_SYNTAX', [{ path: fileName, message: err instanceof Error ? err.message : String(err) }]);
  }
  const dirs = [path.dirname(path.resolve(fileName)), path.resolve(o.mediaDir ?? 'media')];
  const r = validateExperiment(doc, { resolveMedia: mediaResolver(dirs), mode: o.mode });
  if (!r.value) throw new ExperimentError('LAB_ERR_EXPERIMENT_INVALID', r.issues);
  return r.value;
}

export async function loadExperiment(file: string, o: LoadOptions = {}): Promise<Experiment> {
  const text = await readFile(file, 'utf8');
  const e = await loadTraces(parseExperimentText(text, file, o), path.dirname(path.resolve(file)), 'experiment.matrix.netem');
  await checkTrackKeys(e, 'experiment.matrix.netem');
  return e;
}

/**
 * The tracks the server would describe for a media file (SDP order: media type, control id), or
 * undefined when it is not a file the server opens directly (it is prepared first: the run checks).
 */
export async function presentationOf(file: string): Promise<PresentationTrack[] | undefined> {
  let entry;
  try {
    entry = await openMediaEntry(file, path.basename(file), DEFAULTS.mtu - 40, new ChunkCache(1));
  } catch {
    return undefined;
  }
  try {
    return entry.tracks.map((t, index) => ({ index, media: t.source.track.kind, control: t.control }));
  } finally {
    await entry.file.close();
  }
}

/**
 * Refuses, before any run, per-track keys (`tracks: { video: ... }`) that name no track of a media
 * file, with what the file has. Files the server would prepare first are checked by the run.
 */
export async function checkTrackKeys(e: Experiment, field: string): Promise<void> {
  if (!e.netem.some((n) => n.tracks && Object.keys(n.tracks).length > 0)) return;
  const issues: { path: string; message: string }[] = [];
  for (const media of e.media) {
    const tracks = await presentationOf(media);
    if (!tracks) continue;
    for (const [i, n] of e.netem.entries()) {
      if (!n.tracks) continue;
      const r = resolveTrackKeys(n.tracks, tracks);
      if (!r.ok) issues.push({ path: `${field}[${i}]`, message: `${path.basename(media)}: ${r.message}` });
    }
  }
  if (issues.length) throw new ExperimentError('LAB_ERR_EXPERIMENT_INVALID', issues);
}

/**
 * Reads the files that conditions name (`trace FILE`, `link FILE`, `delaytrace FILE`, on any of
 * their paths; relative to `dir`) into the experiment; a missing or malformed file is an error
 * naming the field.
 */
export async function loadTraces(e: Experiment, dir: string, field: string): Promise<Experiment> {
  const issues: { path: string; message: string }[] = [];
  for (const [i, n] of e.netem.entries()) {
    const paths: [string, PathCondition][] = [[`${field}[${i}]`, n]];
    for (const [k, t] of Object.entries(n.tracks ?? {})) paths.push([`${field}[${i}].tracks.${k}`, t]);
    if (n.rtcp) paths.push([`${field}[${i}].rtcp`, n.rtcp]);
    if (n.returnPath) paths.push([`${field}[${i}].return`, n.returnPath]);
    for (const [where, p] of paths) {
      const r = await loadPathTraces(p.config, dir);
      if (!r.ok) issues.push({ path: where, message: r.message });
      else Object.assign(p, r.value);
    }
  }
  if (issues.length) throw new ExperimentError('LAB_ERR_EXPERIMENT_INVALID', issues);
  return e;
}

/** The one-off form: `--netem "loss gemodel 2% 30%" --runs 5 --duration 10`. */
export interface OneOffFlags {
  netem: string[];
  jitter: string[];
  transport: string[];
  media: string;
  runs: number;
  seed: number;
  durationSec: number;
  startNpt: number;
  mode: RunMode;
  quality: boolean;
  /** Applied to every --netem condition: the server's RTCP, the receiver's RTCP, one shared bottleneck. */
  rtcpNetem?: string;
  returnNetem?: string;
  sharedLink?: boolean;
}

export function experimentFromFlags(f: OneOffFlags, o: LoadOptions = {}): Experiment {
  const doc = {
    name: 'one-off',
    mode: f.mode,
    durationSec: f.durationSec,
    startNpt: f.startNpt,
    seeds: Array.from({ length: f.runs }, (_, i) => f.seed + i),
    quality: f.quality,
    matrix: {
      netem: (f.netem.length ? f.netem : ['']).map((n) =>
        f.rtcpNetem !== undefined || f.returnNetem !== undefined || f.sharedLink
          ? { rtp: n, rtcp: f.rtcpNetem, return: f.returnNetem, sharedLink: f.sharedLink }
          : n,
      ),
      jitter: f.jitter.length ? f.jitter : ['adaptive'],
      transport: f.transport.length ? f.transport : ['udp'],
      media: [f.media],
    },
  };
  const r = validateExperiment(doc, { resolveMedia: mediaResolver([process.cwd(), path.resolve(o.mediaDir ?? 'media')]), mode: o.mode });
  if (!r.value)
    throw new ExperimentError(
      'LAB_ERR_EXPERIMENT_INVALID',
      r.issues.map((i) => ({
        ...i,
        path: i.path
          .replace(/^experiment\.(matrix\.)?/, '--')
          .replace(/\.rtcp$/, ' (--rtcp-netem)')
          .replace(/\.return$/, ' (--return-netem)')
          .replace(/\.sharedLink$/, ' (--shared-link)'),
      })),
    );
  return r.value;
}
