/**
 * The package as npm would ship it (`npm pack --dry-run`, scripts skipped; the integration tier's
 * setup has built dist/): compiled code, declarations, the executable, README and LICENSE; no
 * tests, sources, media or source maps. Every `exports` entry loads by the package's own name
 * (Node's self-reference) and has its declaration file; bin/streamlab.js is in the package. The
 * native addon's packed sources alone build an addon with every function the server calls.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { peersRequired } from '../helpers/peers.ts';
import { REPO_ROOT } from '../helpers/server.ts';

interface Pkg {
  name: string;
  license: string;
  bin: Record<string, string>;
  types: string;
  exports: Record<string, string | { types: string; default: string }>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as Pkg;
/** The native addon's C sources and headers (native/build.mjs compiles the .c files). */
const NATIVE_SOURCES = readdirSync(path.join(REPO_ROOT, 'native'))
  .filter((f) => /\.[ch]$/.test(f))
  .map((f) => `native/${f}`);

function packedFiles(): string[] {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 60_000,
  });
  return (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
}

describe('the npm package', () => {
  const files = packedFiles();

  it('holds dist/, the executable, README, LICENSE and the native sender source, and no tests, sources or media', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'package.json',
        'bin/streamlab.js',
        'dist/bundle/main.js',
        'dist/server/index.js',
        'dist/server/index.d.ts',
      ]),
    );
    // The optional native addon is compiled at install (the `install` script), so every C source
    // and header and the build script ship; never a built binary.
    expect(files).toEqual(expect.arrayContaining([...NATIVE_SOURCES, 'native/build.mjs']));
    const shipped = ['LICENSE', 'README.md', 'package.json', 'bin/streamlab.js', ...NATIVE_SOURCES, 'native/build.mjs'];
    const other = files.filter((f) => !f.startsWith('dist/') && !shipped.includes(f));
    expect(other).toEqual([]);
    expect(files.filter((f) => !/\.(js|d\.ts)$/.test(f) && f.startsWith('dist/'))).toEqual([]);
    // Every source file has its compiled module in the package.
    const sources = readdirTs(path.join(REPO_ROOT, 'src'));
    const missing = sources.filter((s) => !files.includes(`dist/${s.replace(/\.ts$/, '.js')}`));
    expect(missing).toEqual([]);
    expect(readFileSync(path.join(REPO_ROOT, 'LICENSE'), 'utf8')).toMatch(new RegExp(`^${pkg.license} License`));
  });

  it('every export loads by the package name and has its declarations in the package', () => {
    expect(files).toContain(pkg.types.replace(/^\.\//, ''));
    for (const [sub, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue; // ./package.json
      expect(files, sub).toContain(target.types.replace(/^\.\//, ''));
      expect(files, sub).toContain(target.default.replace(/^\.\//, ''));
      const spec = sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`;
      const r = spawnSync(
        process.execPath,
        ['--input-type=module', '-e', `const m = await import(${JSON.stringify(spec)}); console.log(Object.keys(m).length);`],
        {
          cwd: REPO_ROOT,
          encoding: 'utf8',
          timeout: 30_000,
        },
      );
      expect(r.status, `${spec}: ${r.stderr}`).toBe(0);
      expect(Number(r.stdout.trim()), spec).toBeGreaterThan(0);
    }
    const server = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `const { RtspServer } = await import('${pkg.name}/server'); console.log(typeof RtspServer.listen);`],
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 },
    );
    expect(server.stdout.trim(), server.stderr).toBe('function');
  });

  // Where this checkout's own addon could not be built (no compiler), neither can the package's.
  const canBuild = existsSync(path.join(REPO_ROOT, 'native/build/sendmmsg.node')) || peersRequired();
  it.skipIf(!canBuild)('the packed native sources build an addon with every function the server calls', () => {
    // What an install from the package compiles: the packed native/ files alone, in a folder of their own.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'streamlab-pack-native-'));
    try {
      for (const f of files.filter((x) => x.startsWith('native/'))) copyFileSync(path.join(REPO_ROOT, f), path.join(dir, path.basename(f)));
      const r = spawnSync(process.execPath, [path.join(dir, 'build.mjs')], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
      const built = path.join(dir, 'build', 'sendmmsg.node');
      expect(existsSync(built), r.stderr).toBe(true);
      const addon = createRequire(import.meta.url)(built) as Record<string, unknown>;
      for (const fn of ['send', 'writeFrames', 'gso', 'timerStart', 'recvBatch', 'pollRead']) expect(typeof addon[fn], fn).toBe('function');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the executable is packed, and tsx is not a runtime dependency', () => {
    for (const bin of Object.values(pkg.bin)) expect(files).toContain(bin);
    expect(existsSync(path.join(REPO_ROOT, pkg.bin.streamlab!))).toBe(true);
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
    expect(Object.keys(pkg.devDependencies)).toContain('tsx');
  });
});

function readdirTs(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.split(path.sep).join('/'));
}
