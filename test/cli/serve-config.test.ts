/**
 * Issue 12, `streamlab serve --config FILE` and `streamlab config check FILE` as a user runs them
 * (bin/streamlab.js): the check prints one line per mistake and exits 1, or a summary and exits 0;
 * the example file passes; serve takes the file's settings, the flags given on the command line
 * win over them (port, log format), the media files and rule paths are listed at start, and a
 * refusal is one log line (text by the file, JSON when --log-format json overrides it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawConnection } from '../helpers/raw-connection.ts';
import { MEDIA_DIR, REPO_ROOT } from '../helpers/server.ts';
import { waitUntil } from '../helpers/wait.ts';

const BIN = path.join(REPO_ROOT, 'bin', 'streamlab.js');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-config-'));
  // Port 1 would need privileges: the command line's --port 0 must win for the server to start.
  await writeFile(
    path.join(dir, 'good.yml'),
    `port: 1\nhost: 127.0.0.1\nlogFormat: text\nmedia: ${MEDIA_DIR}\npaths:\n  studio/cam1:\n    publish: any\n`,
  );
  await writeFile(path.join(dir, 'bad.yml'), 'port: eighty\nmaxSesions: 5\npaths:\n  cam:\n    source: camera\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, STREAMLAB_LOG: '' },
  });
}

describe('streamlab config check', () => {
  it('a good file: exit 0 and what it sets', () => {
    const r = run(['config', 'check', path.join(dir, 'good.yml')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('ok: 3 settings (port, host, logFormat)');
    expect(r.stdout).toContain('studio/cam1: publisher; read as --auth; publish anyone');
  });

  it('the example media/streamlab.example.yml: exit 0', () => {
    const r = run(['config', 'check', path.join(REPO_ROOT, 'media', 'streamlab.example.yml')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/: ok: \d+ settings .*, \d+ path rules\n/);
    expect(r.stdout).toContain('  lobby: loop; read as --auth; publish no; netem ');
  });

  it('a bad file: one line per mistake with its line number, then the count; exit 1', () => {
    const file = path.join(dir, 'bad.yml');
    const r = run(['config', 'check', file]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `streamlab: ${file}:1: port: expected an integer in 0..65535 (as --port), got "eighty"`,
      `streamlab: ${file}:2: maxSesions: unknown setting; expected one of serve's flags, media or paths (did you mean maxSessions?)`,
      `streamlab: ${file}:5: paths.cam.source: expected publisher, rtsp://ORIGIN/PATH, or a map with one of file:, folder:, loop:, ffmpeg:, got "camera"`,
      `streamlab: ${file}: 3 mistakes`,
    ]);
  });

  it('serve --config with a bad file stops before listening, with the same lines', () => {
    const r = run(['serve', '--config', path.join(dir, 'bad.yml')]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(3);
    expect(r.stdout).toBe('');
  });
});

async function serve(extra: string[]) {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', path.join(dir, 'good.yml'), '--port', '0', ...extra], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, STREAMLAB_LOG: '' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  await waitUntil(
    () => (/publish here/.test(out) && /\/sample\.mp4\n/.test(out)) || child.exitCode !== null,
    20_000,
    () => `serve to start: ${out} ${err}`,
  );
  const port = Number(/rtsp:\/\/127\.0\.0\.1:(\d+)\//.exec(out)?.[1]);
  const c = await RawConnection.open(port);
  const res = await c.request('DESCRIBE', `rtsp://127.0.0.1:${port}/nope.mp4`, { CSeq: '1' });
  c.close();
  expect(res.statusCode).toBe(404);
  await waitUntil(
    () => /request refused.*nope\.mp4/.test(err),
    5000,
    () => `the refusal line: ${err}`,
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  return { port, out, err };
}

describe('streamlab serve --config', () => {
  it('the file sets the log format and rules, --port on the command line wins; URLs listed at start', async () => {
    const { port, out, err } = await serve([]);
    expect(port).toBeGreaterThan(1024);
    expect(out).toContain(`  rtsp://127.0.0.1:${port}/sample.mp4\n`);
    expect(out).toContain(`path rtsp://127.0.0.1:${port}/studio/cam1  (publish here)\n`);
    // The file's logFormat: text (stderr is not a terminal here: json otherwise).
    expect(err).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}rtsp {4}request refused {2}client=127\.0\.0\.1 method=DESCRIBE .*status=404/m);
  });

  it('--log-format json on the command line overrides the file: one JSON object per line', async () => {
    const { err } = await serve(['--log-format', 'json']);
    const line = err.split('\n').find((l) => l.includes('request refused'))!;
    expect(JSON.parse(line)).toMatchObject({
      level: 'info',
      component: 'rtsp',
      msg: 'request refused',
      status: 404,
      method: 'DESCRIBE',
    });
  });
});
