/**
 * The trust bench (`npm run bench:trust`): the long versions of the denial-of-service tests, with
 * figures for the README. Against streamlab as shipped (every limit at its default) and, where
 * cheap, GStreamer's RTSP server (test/peers/gst-rtsp-server.py), one after the other:
 *
 *   baseline      a newcomer's connect, DESCRIBE and first-RTP times (median and worst of 5)
 *   fuzz          N hostile inputs of five kinds, each followed by a valid OPTIONS on the same
 *                 connection: the answers' statuses, connections kept or closed, the server alive
 *   idle          3,000 silent connections from 3,000 addresses, then the newcomer
 *   slowloris     1,000 connections dripping one header byte every 10 s, then the newcomer
 *   slow readers  200 clients pipelining DESCRIBEs and never reading: the server's RSS, the newcomer
 *   $ flood       empty interleaved frames on one connection, at 1.9 MB/s (the rate of the issue's
 *                 report) and as fast as the connection takes them, the newcomer
 *   churn         2,000 sessions opened, played to their first packet and torn down: file
 *                 descriptors, handles, heap and RSS before and after
 *
 * Options: --target streamlab|gst|both (default both), --fuzz N (20000), --idle N (3000),
 * --slowloris N (1000), --slow-readers N (200), --churn N (2000), --seed S, --json FILE.
 */
import { fork } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { registerChild, stopChild } from './children.ts';
import { readRssBytes } from './proc-stats.ts';
import { startTarget, REPO_ROOT } from './targets.ts';
import type { TrustChildMessage, TrustReport } from './trust/server-child.ts';
import { alive, churn, fuzz, hold, probes, slowReaders } from './trust/attacks.ts';
import type { FuzzTally, ProbeResult } from './trust/attacks.ts';

const MEDIA = path.join(REPO_ROOT, 'media', 'sample.mp4');

interface Server {
  name: string;
  pid: number;
  port: number;
  url: string;
  /** streamlab: its own account after a GC; GStreamer: what /proc says. */
  report(): Promise<Partial<TrustReport>>;
  isAlive(): boolean;
  stop(): Promise<void>;
}

function procFigures(pid: number): Partial<TrustReport> {
  let fds: number | undefined;
  try {
    fds = readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    fds = undefined;
  }
  return { rssBytes: readRssBytes(pid) ?? NaN, fds: fds ?? NaN };
}

async function startStreamlab(): Promise<Server> {
  const child = fork(path.join(REPO_ROOT, 'bin/run-ts.js'), [path.join(REPO_ROOT, 'bench/trust/server-child.ts'), path.dirname(MEDIA)], {
    cwd: REPO_ROOT,
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, STREAMLAB_LOG: 'error' },
  });
  registerChild(child);
  const port = await new Promise<number>((resolve, reject) => {
    child.on('message', (m: TrustChildMessage) => m.type === 'ready' && resolve(m.port));
    child.once('exit', (code) => reject(new Error(`streamlab exited (${code}) before it was ready`)));
  });
  return {
    name: 'streamlab',
    pid: child.pid!,
    port,
    url: `rtsp://127.0.0.1:${port}/sample.mp4`,
    report: () =>
      new Promise((resolve) => {
        const t = setTimeout(() => resolve(procFigures(child.pid!)), 5000);
        const on = (m: TrustChildMessage): void => {
          if (m.type !== 'report') return;
          clearTimeout(t);
          child.off('message', on);
          resolve(m);
        };
        child.on('message', on);
        child.send({ cmd: 'report' });
      }),
    isAlive: () => child.exitCode === null && child.signalCode === null,
    stop: () => stopChild(child),
  };
}

async function startGst(): Promise<Server> {
  const t = await startTarget('gst', MEDIA);
  return {
    name: 'GStreamer',
    pid: t.pid,
    port: t.port,
    url: t.url,
    report: () => Promise.resolve(procFigures(t.pid)),
    isAlive: () => {
      try {
        process.kill(t.pid, 0);
        return true;
      } catch {
        return false;
      }
    },
    stop: () => t.stop(),
  };
}

