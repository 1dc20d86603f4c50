/**
 * `streamlab push` as a user runs it: the SDP on stdout with `--sdp -` (and nothing else there),
 * or written to a file; packets at the destination; exit 0 at the end and on SIGINT after BYE;
 * readable one-line errors with exit status 1 for a bad URL, a non-IPv4 address, an odd or
 * out-of-range port, an unreadable file, and options a live source cannot take.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRtcpPackets } from '../../src/rtcp/index.ts';
import { parseSdp } from '../../src/sdp/index.ts';
import { REPO_ROOT, SAMPLE } from '../helpers/server.ts';
import { waitUntil } from '../helpers/wait.ts';
import { capture, freeEvenPorts } from './helpers.ts';

const BIN = path.join(REPO_ROOT, 'bin', 'streamlab.js');

function run(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
}

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

async function captureAll(port: number) {
  const sockets = await Promise.all([0, 1, 2, 3].map((i) => capture(port + i)));
  closers.push(...sockets.map((s) => s.close));
  return sockets;
}

describe('streamlab push', () => {
  it('prints the SDP on stdout with --sdp -, sends, and exits 0 at the end', async () => {
    const port = await freeEvenPorts(4);
    const sockets = await captureAll(port);
    const child = spawn(
      process.execPath,
      [BIN, 'push', SAMPLE, '--to', `rtp://127.0.0.1:${port}`, '--sdp', '-', '--start', '5', '--duration', '1'],
      { cwd: REPO_ROOT },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(0);
    const sdp = parseSdp(stdout);
    expect(sdp.ok).toBe(true);
    if (!sdp.ok) return;
    // stdout holds the SDP and nothing else (messages go to stderr).
    expect(stdout.startsWith('v=0\r\n')).toBe(true);
    expect(stdout.endsWith('\r\n')).toBe(true);
    expect(sdp.value.connection?.address).toBe('127.0.0.1');
    expect(sdp.value.media.map((m) => m.port)).toEqual([port, port + 2]);
    expect(stderr).toMatch(/push ended \(end of stream\): video \d+ packets to port \d+/);
    await waitUntil(() => sockets[3]!.got.length > 0, 2000, 'audio RTCP');
    expect(sockets[0]!.got.length).toBeGreaterThan(10);
    expect(sockets[2]!.got.length).toBeGreaterThan(10);
  }, 60_000);

  it('writes the SDP file and stops on SIGINT with BYE, exit 0', async () => {
    const port = await freeEvenPorts(4);
    const sockets = await captureAll(port);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-push-cli-'));
    try {
      const sdpFile = path.join(dir, 'out.sdp');
      const child = spawn(process.execPath, [BIN, 'push', SAMPLE, '--to', `rtp://127.0.0.1:${port}`, '--sdp', sdpFile, '--loop'], {
        cwd: REPO_ROOT,
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      await waitUntil(
        () => sockets[0]!.got.length > 20,
        30_000,
        () => `RTP from the push (${stderr})`,
      );
      const text = await readFile(sdpFile, 'utf8');
      expect(text).toMatch(new RegExp(`^m=video ${port} RTP/AVP 96\r$`, 'm'));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      for (const rtcp of [sockets[1]!, sockets[3]!]) {
        const last = parseRtcpPackets(rtcp.got.at(-1)!.msg);
        expect(last.ok && last.value.at(-1)).toMatchObject({ type: 'bye', reason: 'interrupted' });
      }
      expect(stderr).toMatch(/push ended \(interrupted\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it.each([
    [['--to', 'udp://127.0.0.1:5004'], /is not rtp:\/\/ADDR:PORT/],
    [['--to', 'rtp://example.com:5004'], /is not an IPv4 address/],
    [['--to', 'rtp://[::1]:5004'], /IPv6 is not supported/],
    [['--to', 'rtp://127.0.0.1:5005'], /5005 is odd/],
    [['--to', 'rtp://127.0.0.1:70000'], /outside 1024-65534/],
    [['--to', 'rtp://239.1.1.1:5004', '--ttl', '300'], /--ttl/],
    [['--to', 'rtp://239.1.1.1:5004', '--interface', 'eth0'], /--interface "eth0" is not an IPv4 address/],
    [['--to', 'rtp://127.0.0.1:5004', '--ports', '5004'], /--ports lists 1 track\(s\), the file streams 2/],
  ])('refuses %j with a readable reason', (args, reason) => {
    const r = run(['push', SAMPLE, ...args]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(reason);
    expect(r.stdout).toBe('');
  });

  it('explains an unreadable file and a live source it cannot take in one line', () => {
    const a = run(['push', path.join(REPO_ROOT, 'package.json'), '--to', 'rtp://127.0.0.1:5004']);
    expect(a.status).toBe(1);
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
    expect(a.stderr).toMatch(/^streamlab: cannot read .*package\.json: not an MP4\/MOV file$/m);
    expect(a.stderr).not.toMatch(/MEDIA_ERR/);
    const b = run(['push', 'ffmpeg:-f lavfi -i testsrc2', '--to', 'rtp://127.0.0.1:5004', '--loop']);
    expect(b.status).toBe(1);
    expect(b.stderr).toMatch(/--loop is for files, not for a live source/);
    const c = run(['push', 'ffmpeg:', '--to', 'rtp://127.0.0.1:5004']);
    expect(c.status).toBe(1);
    expect(c.stderr).toMatch(/ffmpeg: needs input arguments/);
  });
});
