/**
 * Ctrl-C in `streamlab lab` (issue 9): the terminal's SIGINT goes to the whole foreground process
 * group. The CLI runs here in a group of its own and the group gets the SIGINT, as a terminal
 * sends it. Before, the ffmpeg children died of it first and the lab crashed (exit 1, no report).
 * Now: the runs finished are reported (results.json, index.html), exit status 130.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeWithPeers } from '../helpers/peers.ts';
import { REPO_ROOT } from '../helpers/server.ts';

const out = mkdtempSync(path.join(os.tmpdir(), 'streamlab-lab-sigint-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describeWithPeers('lab and Ctrl-C', ['ffmpeg', 'ffprobe'], () => {
  it('SIGINT to the process group: the finished runs are reported, exit 130', { timeout: 120_000 }, async () => {
    const dir = path.join(out, 'r');
    // Real time with picture quality (the default): ffmpeg records every run.
    const args = ['lab', '--realtime', '--duration', '3', '--runs', '4', '--netem', 'loss random 1%', '--out', dir];
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'streamlab.js'), ...args], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const killer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 110_000);
    try {
      // Wait for one finished run (results.json is rewritten after each), then Ctrl-C mid-run.
      const t0 = Date.now();
      for (;;) {
        await new Promise((r) => setTimeout(r, 300));
        const file = path.join(dir, 'results.json');
        if (existsSync(file)) {
          try {
            if ((JSON.parse(readFileSync(file, 'utf8')) as { finished: number }).finished >= 1) break;
          } catch {
            // being rewritten
          }
        }
        if (Date.now() - t0 > 90_000) throw new Error(`no run finished: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 1500)); // into the second run: its ffmpeg is recording
      process.kill(-child.pid!, 'SIGINT');
      expect(await exited, `${stdout}\n${stderr}`).toBe(130);
    } finally {
      clearTimeout(killer);
    }
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(stderr).not.toMatch(/ffmpeg failed/);
    const json = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as {
      complete: boolean;
      stoppedBy?: string;
      runs: { status: string }[];
    };
    expect(json.complete).toBe(false);
    expect(json.stoppedBy).toBe('stop request');
    expect(json.runs.length).toBeGreaterThanOrEqual(1);
    expect(json.runs.length).toBeLessThan(4);
    expect(json.runs.every((r) => r.status === 'ok')).toBe(true);
    expect(existsSync(path.join(dir, 'index.html'))).toBe(true);
    expect(stdout).toMatch(/runs \(0 failed\), stopped early; results in /);
  });
});
