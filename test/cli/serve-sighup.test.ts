/**
 * SIGHUP to `streamlab serve` (a closed terminal, `kill -HUP`) stops it like SIGTERM: with a client
 * playing, an `ffmpeg:` live source running and a transcode under way, the client gets its RTCP
 * BYE, every ffmpeg child has exited, and the server exits 0. Before, node's default action ended
 * the process at once (status 129, no BYE) and left the transcoding ffmpeg writing.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RtcpPacket } from '../../src/rtcp/index.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { expectSuccess, runProgram } from '../helpers/run-program.ts';
import { announcedPort } from '../helpers/serve-cli.ts';
import { REPO_ROOT, SAMPLE } from '../helpers/server.ts';
import { waitUntil } from '../helpers/wait.ts';

const BIN = path.join(REPO_ROOT, 'bin', 'streamlab.js');

/** Direct children of `pid` with their command lines (from /proc). */
async function childrenOf(pid: number): Promise<{ pid: number; cmdline: string }[]> {
  const out: { pid: number; cmdline: string }[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== pid) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    out.push({ pid: Number(name), cmdline: cmdline.split('\0').join(' ') });
  }
  return out;
}

function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

describeWithPeers('streamlab serve on SIGHUP', ['ffmpeg', 'ffprobe'], () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-sighup-'));
    await copyFile(SAMPLE, path.join(dir, 'sample.mp4'));
    // Motion JPEG: quick to write, transcoded to H.264 (a preparation that runs for many seconds).
    const r = await runProgram(
      'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=1280x720:rate=25:duration=60',
        '-c:v',
        'mjpeg',
        '-q:v',
        '8',
        path.join(dir, 'slow.avi'),
      ],
      120_000,
    );
    expectSuccess(r, 'making slow.avi');
  }, 180_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('sends BYE, ends every ffmpeg child and exits 0', { timeout: 120_000 }, async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'serve', dir, '--host', '127.0.0.1', '--port', '0', '--live', 'cam=ffmpeg:-re -f lavfi -i testsrc2=size=320x240:rate=25'],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const client: RtspTestClient[] = [];
    try {
      const port = await announcedPort(child, () => stderr);
      const url = (p: string) => `rtsp://127.0.0.1:${port}/${p}`;

      // A client playing the sample over TCP interleaved.
      const viewer = await RtspTestClient.connect(url('sample.mp4'));
      client.push(viewer);
      const base = (await viewer.describe(url('sample.mp4'))).response.headers.get('Content-Base')!;
      const tracks = [(await viewer.setup(`${base}trackID=1`, 'tcp')).track, (await viewer.setup(`${base}trackID=2`, 'tcp')).track];
      expect((await viewer.play(url('sample.mp4'))).response.statusCode).toBe(200);
      await tracks[0]!.waitForPackets(20);

      // A transcode under way (DESCRIBE starts it; the answer does not matter here).
      const asker = await RtspTestClient.connect(url('slow.avi'));
      client.push(asker);
      void asker.describe(url('slow.avi')).catch(() => undefined);

      // Both ffmpeg children are running: the live source and the preparation.
      let ffmpegs: { pid: number; cmdline: string }[] = [];
      const preparing = (c: { cmdline: string }) => /slow\.avi/.test(c.cmdline) && !/ffprobe/.test(c.cmdline);
      const live = (c: { cmdline: string }) => /testsrc2/.test(c.cmdline);
      for (let i = 0; i < 300 && !(ffmpegs.some(preparing) && ffmpegs.some(live)); i++) {
        await new Promise((r) => setTimeout(r, 100));
        ffmpegs = (await childrenOf(child.pid!)).filter((c) => /ffmpeg/.test(c.cmdline));
      }
      const seen = ffmpegs.map((c) => c.cmdline).join('\n');
      expect(ffmpegs.some(preparing), seen).toBe(true);
      expect(ffmpegs.some(live), seen).toBe(true);

      child.kill('SIGHUP');
      expect(await exited, stderr).toEqual({ code: 0, signal: null });
      const byes = (t: (typeof tracks)[number]) => t.rtcp.filter((p: RtcpPacket) => p.type === 'bye');
      await waitUntil(() => tracks.every((t) => byes(t).length === 1), 5000, 'a BYE on both tracks');
      await waitUntil(() => viewer.isClosed, 5000, 'the viewer connection closed');
      for (const f of ffmpegs) expect(exists(f.pid), `ffmpeg ${f.pid} still there: ${f.cmdline}`).toBe(false);
    } finally {
      for (const c of client) c.close();
      child.kill('SIGKILL');
    }
  });
});
