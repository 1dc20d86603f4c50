/**
 * vitest globalSetup of the integration tier: bin/streamlab.js runs the compiled dist/, so build
 * it (`npm run build`) when it is missing or older than a file under src/, package.json or the
 * tsconfig files. A fresh clone has it from `npm ci` (the prepare script).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) newest = Math.max(newest, statSync(path.join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

export function distIsStale(): boolean {
  let built: number;
  try {
    built = statSync(path.join(ROOT, 'dist/bundle/main.js')).mtimeMs;
  } catch {
    return true;
  }
  const configs = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'tsconfig.types.json'].map(
    (f) => statSync(path.join(ROOT, f)).mtimeMs,
  );
  return Math.max(newestMtime(path.join(ROOT, 'src')), ...configs) > built;
}

export default function setup(): void {
  if (!distIsStale()) return;
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
}
