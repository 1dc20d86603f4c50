/**
 * The servers under test, each in a child process of its own: streamlab (bench/server-process.ts,
 * which also reports its event-loop delay over IPC) and GStreamer's RTSP server
 * (test/peers/gst-rtsp-server.py, shared media factory). Both listen on 127.0.0.1, free port.
 */
import { execFileSync, fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { registerChild, stopChild } from './children.ts';
import type { FloorCommand, FloorMessage } from './floor-process.ts';
import type { ServerHeapReport, ServerProcessCommand, ServerProcessMessage, ServerProcessReport } from './server-process.ts';

const ABOVE_BENCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The repository, also from the compiled copy of bench/ in .cache/bench-js (compileBench). */
export const REPO_ROOT = path.basename(ABOVE_BENCH) === 'bench-js' ? path.resolve(ABOVE_BENCH, '../..') : ABOVE_BENCH;
const START_TIMEOUT_MS = 20_000;

export type TargetKind = 'streamlab' | 'gst' | 'floor';
/** Which UDP sender streamlab uses (STREAMLAB_SENDER in the server process). */
export type SenderChoice = 'native' | 'js';
/** streamlab's UDP ports (`serve --udp-ports`; STREAMLAB_UDP_PORTS in the server process). */
export type UdpPortsChoice = 'shared' | 'per-session';
/**
 * What streamlab's clients play: `own`, the file itself, each session on its own timeline from
 * where its PLAY asked (what a player expects of a file); `shared`, one looped live channel of the
 * file (`serve --live bench=FILE`) that every client joins where it is, as GStreamer's shared
 * media factory serves the file.
 */
export type TimelineChoice = 'own' | 'shared';
/** The live channel of `--timeline shared`: rtsp://HOST:PORT/live/bench. */
const BENCH_LIVE_CHANNEL = 'bench';
/**
 * How streamlab runs: 'js' as shipped (src/ and bench/ compiled by tsc, as `npm run build` does,
 * run by plain node), or 'tsx' as in development (bin/run-ts.js registers tsx, whose loader
 * thread and esbuild service cost about 40 MB of RSS).
 */
export type Runner = 'tsx' | 'js';

export interface ServerTarget {
  kind: TargetKind;
  pid: number;
  /** Every process of the server, whose CPU and RSS are summed: the pid, and streamlab's workers with --workers. */
  pids: number[];
  port: number;
  /** rtsp:// URL of the media file on this server. */
  url: string;
  /** Marks the start of a run (streamlab: resets its event-loop delay histogram). */
  mark(): void;
  /** Marks the start of the hold, every client in (streamlab: a second event-loop delay histogram). */
  markHold?(): void;
  /** In-process figures (streamlab only; undefined for GStreamer). */
  report(): Promise<ServerProcessReport | undefined>;
  /** Heap used after a full GC, bytes (streamlab only). */
  heap?(): Promise<number | undefined>;
  /** The floor only: its tracks, and how a client joins (its RTP port per track). */
  floor?: { tracks: { media: string; clockRate: number }[]; join(rtpPorts: number[]): void };
  stop(): Promise<void>;
}

/** Extra node flags for the streamlab server process, e.g. `--cpu-prof --cpu-prof-dir=DIR`. */
export interface StreamlabOptions {
  runner?: Runner;
  execArgv?: string[];
  sender?: SenderChoice;
  udpPorts?: UdpPortsChoice;
  /** Worker processes (serve --workers N); 1: one process. */
  workers?: number;
  timeline?: TimelineChoice;
  /** Seconds of the media a run plays at most (ramp + hold): what the floor prepares. */
  mediaSec?: number;
}

export async function startTarget(kind: TargetKind, mediaFile: string, options: StreamlabOptions = {}): Promise<ServerTarget> {
  if (kind === 'floor') return startFloor(mediaFile, options.mediaSec ?? 60);
  return kind === 'streamlab'
    ? startStreamlab(
        mediaFile,
        options.runner ?? 'js',
        options.execArgv ?? [],
        options.sender ?? 'native',
        options.udpPorts ?? 'shared',
        options.workers ?? 1,
        options.timeline ?? 'own',
      )
    : startGst(mediaFile, options.timeline ?? 'shared');
}

let compiled: string | undefined;
let bundled: string | undefined;

/**
 * Compiles src/ and bench/ with tsc (tsconfig.bench.json, the build's settings) into
 * .cache/bench-js inside the repository, so that the packages resolve from node_modules; once
 * per bench. Returns the folder of the compiled bench/ (the client, probe and floor processes).
 */
export function compileBench(): string {
  if (compiled) return compiled;
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.bench.json'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  compiled = path.join(REPO_ROOT, '.cache/bench-js/bench');
  return compiled;
}

/**
 * bench/server-process.ts bundled as the executable is (`npm run build:bundle`: esbuild, code
 * split, packages external) into .cache/bench-js/bundle; once per bench. Returns its entry.
 */
function bundleServerProcess(): string {
  if (bundled) return bundled;
  const out = path.join(REPO_ROOT, '.cache/bench-js/bundle');
  buildSync({
    entryPoints: [path.join(REPO_ROOT, 'bench/server-process.ts')],
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outdir: out,
    logLevel: 'warning',
  });
  bundled = path.join(out, 'server-process.js');
  return bundled;
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

async function startStreamlab(
  mediaFile: string,
  runner: Runner,
  execArgv: string[],
  sender: SenderChoice,
  udpPorts: UdpPortsChoice,
  workers: number,
  timeline: TimelineChoice,
): Promise<ServerTarget> {
  // server-process.ts's arguments: media folder, workers, and the shared live channel (NAME=FILE).
  const processArgs = [path.dirname(mediaFile), String(workers), ...(timeline === 'shared' ? [`${BENCH_LIVE_CHANNEL}=${mediaFile}`] : [])];
  const [entry, args] =
    runner === 'js'
      ? [bundleServerProcess(), processArgs]
      : [path.join(REPO_ROOT, 'bin/run-ts.js'), [path.join(REPO_ROOT, 'bench/server-process.ts'), ...processArgs]];
  const child = fork(entry, args, {
    cwd: REPO_ROOT,
    // --expose-gc: the heap per session is measured after a full collection (ServerTarget.heap).
    execArgv: ['--expose-gc', ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, STREAMLAB_LOG: process.env.STREAMLAB_LOG ?? 'warn', STREAMLAB_SENDER: sender, STREAMLAB_UDP_PORTS: udpPorts },
  });
  registerChild(child);
  const ready = new Promise<{ port: number; workerPids: number[] }>((resolve) => {
    const onMsg = (m: ServerProcessMessage): void => {
      if (m.type === 'ready') {
        child.off('message', onMsg);
        resolve({ port: m.port, workerPids: m.workerPids ?? [] });
      }
    };
    child.on('message', onMsg);
  });
  let port: number;
  let workerPids: number[];
  try {
    ({ port, workerPids } = await withTimeout(
      Promise.race([ready, exitedEarly(child, 'streamlab server')]),
      START_TIMEOUT_MS,
      'streamlab server start',
    ));
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  const send = (c: ServerProcessCommand): void => {
    if (child.connected) child.send(c);
  };
  const ask = async <M extends ServerProcessMessage>(cmd: 'report' | 'heap', type: M['type']): Promise<M | undefined> => {
    if (!child.connected) return undefined;
    const answer = new Promise<M>((resolve) => {
      const onMsg = (m: ServerProcessMessage): void => {
        if (m.type === type) {
          child.off('message', onMsg);
          resolve(m as M);
        }
      };
      child.on('message', onMsg);
    });
    send({ cmd });
    return withTimeout(answer, 5000, `streamlab server ${cmd}`).catch(() => undefined);
  };
  return {
    kind: 'streamlab',
    pid: child.pid as number,
    pids: [child.pid as number, ...workerPids],
    port,
    url: `rtsp://127.0.0.1:${port}/${timeline === 'shared' ? `live/${BENCH_LIVE_CHANNEL}` : path.basename(mediaFile)}`,
    mark: () => send({ cmd: 'mark' }),
    markHold: () => send({ cmd: 'hold' }),
    report: () => ask<ServerProcessReport>('report', 'report'),
    // With workers the sessions' heap is theirs: the primary's would say nothing about it.
    ...(workers > 1 ? {} : { heap: async () => (await ask<ServerHeapReport>('heap', 'heap'))?.heapUsedBytes }),
    stop: () => stopChild(child),
  };
}

/** GStreamer's RTSP server: `shared`, one media (pipeline) for all clients; `own`, one per client. */
async function startGst(mediaFile: string, timeline: TimelineChoice): Promise<ServerTarget> {
  const mount = `/${path.basename(mediaFile)}`;
  const child = spawn(
    '/usr/bin/python3',
    [
      path.join(REPO_ROOT, 'test/peers/gst-rtsp-server.py'),
      '--port',
      '0',
      '--mount',
      mount,
      '--file',
      mediaFile,
      ...(timeline === 'shared' ? ['--shared'] : []),
      '--exit-on-stdin-eof',
    ],
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
    port = await withTimeout(
      Promise.race([ready, exitedEarly(child, 'GStreamer RTSP server')]),
      START_TIMEOUT_MS,
      'GStreamer RTSP server start',
    );
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return {
    kind: 'gst',
    pid: child.pid as number,
    pids: [child.pid as number],
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

/** The floor sender (bench/floor-process.ts), compiled with the rest, run by plain node. */
async function startFloor(mediaFile: string, mediaSec: number): Promise<ServerTarget> {
  const entry = path.join(compileBench(), 'floor-process.js');
  const child = fork(entry, [mediaFile, String(mediaSec)], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  registerChild(child);
  const ready = new Promise<{ media: string; clockRate: number }[]>((resolve) => {
    const onMsg = (m: FloorMessage): void => {
      if (m.type === 'ready') {
        child.off('message', onMsg);
        resolve(m.tracks);
      }
    };
    child.on('message', onMsg);
  });
  let tracks: { media: string; clockRate: number }[];
  try {
    tracks = await withTimeout(Promise.race([ready, exitedEarly(child, 'floor sender')]), START_TIMEOUT_MS, 'floor sender start');
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  const send = (c: FloorCommand): void => {
    if (child.connected) child.send(c);
  };
  return {
    kind: 'floor',
    pid: child.pid as number,
    pids: [child.pid as number],
    port: 0,
    url: '',
    mark: () => send({ cmd: 'mark' }),
    report: () => Promise.resolve(undefined),
    floor: { tracks, join: (ports) => send({ cmd: 'add', ports }) },
    stop: () => stopChild(child),
  };
}
