/**
 * `streamlab play` as a user runs it: exit status and one-line reasons, TEARDOWN on SIGINT, a
 * session kept alive past a short server timeout, and the live status line on a terminal (through
 * `script`, which gives the child a pty) versus quiet output in a pipe.
 */
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { peersRequired } from '../helpers/peers.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { REPO_ROOT, startServer } from '../helpers/server.ts';
import { waitUntil } from '../helpers/wait.ts';
import { FakeRtspServer } from '../helpers/fake-rtsp-server.ts';
import { play } from './helpers.ts';
import { BIN, runCli } from './recording.ts';

describe('streamlab play (CLI)', () => {
  const { server, url } = serverForSuite();

  it('exits 1 with a one-line reason on failures', async () => {
    const [missing, refused, badFlag, badImpair] = await Promise.all([
      runCli(['play', url('nope.mp4'), '--null']),
      runCli(['play', 'rtsp://127.0.0.1:1/x', '--null']),
      runCli(['play', url(), '--jitter-buffer', 'soon']),
      runCli(['play', url(), '--impair', 'loss']),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^streamlab: DESCRIBE rtsp:\/\/127\.0\.0\.1:\d+\/nope\.mp4: 404 Not Found\n$/);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^streamlab: cannot connect to 127\.0\.0\.1:1: nothing listens there \(is the server running, is the port in the URL right\?\)\n$/,
    );
    expect(badFlag.code).not.toBe(0);
    expect(badFlag.stderr).toContain('--jitter-buffer');
    expect(badImpair.code).toBe(1);
    expect(badImpair.stderr).toMatch(/^streamlab: --impair: /);
    for (const r of [missing, refused, badImpair]) expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 1 when the server stops sending', async () => {
    const fake = await FakeRtspServer.start({ stopAfterFrames: 20 });
    try {
      const r = await runCli(['play', fake.url(), '--null', '--timeout', '1.5']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('streamlab: the server stopped sending (nothing for 1.5 s)\n');
      expect(fake.methods().at(-1)).toBe('TEARDOWN');
    } finally {
      await fake.close();
    }
  });

  it('tears the session down on SIGINT and exits 0', async () => {
    const child = spawn(process.execPath, [BIN, 'play', url(), '--null'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitUntil(() => server.snapshot().sessions.some((s) => s.state === 'playing'), 15_000, 'a playing session');
      await new Promise((r) => setTimeout(r, 1500));
      const teardownsBefore = server.snapshot().sessions.length;
      expect(teardownsBefore).toBe(1);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      // TEARDOWN, not a timeout: the session is gone at once.
      expect(server.snapshot().sessions).toEqual([]);
      expect(out).toMatch(/track 0 video h264: \d+ packets/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('keeps a session alive past a 2 s server timeout for 10 s', async () => {
    const { server: short, url: shortUrl } = await startServer({ sessionTimeoutSec: 2 });
    try {
      const closed: string[] = [];
      short.events.on('session-closed', (e) => closed.push(e.reason));
      const r = await play(shortUrl(), { durationSec: 10, transport: 'tcp' });
      expect(r.end).toEqual({ ok: true, reason: 'duration' });
      expect(r.session.requests.GET_PARAMETER).toBeGreaterThanOrEqual(9);
      expect(r.session.counters.keepAliveFailures).toBe(0);
      expect(closed).toEqual(['teardown']);
      expect(short.snapshot().counters.sessionsExpired).toBe(0);
      expect(r.units[0]).toBeGreaterThan(200);
    } finally {
      await short.close();
    }
  }, 30_000);

  // `script` (util-linux) makes the pty; CI requires it like any other peer.
  it.runIf(spawnSync('script', ['--version']).status === 0 || peersRequired())(
    'shows one refreshing status line on a terminal',
    async () => {
      // 200 columns: the full line fits (narrower terminals get shorter forms, status-line.test.ts).
      const cmd = `stty cols 200 rows 40; ${process.execPath} ${BIN} play ${url()} --null --duration 3.5`;
      const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const c = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        c.stdout.on('data', (d) => (out += d));
        c.on('exit', (code) => resolve({ code, out }));
      });
      expect(r.code).toBe(0);
      const refreshes = r.out.split('\r\x1b[2K').slice(1);
      expect(refreshes.length).toBeGreaterThanOrEqual(3);
      // RTT appears once the server answered an RRTR with a DLRR (RFC 3611; xr-rtt.test.ts).
      expect(refreshes[1]).toMatch(
        /^[\d.]+ s udp \| v: \d+ kb\/s \d+ pkts lost 0 late 0 jitter [\d.]+ ms buf \d+\/\d+ ms( rtt [\d.]+ ms)? \| a: /,
      );
    },
  );
});
