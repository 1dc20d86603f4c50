/**
 * `npm run bench:dashboard`: does a dashboard page that stops reading change the stream's timing?
 * One server with the operator's HTTP side (the feed pushed every --push ms, 50x the default at
 * 20, to stress it) and a looped live channel; --viewers ffmpeg viewers over UDP (separate
 * processes, `-c copy -f null`) as load, and one measuring UDP client in this process
 * (load-client.ts) whose audio packets' arrival is timed against their RTP clock
 * (arrival-timing.ts: lateness beyond the window's earliest packet). --idle sessions (SETUP, no
 * PLAY) make each feed message larger (about 330 bytes each), so stalled pages fill their kernel
 * buffers (megabytes on loopback) sooner. Four conditions of --duration s each: no page, --pages
 * reading pages, --pages stalled pages (they open the feed, then never read; this one lasts until
 * the feed has dropped them all at its backlog bound, up to 120 s), no page again. Per condition: lateness
 * p50/p90/p99/max, RFC 3550 jitter at the measuring client, the event-loop delay, the feed's
 * messages and drops.
 *
 *   npm run bench:dashboard -- [--viewers 6] [--pages 4] [--duration 10] [--push 20] [--idle 30]
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { OperatorHttp } from '../src/operator/index.ts';
import { RtspServer } from '../src/server/index.ts';
import { arrivalTiming } from './arrival-timing.ts';
import type { Arrival } from './arrival-timing.ts';
import { eldFromHistogram, startEventLoopMonitor } from './eld.ts';
import { LoadClient, PHASE_STEADY } from './load-client.ts';
import { machineInfo } from './proc-stats.ts';
import { REPO_ROOT } from './targets.ts';
import { stalledPage } from './stalled-page.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A session that is set up (interleaved, so no ports) and never played: one more row in every feed message. */
function idleSession(port: number, url: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () =>
      s.write(`SETUP ${url}/trackID=1 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n`),
    );
    s.once('data', (d: Buffer) => (d.toString('latin1').startsWith('RTSP/1.0 200') ? resolve(s) : reject(new Error(d.toString('latin1')))));
    s.on('error', reject);
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      viewers: { type: 'string', default: '6' },
      pages: { type: 'string', default: '4' },
      duration: { type: 'string', default: '10' },
      push: { type: 'string', default: '20' },
      idle: { type: 'string', default: '30' },
    },
  });
  const viewers = Number(values.viewers);
  const pages = Number(values.pages);
  const durationMs = Number(values.duration) * 1000;
  const server = await RtspServer.listen({
    mediaDir: path.join(REPO_ROOT, 'media'),
    host: '127.0.0.1',
    port: 0,
    live: [{ name: 'bench', file: path.join(REPO_ROOT, 'media/sample.mp4') }],
    maxConnectionsPerAddress: Number(values.idle) + Number(values.viewers) + 16,
  });
  const idle: net.Socket[] = [];
  for (let i = 0; i < Number(values.idle); i++) idle.push(await idleSession(server.port, `rtsp://127.0.0.1:${server.port}/sample.mp4`));
  const op = await OperatorHttp.start(server, { port: 0, feedIntervalMs: Number(values.push) });
  const url = `rtsp://127.0.0.1:${server.port}/live/bench`;
  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  process.on('exit', killAll);
  for (let i = 0; i < viewers; i++) {
    children.push(
      spawn('ffmpeg', ['-nostdin', '-v', 'error', '-rtsp_transport', 'udp', '-i', url, '-c', 'copy', '-f', 'null', '-'], {
        stdio: 'ignore',
      }),
    );
    await sleep(100);
  }
  const probe = new LoadClient({ url, phase: { phase: PHASE_STEADY }, rrIntervalMs: 2000, requestTimeoutMs: 10_000 });
  await probe.start();
  if (probe.error) throw new Error(`measuring client: ${probe.error}`);
  const audio = probe.tracks.find((t) => t.media === 'audio');
  if (!audio?.rtpSocket) throw new Error('no audio track over UDP');
  const arrivals: Arrival[] = [];
  audio.onArrival = (msg, arrivalMs) => arrivals.push({ timestamp: msg.readUInt32BE(4), arrivalMs });
  await sleep(3000);
  const eld = startEventLoopMonitor();
  const rows: string[] = [];
  for (const condition of ['none', 'reading', 'stalled', 'none'] as const) {
    const sockets: net.Socket[] = [];
    const readers: WebSocket[] = [];
    let received = 0;
    if (condition === 'reading')
      for (let i = 0; i < pages; i++) {
        const w = new WebSocket(`${op.url.replace('http', 'ws')}ws`);
        w.on('message', () => received++);
        readers.push(w);
      }
    if (condition === 'stalled') for (let i = 0; i < pages; i++) sockets.push(await stalledPage(op.port));
    const before = { ...op.feed.counters };
    const from = arrivals.length;
    eld.reset();
    const t0 = performance.now();
    await sleep(durationMs);
    if (condition === 'stalled')
      while (op.feed.counters.droppedSlow - before.droppedSlow < pages && performance.now() - t0 < 120_000) await sleep(100);
    const seconds = (performance.now() - t0) / 1000;
    const e = eldFromHistogram(eld);
    const w = arrivalTiming(arrivals.slice(from), audio.clockRate);
    rows.push(
      `| ${condition === 'none' ? 'none' : `${pages} ${condition}`} | ${seconds.toFixed(1)} | ${w.packets} (${(w.packets / seconds).toFixed(1)}/s) | ` +
        `${w.p50Ms.toFixed(1)} / ${w.p90Ms.toFixed(1)} / ${w.p99Ms.toFixed(1)} / ${w.maxMs.toFixed(1)} | ${audio.source.jitterMs.toFixed(2)} | ` +
        `${e.p50Ms.toFixed(2)} / ${e.p99Ms.toFixed(2)} / ${e.maxMs.toFixed(1)} | ${op.feed.counters.sent - before.sent} | ` +
        `${op.feed.counters.droppedSlow - before.droppedSlow} | ${condition === 'reading' ? received : ''} |`,
    );
    for (const r of readers) r.close();
    for (const s of sockets) s.destroy();
    await sleep(500);
  }
  eld.disable();
  const m = machineInfo();
  process.stdout.write(
    `machine: ${JSON.stringify(m)}\n` +
      `${viewers} ffmpeg viewers (UDP) of live/bench + 1 measuring UDP client, ${values.idle} idle sessions; ` +
      `feed pushed every ${values.push} ms (${Buffer.byteLength(JSON.stringify(op.feed.state()))} bytes a message); ${values.duration} s per condition\n` +
      '| dashboard pages | s | audio packets | lateness ms p50 / p90 / p99 / max | RFC 3550 jitter ms | event-loop delay ms p50 / p99 / max | feed messages | pages dropped | messages read |\n' +
      '|---|---|---|---|---|---|---|---|---|\n' +
      rows.join('\n') +
      '\n',
  );
  await probe.stop();
  for (const s of idle) s.destroy();
  killAll();
  await op.close();
  await server.close();
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
