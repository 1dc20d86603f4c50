/**
 * What a run with thousands of clients needs of the bench process itself (bench/README.md, "Many
 * sessions"): file descriptors (each UDP client holds a TCP connection and two UDP port pairs), and
 * the bench's own CPU, since every client receives in this process and can become the bottleneck.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';

/** File descriptors one load client holds: the RTSP connection, and RTP + RTCP per track (two tracks). */
export const FDS_PER_UDP_CLIENT = 5;
/** Descriptors the bench needs besides its clients (node itself, IPC, /proc reads). */
const FD_HEADROOM = 64;

/** The soft limit on open files of this process (`ulimit -n`), from /proc/self/limits; undefined off Linux. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    if (!m) return undefined;
    return m[1] === 'unlimited' ? Infinity : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** An error message when `clients` load clients cannot all hold their sockets under `ulimit -n`. */
export function fdBudgetError(clients: number, limit = openFileLimit()): string | undefined {
  if (limit === undefined) return undefined;
  const need = clients * FDS_PER_UDP_CLIENT + FD_HEADROOM;
  if (need <= limit) return undefined;
  return `${clients} clients need about ${need} file descriptors in the bench process (${FDS_PER_UDP_CLIENT} each), but ulimit -n is ${limit}: raise it (ulimit -n ${need}) or run fewer clients`;
}

/** CPU of this process (the bench and its clients) between two calls, % of one core. */
export class SelfCpu {
  private cpu = process.cpuUsage();
  private at = performance.now();

  /** % of one core since the last call (or construction), and restarts. */
  lap(): number {
    const d = process.cpuUsage(this.cpu);
    const now = performance.now();
    const pct = (100 * (d.user + d.system)) / 1000 / Math.max(1, now - this.at);
    this.cpu = process.cpuUsage();
    this.at = now;
    return pct;
  }
}

/**
 * `--media low-rate`: the sample made long and light for many sessions (bench/README.md, "Many
 * sessions"): 300 s (the sample is 20 s: a ramp of 2,000 clients and a hold must fit in it),
 * H.264 320x180 at 10 fps (~60 kbit/s) and AAC mono 24 kHz, about 34 RTP packets/s per session
 * against the sample's ~240. Made once by ffmpeg into .cache/bench-media/.
 */
export function lowRateMedia(repoRoot: string): string {
  const out = path.join(repoRoot, '.cache/bench-media/low-rate-300s.mp4');
  if (existsSync(out)) return out;
  mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp.mp4`;
  // prettier-ignore
  execFileSync('ffmpeg', [
    '-v', 'error', '-y', '-stream_loop', '15', '-i', path.join(repoRoot, 'media/sample.mp4'), '-t', '300',
    '-vf', 'scale=320:180,fps=10', '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '60k', '-maxrate', '80k',
    '-bufsize', '160k', '-g', '20', '-bf', '0', '-c:a', 'aac', '-ac', '1', '-ar', '24000', '-b:a', '24k',
    '-movflags', '+faststart', tmp,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  renameSync(tmp, out);
  return out;
}
