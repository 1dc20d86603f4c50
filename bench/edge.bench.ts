/**
 * `npm run bench:edge`: one origin, two edges, N viewers on each edge, on loopback. The origin
 * (`serve --live news=FILE`) and the edges (`serve --live news=rtsp://ORIGIN/live/news`) run as
 * shipped (`bin/streamlab.js`, the compiled build), each its own process, started once; for each
 * N the viewers (bench/load-client.ts, UDP, in this process) join both edges, are held
 * `--duration` s, and leave. Per row: CPU of the origin and of each edge over the hold (from
 * /proc), the sessions each server reports (GET_PARAMETER `sessions`, as a redirecting front
 * polls it), packets delivered and RFC 3550 loss at the viewers. The origin serves two sessions
 * (the edges) whatever N is: its CPU should stay flat while the edges' grows.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { RtspClientConnection } from '../src/transport/rtsp-client.ts';
import { parseParameters } from '../src/server/redirect/index.ts';
import { registerChild, stopChild } from './children.ts';
import { LoadClient, PHASE_STEADY } from './load-client.ts';
import type { PhaseClock } from './load-client.ts';
import { machineInfo, readCpu } from './proc-stats.ts';
import { REPO_ROOT } from './targets.ts';

const HELP = `npm run bench:edge -- [options]
  --viewers LIST     viewers per edge, comma-separated (default 0,10,50,100)
  --duration S       seconds all viewers are held (default 10)
  --stagger MS       delay between two viewers joining (default 50)
  --file F           media file the origin loops (default media/sample.mp4)
  --pull-transport T how the edges pull the origin: tcp (default) or udp`;

interface Server {
  name: string;
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/** Runs `streamlab serve ARGS` (compiled) on 127.0.0.1 with a free port; resolves once it prints its URL. */
async function serve(name: string, args: string[]): Promise<Server> {
  const child = spawn(
    process.execPath,
    [
      path.join(REPO_ROOT, 'bin/streamlab.js'),
      'serve',
      path.join(REPO_ROOT, 'media'),
      '--host',
      '127.0.0.1',
      '-p',
      '0',
      '--log',
      'warn',
      '--max-connections-per-address',
      '100000',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  registerChild(child);
  let err = '';
  child.stderr.on('data', (d) => (err += String(d)));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
      const m = /on rtsps?:\/\/[^:]+:(\d+)\//.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}): ${err}`)));
  });
  return { name, pid: child.pid!, port, stop: () => stopChild(child) };
}

