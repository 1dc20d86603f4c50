/**
 * The servers under test, each in a child process of its own: streamlab (bench/server-process.ts,
 * which also reports its event-loop delay over IPC) and GStreamer's RTSP server
 * (test/peers/gst-rtsp-server.py, shared media factory). Both listen on 127.0.0.1, free port.
 */
import { execFileSync, fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { registerChild, stopChild } from './children.ts';
import type { ServerProcessCommand, ServerProcessMessage, ServerProcessReport } from './server-process.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const START_TIMEOUT_MS = 20_000;

export type TargetKind = 'streamlab' | 'gst';
/**
 * How streamlab runs: 'tsx' as shipped (bin/run-ts.js registers tsx, whose loader thread and
 * esbuild service cost about 40 MB of RSS), or 'js': bench/server-process.ts bundled once by
 * esbuild and run by plain node (what a compiled build would cost).
 */
export type Runner = 'tsx' | 'js';

export interface ServerTarget {
  kind: TargetKind;
  pid: number;
  port: number;
  /** rtsp:// URL of the media file on this server. */
  url: string;
  /** Marks the start of a run (streamlab: resets its event-loop delay histogram). */
  mark(): void;
  /** In-process figures (streamlab only; undefined for GStreamer). */
  report(): Promise<ServerProcessReport | undefined>;
  stop(): Promise<void>;
}

/** Extra node flags for the streamlab server process, e.g. `--cpu-prof --cpu-prof-dir=DIR`. */
export interface StreamlabOptions {
  runner?: Runner;
  execArgv?: string[];
}

export async function startTarget(kind: TargetKind, mediaFile: string, options: StreamlabOptions = {}): Promise<ServerTarget> {
  return kind === 'streamlab' ? startStreamlab(mediaFile, options.runner ?? 'tsx', options.execArgv ?? []) : startGst(mediaFile);
}

let bundled: string | undefined;

/** Bundles bench/server-process.ts (and src/) into one ESM file for plain node; once per bench. */
function bundleServerProcess(): string {
  if (bundled) return bundled;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'streamlab-bench-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'server-process.mjs');
  execFileSync(
    path.join(REPO_ROOT, 'node_modules/.bin/esbuild'),
    [path.join(REPO_ROOT, 'bench/server-process.ts'), '--bundle', '--platform=node', '--format=esm', '--target=node20', '--packages=external', `--outfile=${out}`, '--log-level=warning'],
    { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  bundled = out;
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function exitedEarly(child: ChildProcess, what: string): Promise<never> {
  return new Promise((_, reject) => {
    child.once('exit', (code, sig) => reject(new Error(`${what} exited before it was ready (code ${code}, signal ${sig})`)));
  });
}

async function startStreamlab(mediaFile: string, runner: Runner, execArgv: string[]): Promise<ServerTarget> {
  const [entry, args] =
    runner === 'js'
      ? [bundleServerProcess(), [path.dirname(mediaFile)]]
      : [path.join(REPO_ROOT, 'bin/run-ts.js'), [path.join(REPO_ROOT, 'bench/server-process.ts'), path.dirname(mediaFile)]];
  const child = fork(entry, args, {
    cwd: REPO_ROOT,
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, STREAMLAB_LOG: process.env.STREAMLAB_LOG ?? 'warn' },
  });
  registerChild(child);
  const ready = new Promise<{ port: number }>((resolve) => {
    const onMsg = (m: ServerProcessMessage): void => {
      if (m.type === 'ready') {
        child.off('message', onMsg);
        resolve({ port: m.port });
      }
    };
    child.on('message', onMsg);
  });
  let port: number;
  try {
    ({ port } = await withTimeout(Promise.race([ready, exitedEarly(child, 'streamlab server')]), START_TIMEOUT_MS, 'streamlab server start'));
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  const send = (c: ServerProcessCommand): void => {
    if (child.connected) child.send(c);
  };
  return {
    kind: 'streamlab',
    pid: child.pid as number,
    port,
    url: `rtsp://127.0.0.1:${port}/${path.basename(mediaFile)}`,
    mark: () => send({ cmd: 'mark' }),
    report: async () => {
      if (!child.connected) return undefined;
      const answer = new Promise<ServerProcessReport>((resolve) => {
        const onMsg = (m: ServerProcessMessage): void => {
          if (m.type === 'report') {
            child.off('message', onMsg);
            resolve(m);
          }
        };
        child.on('message', onMsg);
      });
      send({ cmd: 'report' });
      return withTimeout(answer, 5000, 'streamlab server report').catch(() => undefined);
    },
    stop: () => stopChild(child),
  };
}

async function startGst(mediaFile: string): Promise<ServerTarget> {
  const mount = `/${path.basename(mediaFile)}`;
  const child = spawn(
    '/usr/bin/python3',
    [path.join(REPO_ROOT, 'test/peers/gst-rtsp-server.py'), '--port', '0', '--mount', mount, '--file', mediaFile, '--shared', '--exit-on-stdin-eof'],
    { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  registerChild(child);
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const ready = new Promise<number>((resolve) => {
    lines.on('line', (line) => {
      const m = /^READY (\d+)$/.exec(line.trim());
      if (m) resolve(Number(m[1]));
    });
  });
  let port: number;
  try {
    port = await withTimeout(Promise.race([ready, exitedEarly(child, 'GStreamer RTSP server')]), START_TIMEOUT_MS, 'GStreamer RTSP server start');
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return {
    kind: 'gst',
    pid: child.pid as number,
    port,
    url: `rtsp://127.0.0.1:${port}${mount}`,
    mark: () => undefined,
    report: () => Promise.resolve(undefined),
    stop: async () => {
      lines.close();
      await stopChild(child);
    },
  };
}