/** The `$` flood from a child process (bench/trust/flood-child.ts). */
async function floodProcess(port: number, bytesPerSec: number, file: string): Promise<{ stop: () => Promise<number> }> {
  const child = fork(
    path.join(REPO_ROOT, 'bin/run-ts.js'),
    [path.join(REPO_ROOT, 'bench/trust/flood-child.ts'), String(port), String(bytesPerSec), file],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  registerChild(child);
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`flood exited (${code}) before it started`)));
  });
  return {
    stop: () =>
      new Promise<number>((resolve) => {
        child.once('message', (m: { frames: number }) => resolve(m.frames));
        child.send({ cmd: 'stop' });
      }),
  };
}

interface Row {
  server: string;
  scenario: string;
  held: string;
  probe?: { median: ProbeResult; worst: ProbeResult; failures: string[] };
  rssMB?: number;
  fds?: number;
  notes: string;
}

const ms = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(0)}` : '–');
const mb = (b: number | undefined): number | undefined => (b === undefined || !Number.isFinite(b) ? undefined : b / 2 ** 20);

async function scenarios(start: () => Promise<Server>, o: Options, log: (s: string) => void): Promise<{ rows: Row[]; fuzz?: FuzzTally }> {
  const rows: Row[] = [];
  let s = await start();
  const restart = async (): Promise<void> => {
    if (s.isAlive()) return;
    rows.push({ server: s.name, scenario: '(server died)', held: '', notes: 'restarted for the next scenario' });
    s = await start();
  };
  const row = async (scenario: string, held: string, notes: string): Promise<void> => {
    const probe = await probes(s.port, s.url, 5);
    const rep = await s.report();
    rows.push({
      server: s.name,
      scenario,
      held,
      probe,
      rssMB: mb(rep.rssBytes),
      fds: rep.fds,
      notes: s.isAlive() ? notes : `${notes}; SERVER DIED`,
    });
    log(`${s.name} ${scenario}: first RTP ${ms(probe.median.firstPacketMs)} ms median, ${probe.failures.length} failures`);
  };
  try {
    await row('baseline', '–', '');

    const f = await fuzz(s.port, s.url, o.fuzz, o.seed, 16, (n) => log(`${s.name} fuzz: ${n}/${o.fuzz}`));
    await row(
      'fuzz',
      `${f.cases} inputs`,
      `500 answers: ${f.statuses['500'] ?? 0}; connections kept ${f.connectionKept}, closed ${f.closedByServer}, silent ${f.silent}`,
    );
    const fuzzTally = f;
    await restart();

    const idle = await hold(s.port, o.idle, 'silent');
    await row('idle connections', `${o.idle} (${idle.refused} refused at connect)`, `${alive(idle.sockets)} still open when measured`);
    idle.stop();
    await restart();

    const loris = await hold(s.port, o.slowloris, 'slowloris');
    await new Promise((r) => setTimeout(r, 12_000)); // one drip
    await row('slowloris', `${o.slowloris} (${loris.refused} refused)`, `${alive(loris.sockets)} still open after 12 s`);
    loris.stop();
    await restart();

    const readers = await slowReaders(s.port, s.url, o.slowReaders);
    await new Promise((r) => setTimeout(r, 10_000));
    await row(
      'slow readers',
      `${o.slowReaders}`,
      `${(readers.written() / 2 ** 20).toFixed(1)} MiB of DESCRIBEs written; ${readers.closedByServer()} closed by the server`,
    );
    readers.stop();
    await restart();

    for (const rate of [1.9e6, 0]) {
      const flood = await floodProcess(s.port, rate, path.basename(new URL(s.url).pathname));
      await new Promise((r) => setTimeout(r, 2_000));
      const t0 = performance.now();
      await row('$ flood', rate ? `${(rate / 1e6).toFixed(1)} MB/s of empty frames` : 'empty frames, unpaced', '');
      const frames = await flood.stop();
      rows[rows.length - 1]!.notes = `${((frames * 4) / 1e6 / ((performance.now() - t0 + 2000) / 1000)).toFixed(1)} MB/s sent`;
      await restart();
    }
    await new Promise((r) => setTimeout(r, 2_000));
    const b = await s.report();
    const c = await churn(s.port, s.url, o.churn, 8);
    await new Promise((r) => setTimeout(r, 3_000));
    const a = await s.report();
    const res = (r: Partial<TrustReport>): string =>
      r.activeResources
        ? Object.values(r.activeResources)
            .reduce((x, y) => x + y, 0)
            .toString()
        : '–';
    rows.push({
      server: s.name,
      scenario: 'churn',
      held: `${c.done} sessions (${c.failed} failed) in ${(c.ms / 1000).toFixed(0)} s`,
      rssMB: mb(a.rssBytes),
      fds: a.fds,
      notes:
        `fds ${b.fds} → ${a.fds}, RSS ${mb(b.rssBytes)?.toFixed(0)} → ${mb(a.rssBytes)?.toFixed(0)} MB` +
        (b.heapUsedBytes !== undefined
          ? `, heap ${mb(b.heapUsedBytes)?.toFixed(1)} → ${mb(a.heapUsedBytes)?.toFixed(1)} MB, handles ${res(b)} → ${res(a)}`
          : ''),
    });
    log(`${s.name} churn: ${c.done} sessions`);
    return { rows, fuzz: fuzzTally };
  } finally {
    await s.stop();
  }
}

interface Options {
  fuzz: number;
  idle: number;
  slowloris: number;
  slowReaders: number;
  churn: number;
  seed: number;
}

function table(rows: Row[]): string {
  const out = [
    '| server | scenario | load | newcomer connect / DESCRIBE / first RTP, ms (median; worst) | RSS MB | fds | notes |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const p = r.probe;
    const t = p
      ? `${ms(p.median.connectMs)} / ${ms(p.median.describeMs)} / ${ms(p.median.firstPacketMs)}; ${ms(p.worst.firstPacketMs)}` +
        (p.failures.length ? ` (${p.failures.length} of 5 failed: ${p.failures[0]})` : '')
      : '';
    out.push(`| ${r.server} | ${r.scenario} | ${r.held} | ${t} | ${r.rssMB?.toFixed(0) ?? ''} | ${r.fds ?? ''} | ${r.notes} |`);
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string', default: 'both' },
      fuzz: { type: 'string', default: '20000' },
      idle: { type: 'string', default: '3000' },
      slowloris: { type: 'string', default: '1000' },
      'slow-readers': { type: 'string', default: '200' },
      churn: { type: 'string', default: '2000' },
      seed: { type: 'string', default: '1' },
      json: { type: 'string' },
    },
  });
  const o: Options = {
    fuzz: Number(values.fuzz),
    idle: Number(values.idle),
    slowloris: Number(values.slowloris),
    slowReaders: Number(values['slow-readers']),
    churn: Number(values.churn),
    seed: Number(values.seed),
  };
  const log = (s: string): void => void process.stderr.write(`[trust] ${s}\n`);
  const targets: [string, () => Promise<Server>][] = [];
  if (values.target !== 'gst') targets.push(['streamlab', startStreamlab]);
  if (values.target !== 'streamlab') targets.push(['gst', startGst]);
  const rows: Row[] = [];
  const fuzzTallies: Record<string, FuzzTally | undefined> = {};
  for (const [name, start] of targets) {
    const r = await scenarios(start, o, log);
    rows.push(...r.rows);
    fuzzTallies[name] = r.fuzz;
  }
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  process.stdout.write(`\nTrust bench, ${new Date().toISOString().slice(0, 10)}, ${machine}, seed ${o.seed}\n\n${table(rows)}\n\n`);
  for (const [name, f] of Object.entries(fuzzTallies)) {
    if (!f) continue;
    const statuses = Object.entries(f.statuses)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
    process.stdout.write(
      `${name} fuzz answers (${f.cases} inputs, ${Object.entries(f.byKind)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')}): ${statuses}\n`,
    );
  }
  if (values.json) writeFileSync(values.json, JSON.stringify({ machine, options: o, rows, fuzz: fuzzTallies }, null, 2));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`trust bench failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
