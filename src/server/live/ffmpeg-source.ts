import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { locate } from '../../media/ffmpeg/locate.ts';
import { realClock } from '../../util/clock.ts';
import type { Clock } from '../../util/clock.ts';
import { createLogger } from '../../util/log.ts';
import { connectionOwnedBy } from './peer-process.ts';

export { splitArgs } from './split-args.ts';

const log = createLogger('live');

/** First restart delay after ffmpeg exits; doubled on each quick failure up to the maximum. */
export const FFMPEG_RESTART_MIN_MS = 1000;
export const FFMPEG_RESTART_MAX_MS = 30_000;
/** A run longer than this counts as healthy: the next restart starts from the minimum delay again. */
const HEALTHY_RUN_MS = 30_000;
/** stop(): ffmpeg gets this long after SIGTERM to exit before SIGKILL. */
const STOP_KILL_AFTER_MS = 3000;
/** Lines of ffmpeg's stderr kept to explain an exit. */
const STDERR_TAIL_LINES = 8;

/**
 * The ffmpeg command line of a live source: the user's input arguments, then an encoder for live
 * (H.264 zerolatency, a keyframe every second, AAC if there is audio), published to our own server
 * over RTSP interleaved in TCP: the same ingest path as any publisher. The command line is public
 * (`ps`): on Linux the URL carries no secret, the server recognizes ffmpeg's connection by its
 * process (peer-process.ts); elsewhere it carries the channel's `?key=`.
 */
export function ffmpegSourceArgs(inputArgs: string[], publishUrl: string): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    ...inputArgs,
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
    '-force_key_frames',
    'expr:gte(t,n_forced*1)',
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-f',
    'rtsp',
    '-rtsp_transport',
    'tcp',
    publishUrl,
  ];
}

/** `serve --live NAME=ffmpeg:<args>`: keeps one ffmpeg running, restarted with backoff when it dies. */
export class FfmpegLiveSource {
  private child: ChildProcess | undefined;
  private stopped = false;
  private delayMs = FFMPEG_RESTART_MIN_MS;
  private timer: NodeJS.Timeout | undefined;
  restarts = 0;

  constructor(
    readonly name: string,
    private readonly inputArgs: string[],
    private readonly publishUrl: string,
    /** Measures how long each ffmpeg run lasted (injected like every clock). */
    private readonly clock: Clock = realClock,
    /** Called when a run ends or cannot start: why, and in how many ms the next run starts. */
    private readonly onDown: (reason: string, retryInMs: number) => void = () => undefined,
  ) {}

  start(): void {
    if (this.stopped || this.child) return;
    let bin: string;
    try {
      bin = locate('ffmpeg');
    } catch (err) {
      log.error('live source needs ffmpeg', { channel: this.name, error: String(err) });
      this.onDown('ffmpeg is not installed', FFMPEG_RESTART_MAX_MS);
      return;
    }
    const started = this.clock.now();
    const child = spawn(bin, ffmpegSourceArgs(this.inputArgs, this.publishUrl), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    const tail: string[] = [];
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      for (const line of d.split('\n')) if (line.trim()) tail.push(line.trim());
      tail.splice(0, Math.max(0, tail.length - STDERR_TAIL_LINES));
    });
    child.on('error', (err) => log.warn('cannot run ffmpeg', { channel: this.name, error: String(err) }));
    child.on('close', (code, signal) => {
      this.child = undefined;
      if (this.stopped) return;
      if (this.clock.now() - started > HEALTHY_RUN_MS) this.delayMs = FFMPEG_RESTART_MIN_MS;
      log.warn('live source ffmpeg exited; restarting', { channel: this.name, code, signal, inMs: this.delayMs, stderr: tail.join(' | ') });
      this.onDown(`ffmpeg exited (${signal ?? `code ${code}`})${tail.length > 0 ? `: ${tail[tail.length - 1]}` : ''}`, this.delayMs);
      this.timer = setTimeout(() => {
        this.restarts++;
        this.start();
      }, this.delayMs);
      this.timer.unref();
      this.delayMs = Math.min(FFMPEG_RESTART_MAX_MS, this.delayMs * 2);
    });
  }

  /** The running ffmpeg's pid, if one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** True when the running ffmpeg holds the client end of this connection (Linux /proc: peer-process.ts). */
  owns(conn: { remotePort?: number | undefined; localPort?: number | undefined }): Promise<boolean> {
    const pid = this.child?.pid;
    if (pid === undefined) return Promise.resolve(false);
    return connectionOwnedBy(pid, conn.remotePort, conn.localPort);
  }

  /** Ends ffmpeg (SIGTERM, SIGKILL after STOP_KILL_AFTER_MS); resolves once it has exited. */
  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), STOP_KILL_AFTER_MS);
      child.once('close', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
