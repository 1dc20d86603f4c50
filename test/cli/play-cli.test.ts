/**
 * `streamlab play` as a user runs it, against our server in-process or a TCP listener that never
 * answers: it always exits, non-zero with one `streamlab:` line when it failed, within --timeout.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeWithPeers } from '../helpers/peers.ts';
import { REPO_ROOT, startServer } from '../helpers/server.ts';

const BIN = path.join(REPO_ROOT, 'bin', 'streamlab.js');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

/** Runs the CLI without blocking this process (the server under test lives here); kills it after `killMs`. */
function runAsync(args: string[], killMs: number): Promise<Ran> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), killMs);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, wallMs: performance.now() - t0 });
    }),
  );
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** The user-facing lines of stderr (log records are JSON lines). */
function messageLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
}

it('play gives up on a server that accepts and never answers within --timeout, one line', async () => {
  const silent = net.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    silent.close();
  });
  const port = (silent.address() as net.AddressInfo).port;
  const r = await runAsync(['play', `rtsp://127.0.0.1:${port}/x`, '--null', '--timeout', '1.5'], 20_000);
  expect(r.code).toBe(1);
  // 1.5 s plus the start of node (seconds on a loaded machine); the old fixed 10 s took over 12.
  expect(r.wallMs).toBeLessThan(9000);
  const lines = messageLines(r.stderr);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^streamlab: no response to OPTIONS within 1500 ms/);
});

describeWithPeers('play after the UDP to TCP fallback', ['ffmpeg'], () => {
  it('exits non-zero within --timeout when nothing arrives over TCP either', async () => {
    const { server, url } = await startServer();
    cleanups.push(() => server.close());
    // Nothing within the time over either transport: a 30 s delay (a loss would not do over TCP,
    // which retransmits: the ingress models it so).
    const args = ['play', url(), '--null', '--duration', '20', '--impair', 'delay 30s', '--udp-fallback', '1', '--timeout', '2'];
    const r = await runAsync(args, 25_000);
    expect(r.code, r.stderr).toBe(1);
    // fallback after 1 s, then 2 s of nothing over TCP: far below --duration and the kill.
    expect(r.wallMs).toBeLessThan(12_000);
    // The impairment as understood (netem-notice.ts), then the one line of the failure.
    expect(messageLines(r.stderr)).toEqual(['--impair: netem delay 30000ms', 'streamlab: no RTP received within 2 s']);
  });
});