/** The sessions a server reports (the load parameter a redirecting front polls); NaN when it does not answer. */
async function sessionsOf(port: number): Promise<number> {
  let conn: RtspClientConnection | undefined;
  try {
    conn = await RtspClientConnection.connect({ host: '127.0.0.1', port, responseTimeoutMs: 20_000 });
    const res = await conn.request(
      'GET_PARAMETER',
      `rtsp://127.0.0.1:${port}/`,
      { 'Content-Type': 'text/parameters' },
      Buffer.from('sessions\r\n'),
    );
    return parseParameters(res.body.toString('utf8')).get('sessions') ?? NaN;
  } catch {
    return NaN;
  } finally {
    conn?.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      viewers: { type: 'string', default: '0,10,50,100' },
      duration: { type: 'string', default: '10' },
      stagger: { type: 'string', default: '50' },
      file: { type: 'string', default: path.join(REPO_ROOT, 'media/sample.mp4') },
      'pull-transport': { type: 'string', default: 'tcp' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const counts = values.viewers.split(',').map(Number);
  if (counts.some((n) => !Number.isInteger(n) || n < 0 || n > 1000)) throw new Error(`--viewers wants counts 0..1000`);
  const pullTransport = values['pull-transport'];
  if (pullTransport !== 'tcp' && pullTransport !== 'udp') throw new Error('--pull-transport wants tcp or udp');
  const holdSec = Number(values.duration);
  const staggerMs = Number(values.stagger);
  const m = machineInfo();
  process.stdout.write(
    `machine: ${m.cpuModel}, ${m.cores} cores, ${m.memGiB} GiB, Node ${m.node}, load ${m.loadAvg.join(' ')}\n` +
      `origin: --live news=${path.relative(REPO_ROOT, values.file)}; two edges pulling it over ${pullTransport}; UDP viewers ${staggerMs} ms apart, held ${holdSec} s\n\n`,
  );

  const origin = await serve('origin', ['--live', `news=${values.file}`]);
  const edges = [
    await serve('edge1', ['--live', `news=rtsp://127.0.0.1:${origin.port}/live/news`, '--pull-transport', pullTransport]),
    await serve('edge2', ['--live', `news=rtsp://127.0.0.1:${origin.port}/live/news`, '--pull-transport', pullTransport]),
  ];
  const rows: string[] = [
    '| viewers per edge | origin CPU % | edge 1 CPU % | edge 2 CPU % | origin sessions | edge sessions | pkt/s at viewers | loss % |',
    '|---|---|---|---|---|---|---|---|',
  ];
  try {
    await sleep(3000); // the edges pull and go live
    for (const n of counts) {
      const phase: PhaseClock = { phase: 0 };
      const clients: LoadClient[] = [];
      const t0 = performance.now();
      for (let i = 0; i < 2 * n; i++) {
        const wait = t0 + i * staggerMs - performance.now();
        if (wait > 0) await sleep(wait);
        const edge = edges[i % 2]!;
        const c = new LoadClient({ url: `rtsp://127.0.0.1:${edge.port}/live/news`, phase, rrIntervalMs: 2000, requestTimeoutMs: 10_000 });
        clients.push(c);
        void c.start();
      }
      const deadline = performance.now() + 10_000;
      while (performance.now() < deadline && clients.some((c) => c.error === undefined && c.timeToFirstRtpMs === undefined))
        await sleep(50);
      await sleep(1000);
      const sessions = await Promise.all([origin, ...edges].map((s) => sessionsOf(s.port)));
      phase.phase = PHASE_STEADY;
      const before = [origin, ...edges].map((s) => readCpu(s.pid)?.cpuSec ?? NaN);
      const h0 = performance.now();
      const received0 = clients.reduce((a, c) => a + c.tracks.reduce((b, t) => b + t.packets, 0), 0);
      await sleep(holdSec * 1000);
      const wall = (performance.now() - h0) / 1000;
      const cpu = [origin, ...edges].map((s, i) => (100 * ((readCpu(s.pid)?.cpuSec ?? NaN) - before[i]!)) / wall);
      const received = clients.reduce((a, c) => a + c.tracks.reduce((b, t) => b + t.packets, 0), 0) - received0;
      let expected = 0;
      let lost = 0;
      for (const c of clients)
        for (const t of c.tracks) {
          const s = t.source.snapshot();
          expected += s.expected;
          lost += s.expected - s.received;
        }
      const failed = clients.filter((c) => c.error !== undefined);
      const errors = failed.length;
      if (errors > 0)
        process.stdout.write(`${errors} viewers failed, e.g. ${[...new Set(failed.map((c) => c.error))].slice(0, 3).join('; ')}\n`);
      await Promise.all(clients.map((c) => c.stop()));
      rows.push(
        `| ${n} | ${cpu[0]!.toFixed(1)} | ${cpu[1]!.toFixed(1)} | ${cpu[2]!.toFixed(1)} | ${sessions[0]} | ${sessions[1]} + ${sessions[2]} | ` +
          `${Math.round(received / wall)} | ${expected > 0 ? ((100 * lost) / expected).toFixed(2) : '0'}${errors ? ` (${errors} failed)` : ''} |`,
      );
      process.stdout.write(`${rows[rows.length - 1]}\n`);
      await sleep(2000);
    }
  } finally {
    await Promise.all([origin, ...edges].map((s) => s.stop()));
  }
  process.stdout.write(`\n${rows.join('\n')}\n`);
}

await main();
