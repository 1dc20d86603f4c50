/**
 * What each command loads, seen by a module resolve hook (test/helpers/trace-imports.mjs) in the
 * real executable: `--version` loads no subcommand and none of the library; `serve` loads the
 * server but not the lab, the receiver or vega, nor the parts of the server that wait for their
 * first use; `lab` loads the lab but vega only once it draws plots. Also: the executable runs the
 * bundle (dist/bundle/, esbuild with code splitting), not the sources nor tsc's modules. A bundle
 * file loaded stands for the source modules esbuild put in it (dist/bundle/meta.json): esbuild
 * splits so that a file holds only modules every importer of it needs, so these are exactly the
 * modules the command needs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/server.ts';

const BIN = path.join(REPO_ROOT, 'bin', 'streamlab.js');
const HOOKS = path.join(REPO_ROOT, 'test', 'helpers', 'trace-imports.mjs');

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-lazy-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Which source modules (repo-relative) esbuild put in each bundle file (repo-relative). */
async function bundleInputs(): Promise<Map<string, string[]>> {
  const meta = JSON.parse(await readFile(path.join(REPO_ROOT, 'dist/bundle/meta.json'), 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  return new Map(Object.entries(meta.outputs).map(([file, o]) => [file, Object.keys(o.inputs)]));
}

/**
 * Runs the executable with the hook; returns its output, the files it loaded (relative to the
 * repo) and the source modules in the bundle files among them.
 */
async function traced(
  args: string[],
): Promise<{ status: number | null; stdout: string; stderr: string; loaded: string[]; modules: string[] }> {
  const log = path.join(dir, `imports-${n++}.txt`);
  const r = spawnSync(process.execPath, ['--import', HOOKS, BIN, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, STREAMLAB_TRACE_IMPORTS: log },
  });
  const text = await readFile(log, 'utf8').catch(() => '');
  const loaded = [...new Set(text.split('\n').filter(Boolean))].map(relative);
  const inputs = await bundleInputs();
  const modules = loaded.flatMap((f) => inputs.get(f) ?? []);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, loaded, modules };
}

/** Repo-relative path; packages as `node_modules/<name>/...` wherever node_modules really is. */
function relative(url: string): string {
  const file = new URL(url).pathname;
  const i = file.lastIndexOf('/node_modules/');
  return i >= 0 ? file.slice(i + 1) : path.relative(REPO_ROOT, file);
}

const under = (loaded: string[], prefix: string) => loaded.filter((f) => f.startsWith(prefix));

describe('streamlab loads only what a command needs', () => {
  it('--version: the version from package.json, from the bundle, no subcommand, no library', async () => {
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await traced(['--version']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
    expect(r.loaded).toContain('dist/bundle/main.js');
    expect(r.loaded.filter((f) => !f.startsWith('dist/bundle/') && !f.startsWith('node_modules/'))).toEqual(['bin/streamlab.js']);
    expect(r.modules.sort()).toEqual(['src/cli/main.ts', 'src/util/version.ts']);
    expect(under(r.loaded, 'node_modules/commander/').length).toBeGreaterThan(0);
    expect(under(r.loaded, 'node_modules/').filter((f) => !f.startsWith('node_modules/commander/'))).toEqual([]);
  });

  it('serve: the server, not the lab, the receiver, vega or (without --http) the operator', async () => {
    const r = await traced(['serve', '--help']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Usage: streamlab serve');
    expect(r.modules).toContain('src/server/index.ts');
    expect(under(r.modules, 'src/lab/')).toEqual([]);
    expect(under(r.modules, 'src/receiver/')).toEqual([]);
    expect(under(r.loaded, 'node_modules/vega')).toEqual([]);
    expect(under(r.modules, 'src/operator/')).toEqual([]);
    expect(under(r.loaded, 'node_modules/prom-client/')).toEqual([]);
    expect(under(r.loaded, 'node_modules/ws/')).toEqual([]);
    // ffmpeg's wrapper only when a file is probed or prepared (src/media/prepare/probe.ts).
    expect(under(r.loaded, 'node_modules/fluent-ffmpeg/')).toEqual([]);
    // Loaded at first use (idle RSS, issue 11): the preparer and ffmpeg's side (a file that is not
    // MP4/MOV, media/prepare/lazy-preparer.ts), the MPEG-TS reader (a file prepared for the MP2T
    // route), the live handlers (a request about a live path, server/handlers.ts) and the live
    // sources (a channel of that kind, server/live/live-hub.ts).
    expect(under(r.modules, 'src/media/prepare/').sort()).toEqual([
      'src/media/prepare/defaults.ts',
      'src/media/prepare/lazy-preparer.ts',
      'src/media/prepare/progress-bar.ts',
    ]);
    expect(under(r.modules, 'src/media/ffmpeg/')).toEqual([]);
    expect(under(r.modules, 'src/media/ts-file/')).toEqual([]);
    for (const lazy of [
      'live-handlers',
      'live-view',
      'record-target',
      'track-relay',
      'pull-source',
      'ffmpeg-source',
      'file-source',
      'peer-process',
    ])
      expect(r.modules).not.toContain(`src/server/live/${lazy}.ts`);
  });

  it('serve without --tls-cert and rtsps:// origins does not load node:tls (src/util/lazy-tls.ts), nor node:v8 without a ~REGEX rule', () => {
    const atExit = `process.on('exit', () => process.stderr.write('builtin tls loaded: ' + process.moduleLoadList.includes('NativeModule tls') + ', v8 loaded: ' + process.moduleLoadList.includes('NativeModule v8') + '\\n'))`;
    const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(atExit)}`, BIN, 'serve', '--help'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('builtin tls loaded: false, v8 loaded: false');
  });

  it('lab: the lab, but vega and vega-lite only when plots are drawn', async () => {
    const help = await traced(['lab', '--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.modules).toContain('src/lab/index.ts');
    expect(under(help.loaded, 'node_modules/vega')).toEqual([]);

    const out = path.join(dir, 'lab-out');
    const run = await traced(['lab', '--fast', '--netem', 'loss random 2%', '--duration', '2', '--no-quality', '--out', out]);
    expect(run.status, run.stderr).toBe(0);
    expect(await readFile(path.join(out, 'loss.svg'), 'utf8')).toMatch(/^<svg/);
    expect(under(run.loaded, 'node_modules/vega/').length).toBeGreaterThan(0);
    expect(under(run.loaded, 'node_modules/vega-lite/').length).toBeGreaterThan(0);
  }, 60_000);

  it('help lists every command', async () => {
    const r = await traced(['--help']);
    expect(r.status, r.stderr).toBe(0);
    for (const c of ['serve', 'probe', 'play', 'lab', 'netem', 'push', 'prepare']) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
  });
});
