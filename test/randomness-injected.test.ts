/**
 * Issue 10: time and randomness are injected. No Math.random, node:crypto randomness or Date.now
 * outside src/util/ (which provides them) and src/cli/ (the composition root).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve('src');
const FORBIDDEN = /\bMath\.random\b|\bDate\.now\b|\brandom(?:Bytes|Int|UUID)\b|\bgetRandomValues\b/;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? tsFiles(p) : d.name.endsWith('.ts') ? [p] : [];
  });
}

describe('injected randomness and time (issue 10)', () => {
  it('no Math.random, crypto randomness or Date.now outside src/util/ and src/cli/', () => {
    const offenders: string[] = [];
    for (const f of tsFiles(SRC)) {
      const rel = path.relative(SRC, f).split(path.sep).join('/');
      if (rel.startsWith('util/') || rel.startsWith('cli/')) continue;
      readFileSync(f, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const code = line.replace(/\/\/.*$/, '');
          if (!/^\s*\*/.test(code) && FORBIDDEN.test(code)) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(offenders).toEqual([]);
  });

  it('the check sees what it is meant to forbid', () => {
    expect(FORBIDDEN.test('const x = Math.random();')).toBe(true);
    expect(FORBIDDEN.test("const id = randomBytes(4).toString('hex');")).toBe(true);
    expect(FORBIDDEN.test('const t = Date.now();')).toBe(true);
    expect(FORBIDDEN.test('const r = ctx.random.float();')).toBe(false);
  });
});
