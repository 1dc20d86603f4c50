/**
 * `streamlab serve` as shipped (bin/streamlab.js) in a child process, with its JSON log lines, for
 * the tests of `serve --workers N` (test/cluster/); and the port any serve child announces.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ownerOf } from '../../src/cluster/affinity.ts';
import { REPO_ROOT } from './server.ts';
import { waitUntil } from './wait.ts';

export type LogRecord = Record<string, unknown> & { msg: string };

/** One `streamlab serve` process and what it logged (JSON lines on stderr). */
export class Serve {
  readonly logs: LogRecord[] = [];
  out = '';
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    let partial = '';
    child.stdout?.on('data', (b: Buffer) => (this.out += b.toString('utf8')));
    child.stderr?.on('data', (b: Buffer) => {
      const lines = (partial + b.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        try {
          this.logs.push(JSON.parse(l) as LogRecord);
        } catch {
          // not a log line
        }
      }
    });
    this.exited = new Promise((r) => child.on('close', (code) => r(code)));
  }

  /** `env`: added to this process's environment (TMPDIR, say). Resolves once it serves. */
  static async start(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Serve> {
    const s = Serve.launch(dir, args, env);
    await waitUntil(
      () => /^streamlab serving .* on rtsps?:\/\/127\.0\.0\.1:\d+\//m.test(s.out),
      30_000,
      () => `serve started (${s.out})`,
    );
    return s;
  }

  /** The process just spawned: not yet serving. */
  static launch(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Serve {
    const child = spawn(
      process.execPath,
      [path.join(REPO_ROOT, 'bin/streamlab.js'), 'serve', dir, '--port', '0', '--host', '127.0.0.1', '--log-format', 'json', ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
    );
    return new Serve(child);
  }

  get port(): number {
    return Number(/rtsps?:\/\/127\.0\.0\.1:(\d+)\//.exec(this.out)![1]);
  }

  url(p: string): string {
    return `${/ on rtsps:/.test(this.out) ? 'rtsps' : 'rtsp'}://127.0.0.1:${this.port}/${p}`;
  }

  get http(): string {
    return /^dashboard (http:\/\/127\.0\.0\.1:\d+)\//m.exec(this.out)![1]!;
  }

  find(msg: string, fields: Record<string, unknown> = {}): LogRecord[] {
    return this.logs.filter((r) => r.msg === msg && Object.entries(fields).every(([k, v]) => r[k] === v));
  }

  async waitLog(msg: string, fields: Record<string, unknown> = {}, count = 1, timeoutMs = 20_000): Promise<LogRecord[]> {
    await waitUntil(
      () => this.find(msg, fields).length >= count,
      timeoutMs,
      () => `${count} log line(s) ${msg} ${JSON.stringify(fields)}`,
    );
    return this.find(msg, fields);
  }

  /** The pid of worker `w` now (the last one started). */
  workerPid(w: number): number {
    return this.find('worker started', { worker: w }).at(-1)!.pid as number;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null) this.child.kill(signal);
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A file name (copy of the sample) whose path worker `w` of 2 owns. */
export function nameOwnedBy(w: number): string {
  for (let i = 0; ; i++) if (ownerOf(`clip${i}.mp4`, 2) === w) return `clip${i}.mp4`;
}

/**
 * The port a `streamlab serve` child announces on stdout (`... rtsp://127.0.0.1:PORT/`). Call it
 * right after spawn, before the child writes. Rejects if the child exits first, with `detail()`
 * (its stderr, say) in the message.
 */
export function announcedPort(child: ChildProcess, detail?: () => string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const m = /rtsp:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`serve exited early with ${code}${detail ? `: ${detail()}` : ''}`)));
  });
}
