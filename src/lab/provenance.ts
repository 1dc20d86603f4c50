/**
 * Where results come from: the streamlab version and git commit (dirty or not), the host, Node and
 * ffmpeg versions, and when. Written at the top of results.json and of the report, next to the
 * experiment's mode, seeds, media, duration and exact netem words, so a figure can be traced back.
 */

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tryLocate } from '../media/ffmpeg/index.ts';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Provenance {
  streamlabVersion: string | undefined;
  gitCommit: string | undefined;
  /** Uncommitted changes in the working tree when the lab ran. */
  gitDirty: boolean | undefined;
  host: { hostname: string; platform: string; release: string; arch: string; cpus: number; cpuModel: string; memoryGiB: number };
  node: string;
  ffmpeg: string | undefined;
  createdAt: string;
}

async function tryRun(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    return (await run(cmd, args, { cwd: ROOT, timeout: 10_000 })).stdout;
  } catch {
    return undefined;
  }
}

export async function collectProvenance(now: () => Date = () => new Date()): Promise<Provenance> {
  const pkg = await readFile(path.join(ROOT, 'package.json'), 'utf8').then(
    (t) => JSON.parse(t) as { version?: string },
    () => undefined,
  );
  const commit = (await tryRun('git', ['rev-parse', 'HEAD']))?.trim();
  const status = commit === undefined ? undefined : await tryRun('git', ['status', '--porcelain', '--untracked-files=no']);
  const ff = tryLocate('ffmpeg');
  const ffv = ff ? (await tryRun(ff, ['-hide_banner', '-version']))?.split('\n')[0]?.trim() : undefined;
  const cpus = os.cpus();
  return {
    streamlabVersion: pkg?.version,
    gitCommit: commit || undefined,
    gitDirty: status === undefined ? undefined : status.trim().length > 0,
    host: {
      hostname: os.hostname(),
      platform: os.platform(),
      release: os.release(),
      arch: os.arch(),
      cpus: cpus.length,
      cpuModel: cpus[0]?.model.trim() ?? '',
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    },
    node: process.version,
    ffmpeg: ffv,
    createdAt: now().toISOString(),
  };
}

let cached: Promise<Provenance> | undefined;
/** One collection per process (a lab run writes results.json after every run). */
export function processProvenance(): Promise<Provenance> {
  cached ??= collectProvenance();
  return cached;
}
