/**
 * Runs an external program (ffmpeg, ffprobe, gst-launch-1.0) asynchronously, so several can run
 * at once against one server, with a hard timeout. Only the child we started is ever killed, by
 * its own pid.
 */

import { spawn } from 'node:child_process';
import { TestRunner, onTestFinished } from 'vitest';

export interface ProgramResult {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  wallMs: number;
}

export interface RunOptions {
  /**
   * Kill the child (SIGKILL, by its pid) when the test that started it ends while it still runs,
   * e.g. a publisher left behind by a failed assertion. Ignored outside a test (in a hook) and in
   * concurrent tests: there the timeout alone bounds the child.
   */
  killOnTestEnd?: boolean;
}

export function runProgram(bin: string, args: readonly string[], timeoutMs: number, opts: RunOptions = {}): Promise<ProgramResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // Only in a test that runs alone: beside concurrent tests, the current test may be another one.
    const test = opts.killOnTestEnd ? TestRunner.getCurrentTest() : undefined;
    if (test && !test.concurrent) {
      onTestFinished(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
        wallMs: performance.now() - started,
      });
    });
  });
}

/** Throws with the program's stderr tail when it did not exit 0. */
export function expectSuccess(r: ProgramResult, what: string): void {
  if (r.code === 0 && !r.timedOut) return;
  const tail = r.stderr.split('\n').slice(-25).join('\n');
  throw new Error(`${what} failed (code ${r.code}, signal ${r.signal}, timedOut ${r.timedOut}):\n${tail}`);
}

/**
 * An ffmpeg client's stderr without its client-port probing: ffmpeg picks its UDP ports by trying
 * binds, and a port another test's process holds logs "bind failed: Address already in use"
 * before ffmpeg goes on with the next pair. Everything else is kept.
 */
export function ffmpegErrors(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => !/^\[udp @ 0x[0-9a-f]+\] bind failed: Address already in use$/.test(l.trim()))
    .join('\n')
    .trim();
}
