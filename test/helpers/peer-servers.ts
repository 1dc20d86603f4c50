/**
 * Third-party RTSP servers for receiver interop tests, each started on 127.0.0.1 with a free port
 * and stopped by its own pid (never by name):
 * - GStreamer's gst-rtsp-server through test/peers/gst-rtsp-server.py (UDP and interleaved TCP);
 * - VLC's RTSP server (`cvlc FILE --sout '#rtp{sdp=rtsp://...}'`), UDP only, run as the non-root
 *   user `streamlab-vlc` (VLC refuses root) through setpriv, which execs cvlc itself, so the pid we
 *   hold is VLC's. VLC streams from its launch, like a live source: clients join mid-stream.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFile, chmod, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './server.ts';
import { sleep } from './wait.ts';

export const VLC_USER = 'streamlab-vlc';

/** setpriv's arguments that run `cvlc --intf dummy ...args` as VLC_USER (spawn 'setpriv' with them). */
export function cvlcAsVlcUser(args: readonly string[]): string[] {
  return [`--reuid=${VLC_USER}`, `--regid=${VLC_USER}`, '--init-groups', '--', 'cvlc', '--intf', 'dummy', ...args];
}

export interface PeerServer {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
  /** stderr of the server, for failure messages. */
  log(): string;
}

function stopper(child: ChildProcess, cleanup?: () => Promise<void>): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    await cleanup?.();
  };
}

export async function startGstRtspServer(file: string, mount = '/sample.mp4', extra: readonly string[] = []): Promise<PeerServer> {
  return startGstRtspServerWith(['--file', file, ...extra], mount);
}

/**
 * GStreamer's RTSP server with any launch line, e.g.
 * `( audiotestsrc num-buffers=250 ! mulawenc ! rtppcmupay name=pay0 )`.
 */
export function startGstRtspLaunch(launch: string, mount = '/test'): Promise<PeerServer> {
  return startGstRtspServerWith(['--launch', launch], mount);
}

async function startGstRtspServerWith(source: string[], mount: string): Promise<PeerServer> {
  const child = spawn(
    '/usr/bin/python3',
    [path.join(REPO_ROOT, 'test/peers/gst-rtsp-server.py'), '--port', '0', '--mount', mount, ...source, '--exit-on-stdin-eof'],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /READY (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`gst-rtsp-server.py exited with ${code}: ${err}`)));
  });
  return { url: `rtsp://127.0.0.1:${port}${mount}`, child, stop: stopper(child), log: () => err };
}

/** True when the VLC user exists (created by .ci/install-deps) and cvlc answers. */
export function vlcAvailable(): boolean {
  const id = spawnSync('id', ['-u', VLC_USER], { encoding: 'utf8' });
  if (id.status !== 0) return false;
  return (
    spawnSync('cvlc', ['--version'], { stdio: 'ignore', env: { ...process.env, HOME: `/home/${VLC_USER}` }, uid: Number(id.stdout.trim()) })
      .status === 0
  );
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Resolves once something accepts TCP connections on the port. */
async function waitForListen(port: number, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listening on ${port} after ${timeoutMs} ms`);
}

export async function startVlcRtspServer(file: string): Promise<PeerServer> {
  // VLC runs as another user: give it a world-readable copy in a world-readable directory.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-vlc-'));
  await chmod(dir, 0o755);
  const copy = path.join(dir, path.basename(file));
  await copyFile(file, copy);
  await chmod(copy, 0o644);
  const port = await freePort();
  const child = spawn('setpriv', cvlcAsVlcUser(['--no-loop', copy, '--sout', `#rtp{sdp=rtsp://127.0.0.1:${port}/sample}`]), {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, HOME: `/home/${VLC_USER}` },
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    await waitForListen(port, 15_000, child);
  } catch (e) {
    await stopper(child, cleanup)();
    throw new Error(`VLC did not start: ${String(e)}\n${err}`);
  }
  return { url: `rtsp://127.0.0.1:${port}/sample`, child, stop: stopper(child, cleanup), log: () => err };
}
