/**
 * The `streamlab` executable as a user runs it: probe prints tracks and SDP, serve listens and
 * answers, stops cleanly on SIGTERM, and bad arguments give a one-line reason and exit status 1.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSdp } from '../../src/sdp/index.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RawConnection } from '../helpers/raw-connection.ts';
import { announcedPort } from '../helpers/serve-cli.ts';
import { REPO_ROOT, SAMPLE } from '../helpers/server.ts';

const BIN = path.join(REPO_ROOT, 'bin', 'streamlab.js');

function run(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
}

describe('streamlab probe', () => {
  it('lists the tracks and prints the SDP the server would send', () => {
    const r = run(['probe', SAMPLE]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/track 1: video h264 640x360, 500 samples, 20\.000 s -> trackID=1, payload type 96, H264\/90000/);
    expect(r.stdout).toMatch(/track 2: audio aac 48000 Hz 2 ch, 939 samples/);
    const sdp = parseSdp(r.stdout.slice(r.stdout.indexOf('v=0')));
    expect(sdp.ok).toBe(true);
    if (sdp.ok) expect(sdp.value.media.map((m) => m.type)).toEqual(['video', 'audio']);
  });

  it('names the send grid and the send lattice', () => {
    expect(run(['probe', SAMPLE]).stdout).toMatch(
      /^.*sample\.mp4: 20\.000 s, 2 track\(s\), send grid 2\.667 ms, send lattice 21\.333 ms \(trackID=2\)$/m,
    );
    const json = JSON.parse(run(['probe', '--json', SAMPLE]).stdout);
    expect(json.sendGridMs).toBeCloseTo(8 / 3, 9);
    expect(json.sendLattice).toMatchObject({ control: 'trackID=2', phaseMs: 0 });
    expect(json.sendLattice.periodMs).toBeCloseTo(64 / 3, 9);
  });

  it('stops quietly when its reader has gone (`| head`)', async () => {
    const child = spawn(process.execPath, [BIN, 'probe', SAMPLE], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    // The read end closed before the first line: every write meets EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('gives JSON with --json', () => {
    const r = run(['probe', '--json', SAMPLE]);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.durationSec).toBeCloseTo(20, 3);
    expect(j.tracks.map((t: { codec: string }) => t.codec)).toEqual(['h264', 'aac']);
  });

  it('explains a file it cannot read in one line', () => {
    const r = run(['probe', path.join(REPO_ROOT, 'package.json')]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    // Not MP4: ffprobe is asked next, and it cannot read JSON either.
    expect(r.stderr).toMatch(/^streamlab: ffprobe .*package\.json/);
    expect(r.stderr).not.toMatch(/PREP_ERR/);
  });
});

describeWithPeers('streamlab probe on a file that is not MP4', ['ffmpeg', 'ffprobe'], () => {
  it('shows what ffprobe sees and what preparation would do, per stream', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-probe-'));
    try {
      const webm = path.join(dir, 'clip.webm');
      const made = spawnSync('ffmpeg', [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=160x120:rate=25',
        '-f',
        'lavfi',
        '-i',
        'sine',
        '-t',
        '1',
        '-c:v',
        'libvpx-vp9',
        '-c:a',
        'libopus',
        webm,
      ]);
      expect(made.status, String(made.stderr)).toBe(0);
      const r = run(['probe', webm]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/stream 0: video vp9 -> transcoded to h264/);
      expect(r.stdout).toMatch(/stream 1: audio opus -> copied \(opus\)/);
      expect(r.stdout).toMatch(/preparation: transcode into MP4/);
      const j = JSON.parse(run(['probe', '--json', webm]).stdout);
      expect(j.plan).toMatchObject({ ok: true, route: 'mp4', summary: 'transcode' });
      expect(j.probe.streams.map((x: { codec: string }) => x.codec)).toEqual(['vp9', 'opus']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('streamlab serve', () => {
  it('refuses a missing directory and a bad option with a readable reason', () => {
    const a = run(['serve', '/nonexistent-dir']);
    expect(a.status).toBe(1);
    expect(a.stderr).toContain('does not exist');
    const b = run(['serve', 'media', '--port', 'abc']);
    expect(b.status).not.toBe(0);
    expect(b.stderr).toContain('--port');
    const c = run(['serve', 'media', '--log', 'loud']);
    expect(c.status).not.toBe(0);
    expect(c.stderr).toContain('Allowed choices');
  });

  it('serves the media directory and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', 'media', '--host', '127.0.0.1', '--port', '0'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const port = await announcedPort(child);
      const c = await RawConnection.open(port);
      const res = await c.request('DESCRIBE', `rtsp://127.0.0.1:${port}/sample.mp4`, { CSeq: '1' });
      expect(res.statusCode).toBe(200);
      c.close();
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
