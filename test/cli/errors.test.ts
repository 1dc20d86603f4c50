/**
 * Messages (issue 9): every error is one `streamlab:` line that says what to do; commander's own
 * errors too, followed by a short usage line instead of the whole help; --log and -v on every
 * command; no "(default: [])" in help.
 */
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { userMessage } from '../../src/cli/errors.ts';
import { REPO_ROOT } from '../helpers/server.ts';

const BIN = path.join(REPO_ROOT, 'bin', 'streamlab.js');

function run(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
}

function runAsync(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stderr });
    }),
  );
}

describe('userMessage', () => {
  it('says what to do about a port in use', () => {
    const e = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:8554'), {
      code: 'EADDRINUSE',
      syscall: 'listen',
      address: '127.0.0.1',
      port: 8554,
    });
    expect(userMessage(e)).toBe('streamlab: port 8554 on 127.0.0.1 is in use: stop what listens there or choose another port with --port');
  });

  it('drops internal codes and Node error syntax, and keeps to one line', () => {
    expect(userMessage(new Error('PREP_ERR_PROBE: ffprobe x.json: Invalid data'))).toBe('streamlab: ffprobe x.json: Invalid data');
    expect(userMessage(new Error("cannot read: ENOENT: no such file or directory, open 'a/b.mp4'"))).toBe(
      'streamlab: cannot read: a/b.mp4: no such file or directory',
    );
    expect(userMessage(Object.assign(new Error("ENOENT: no such file or directory, stat 'x'"), { code: 'ENOENT', path: 'x' }))).toBe(
      'streamlab: x: no such file or folder',
    );
    expect(userMessage(new Error('invalid experiment:\n  a: bad\n  b: worse'))).toBe('streamlab: invalid experiment:; a: bad; b: worse');
    expect(userMessage("error: unknown option '--x'")).toBe("streamlab: unknown option '--x'");
    expect(userMessage(new Error('cannot connect to 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1'))).toBe(
      'streamlab: cannot connect to 127.0.0.1:1: nothing listens there (is the server running, is the port in the URL right?)',
    );
  });
});

describe('the CLI', () => {
  it('reports a bad option in one streamlab: line and a short usage line', () => {
    const r = run(['serve', 'media', '--port', 'abc']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      "streamlab: option '-p, --port <n>' argument 'abc' is invalid. expected an integer in 0..65535",
      'usage: streamlab serve [options] [dir]  (streamlab serve --help for more)',
    ]);
  });

  it('serve with a file: give the folder that holds it', () => {
    const r = run(['serve', 'media/sample.mp4']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('streamlab: media/sample.mp4 is a file; give the folder that holds it: streamlab serve media\n');
  });

  it('serve on a port in use names the port and --port', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (busy.address() as net.AddressInfo).port;
      const r = await runAsync(['serve', 'media', '--host', '127.0.0.1', '--port', String(port)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`streamlab: port ${port} on 127.0.0.1 is in use: stop what listens there or choose another port with --port\n`);
    } finally {
      busy.close();
    }
  });

  it('takes --log and -v on every command, and refuses a bad level', () => {
    for (const cmd of ['serve', 'probe', 'play', 'lab', 'netem', 'push', 'prepare']) {
      const help = run([cmd, '--help']).stdout;
      expect(help, cmd).toMatch(/--log <level>/);
      expect(help, cmd).toMatch(/-v, --verbose/);
      expect(help, cmd).not.toContain('(default: [])');
    }
    const r = run(['probe', '--log', 'loud', 'media/sample.mp4']);
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe('streamlab: --log: "loud" is not one of error, warn, info, debug');
    expect(run(['probe', '--log', 'debug', 'media/sample.mp4']).status).toBe(0);
  });
});

describe('prepare', () => {
  it('prints each failure once, without internal codes, and refuses a truncated MP4 as probe does', async () => {
    const { mkdtemp, readFile, rm, writeFile } = await import('node:fs/promises');
    const os = await import('node:os');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-prepare-msg-'));
    try {
      await writeFile(path.join(dir, 'bad.mkv'), 'not a matroska file\n');
      await writeFile(path.join(dir, 'trunc.mp4'), (await readFile(path.join(REPO_ROOT, 'media', 'sample.mp4'))).subarray(0, 300_000));
      const probe = run(['probe', path.join(dir, 'trunc.mp4')]);
      expect(probe.status).toBe(1);
      expect(probe.stderr).toBe('streamlab: mdat box ends past the end of the file\n');
      const r = run(['prepare', dir]);
      expect(r.status).toBe(1);
      const lines = r.stdout.trim().split('\n').sort();
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/bad\.mkv: FAILED ffprobe .*Invalid data found/);
      expect(lines[1]).toBe(`${path.join(dir, 'trunc.mp4')}: FAILED mdat box ends past the end of the file`);
      expect(r.stdout + r.stderr).not.toMatch(/_ERR_/);
      expect(r.stderr).toBe('streamlab: 2 of 2 file(s) failed\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
