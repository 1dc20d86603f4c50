/**
 * Preparation as a user meets it, with real ffmpeg: a slow transcode whose output cannot be played
 * while it is written (MOV, because the file has G.711 audio, which TS does not carry; transcodes to
 * MP4 are played while they run, see prepare-growing.test.ts) makes DESCRIBE answer 503 with
 * Retry-After until it is done, then 200; a restarted server finds the prepared file without
 * running ffmpeg; a changed source (mtime) is prepared again; `streamlab prepare` does the same
 * work ahead of time, says what it did per file and fails with status 1 when a file fails.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Preparer } from '../../src/media/prepare/index.ts';
import type { RtspServer } from '../../src/server/index.ts';
import { VP8_FAST, ffmpegMake, lavfiTestInputs } from '../helpers/ffmpeg.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { announcedPort } from '../helpers/serve-cli.ts';
import { runProgram } from '../helpers/run-program.ts';
import { REPO_ROOT, startServer } from '../helpers/server.ts';
import { sleep } from '../helpers/wait.ts';

const BIN = path.join(REPO_ROOT, 'bin', 'streamlab.js');

describeWithPeers('preparation: 503 while running, cache reuse, streamlab prepare', ['ffmpeg', 'ffprobe'], () => {
  let dir: string;
  let cacheDir: string;
  const servers: RtspServer[] = [];

  const make = (name: string, args: string[]) => ffmpegMake(path.join(dir, name), args);

  /**
   * A server whose preparer transcodes with x264 `medium`: slow enough to outlast a 200 ms wait
   * (the default here); `prepareWaitMs` longer where only finding the cached file is waited for.
   */
  async function serve(prepareWaitMs = 200): Promise<{ preparer: Preparer; url: string }> {
    const preparer = new Preparer({ cacheDir, options: { x264Preset: 'medium' } });
    const { server, url } = await startServer({ mediaDir: dir, preparer, prepareWaitMs });
    servers.push(server);
    return { preparer, url: url('slow.mkv') };
  }

  /** DESCRIBE until 200; the statuses and Retry-After values seen on the way. */
  async function describeUntilReady(url: string): Promise<{ statuses: number[]; retryAfter: string[]; sdp: string }> {
    const client = await RtspTestClient.connect(url);
    const statuses: number[] = [];
    const retryAfter: string[] = [];
    try {
      for (let i = 0; i < 240; i++) {
        const { response, sdp } = await client.describe(url);
        statuses.push(response.statusCode);
        if (response.statusCode === 200) return { statuses, retryAfter, sdp };
        retryAfter.push(response.headers.get('Retry-After') ?? '');
        await sleep(250);
      }
      throw new Error(`still not ready: ${statuses.join(' ')}`);
    } finally {
      client.close();
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-prepare-'));
    cacheDir = path.join(dir, '.streamlab-cache');
    await make('slow.mkv', [
      ...lavfiTestInputs({ size: '640x360', seconds: 8, frequency: 300 }),
      ...VP8_FAST,
      '-b:v',
      '1M',
      '-c:a',
      'pcm_mulaw',
      '-ar',
      '8000',
      '-ac',
      '1',
    ]);
  }, 120_000);

  afterAll(async () => {
    for (const s of servers) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('DESCRIBE answers 503 + Retry-After while the transcode runs, then 200 with the prepared tracks', async () => {
    const { preparer, url } = await serve();
    const r = await describeUntilReady(url);
    expect(r.statuses[0]).toBe(503);
    expect(r.statuses.at(-1)).toBe(200);
    for (const v of r.retryAfter) expect(Number(v)).toBeGreaterThanOrEqual(1);
    expect(r.sdp).toMatch(/a=rtpmap:96 H264\/90000/);
    expect(r.sdp).toMatch(/a=rtpmap:0 PCMU\/8000/);
    expect(r.sdp).toMatch(/a=range:npt=0-8\.0/);
    expect(preparer.stats).toMatchObject({ ffmpegRuns: 1, reused: 0, failed: 0 });
    // The temporary file was renamed into place: only the prepared file and its manifest remain.
    expect((await readdir(cacheDir)).sort()).toEqual([
      expect.stringMatching(/^[0-9a-f]{20}\.json$/),
      expect.stringMatching(/^slow\.mkv-[0-9a-f]{20}\.mov$/),
    ]);
  });

  it('a restarted server serves the prepared file at once, without running ffmpeg', async () => {
    // Finding and checking the cached output takes an ffprobe: on a loaded machine more than
    // 200 ms. "At once" is the first DESCRIBE's answer (no 503), within a 5 s wait.
    const { preparer, url } = await serve(5000);
    const r = await describeUntilReady(url);
    expect(r.statuses).toEqual([200]);
    expect(preparer.stats).toMatchObject({ ffmpegRuns: 0, reused: 1 });
  });

  it('a source with a new mtime is prepared again', async () => {
    const later = new Date(Date.now() + 60_000);
    await utimes(path.join(dir, 'slow.mkv'), later, later);
    const { preparer, url } = await serve();
    const r = await describeUntilReady(url);
    expect(r.statuses.at(-1)).toBe(200);
    expect(preparer.stats).toMatchObject({ ffmpegRuns: 1, reused: 0 });
    expect((await readdir(cacheDir)).filter((f) => f.endsWith('.json'))).toHaveLength(2);
  });

  it('streamlab prepare <dir>: one line per file, status 1 when one fails, then everything reused', async () => {
    const media = await mkdtemp(path.join(dir, 'cli-'));
    const cache = path.join(dir, 'cli-cache');
    const gen = (name: string, args: string[]) => ffmpegMake(path.join(media, name), args, 60_000);
    await gen('a.mkv', ['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=10:duration=1', '-c:v', 'libx264']);
    await gen('b.wav', ['-f', 'lavfi', '-i', 'sine=sample_rate=8000:duration=1', '-c:a', 'pcm_alaw']);
    await gen('c.mp4', ['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=10:duration=1', '-c:v', 'libx264']);
    await writeFile(path.join(media, 'd.avi'), 'not a video at all');
    await writeFile(path.join(media, 'notes.txt'), 'not looked at');

    const first = await runProgram(process.execPath, [BIN, 'prepare', media, '--cache-dir', cache], 120_000);
    expect(first.code, first.stderr).toBe(1);
    const lines = first.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/a\.mkv: remux \[h264\] → .*cli-cache\/a\.mkv-[0-9a-f]{20}\.mp4 \(\d+\.\d s\)$/);
    expect(lines[1]).toMatch(/b\.wav: remux \[pcm_alaw\] → .*\.mov \(\d+\.\d s\)$/);
    expect(lines[2]).toMatch(/c\.mp4: MP4\/MOV, served as it is$/);
    expect(lines[3]).toMatch(/d\.avi: FAILED ffprobe /);
    expect(first.stdout + first.stderr).not.toMatch(/PREP_ERR/);
    expect(first.stderr).toBe('streamlab: 1 of 4 file(s) failed\n'); // the failure is printed once, on stdout
    expect(first.stderr).toMatch(/1 of 4 file\(s\) failed/);

    await rm(path.join(media, 'd.avi'));
    const again = await runProgram(process.execPath, [BIN, 'prepare', media, '--cache-dir', cache], 120_000);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/a\.mkv: already prepared \(remux\)/);
    expect(again.stdout).toMatch(/b\.wav: already prepared \(remux\)/);

    // And `streamlab serve --cache-dir` (another process) serves them without preparing again.
    const before = (await readdir(cache)).sort();
    const child = spawn(
      process.execPath,
      [BIN, 'serve', media, '--host', '127.0.0.1', '--port', '0', '--cache-dir', cache, '--prepare-wait', '10'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const port = await announcedPort(child);
      const url = `rtsp://127.0.0.1:${port}/b.wav`;
      const client = await RtspTestClient.connect(url);
      try {
        const { response, sdp } = await client.describe(url);
        expect(response.statusCode).toBe(200);
        expect(sdp).toMatch(/m=audio 0 RTP\/AVP 8\r\n/);
        expect(sdp).toMatch(/a=rtpmap:8 PCMA\/8000/);
        expect(sdp).toMatch(/a=range:npt=0-1\.000/);
      } finally {
        client.close();
      }
      expect((await readdir(cache)).sort()).toEqual(before);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
