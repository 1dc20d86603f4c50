/**
 * The architecture as a test: imports under src/ flow downward only through the layers of
 * DESIGN.md, there are no import cycles (type-only imports count: they are still a dependency of
 * one file on the other), each third-party package stays in the folder that owns it, and the
 * protocol layers use no Node built-ins beyond Buffer.
 *
 * To add a folder, put it in LAYERS (a new layer is a new row; folders in one row may not import
 * each other). Sub-folders (server/live, server/session) belong to their top folder.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';

/** Bottom first. A file may import its own top folder and any folder of a lower row. */
const LAYERS: readonly (readonly string[])[] = [
  ['util'],
  ['rtp', 'rtcp', 'rtsp', 'sdp'],
  ['codecs', 'stats', 'impair'],
  ['media', 'transport'],
  ['sender'],
  ['server', 'receiver'],
  ['lab', 'operator', 'config'],
  ['cluster'],
  ['cli'],
];

/**
 * Cycles that exist and are being removed (the session-model rewrite). Each entry is the set of
 * files of one strongly connected component; delete the entry when the cycle is gone.
 */
const KNOWN_CYCLES: readonly (readonly string[])[] = [];

/** Third-party packages and the only top folders that may import them. */
const PACKAGE_OWNERS: Record<string, readonly string[]> = {
  commander: ['cli'],
  'fluent-ffmpeg': ['media'],
  vega: ['lab'],
  'vega-lite': ['lab'],
  yaml: ['lab', 'config'],
};

/** Folders that are pure protocol code: no sockets, files, processes or timers of their own. */
const PURE = ['rtp', 'rtcp', 'rtsp', 'sdp', 'codecs', 'stats', 'impair'];
const PURE_BUILTINS_ALLOWED = new Set(['node:buffer']);

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(REPO_ROOT, 'src');

interface SourceFile {
  /** Path under src/, with forward slashes, e.g. `server/handlers.ts`. */
  rel: string;
  /** Files under src/ it imports (relative specifiers, resolved). */
  local: string[];
  /** Bare specifiers: packages and node: built-ins. */
  bare: string[];
}

function readSources(): SourceFile[] {
  const rels = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.split(path.sep).join('/'))
    .sort();
  return rels.map((rel) => {
    // preProcessFile lists static imports, `export ... from` and `import('...')`, type-only ones too.
    const info = ts.preProcessFile(readFileSync(path.join(SRC, rel), 'utf8'), true, true);
    const local: string[] = [];
    const bare: string[] = [];
    for (const { fileName } of info.importedFiles) {
      if (fileName.startsWith('.')) local.push(path.posix.normalize(path.posix.join(path.posix.dirname(rel), fileName)));
      else bare.push(fileName);
    }
    return { rel, local, bare };
  });
}

const topFolder = (rel: string): string => rel.split('/')[0]!;

function layerOf(folder: string): number {
  const i = LAYERS.findIndex((row) => row.includes(folder));
  if (i < 0) throw new Error(`src/${folder}/ is in no layer: add it to LAYERS in test/architecture.test.ts`);
  return i;
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Strongly connected components with more than one file (Tarjan). */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

const sources = readSources();

describe('architecture of src/', () => {
  it('reads the whole tree', () => {
    expect(sources.length).toBeGreaterThan(100);
    expect(sources.some((s) => s.rel === 'cli/main.ts')).toBe(true);
  });

  it('every relative import names a file that exists', () => {
    const known = new Set(sources.map((s) => s.rel));
    const missing = sources.flatMap((s) => s.local.filter((t) => !known.has(t)).map((t) => `${s.rel} -> ${t}`));
    expect(missing).toEqual([]);
  });

  it('imports flow downward only (own folder or a lower layer)', () => {
    const wrong: string[] = [];
    for (const s of sources) {
      const from = topFolder(s.rel);
      for (const t of s.local) {
        const to = topFolder(t);
        if (to !== from && layerOf(to) >= layerOf(from)) wrong.push(`${s.rel} -> ${t}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('has no import cycles beyond the known ones being removed', () => {
    const graph = new Map(sources.map((s) => [s.rel, s.local] as const));
    const found = cycles(graph);
    const unknown = found.filter((c) => !KNOWN_CYCLES.some((k) => c.every((f) => k.includes(f))));
    expect(unknown).toEqual([]);
    // A known cycle that no longer occurs must leave the list, so that it cannot come back.
    const gone = KNOWN_CYCLES.filter((k) => !found.some((c) => c.some((f) => k.includes(f))));
    expect(gone, 'these cycles are gone: delete them from KNOWN_CYCLES').toEqual([]);
  });

  it('third-party packages stay in the folder that owns them', () => {
    const declared = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const wrong: string[] = [];
    for (const s of sources) {
      for (const spec of s.bare) {
        if (spec.startsWith('node:')) continue;
        const name = packageName(spec);
        if (!(name in declared.dependencies)) wrong.push(`${s.rel} imports ${name}, which is not a runtime dependency`);
        const owners = PACKAGE_OWNERS[name];
        if (owners && !owners.includes(topFolder(s.rel))) wrong.push(`${s.rel} imports ${name} (owned by ${owners.join(', ')})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('the protocol layers use no Node built-ins but Buffer', () => {
    const wrong = sources
      .filter((s) => PURE.includes(topFolder(s.rel)))
      .flatMap((s) => s.bare.filter((b) => b.startsWith('node:') && !PURE_BUILTINS_ALLOWED.has(b)).map((b) => `${s.rel} imports ${b}`));
    expect(wrong).toEqual([]);
  });
});

describe('the cycle finder', () => {
  it('finds a cycle, a self-contained chain has none', () => {
    const g = new Map<string, string[]>([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
      ['e', ['d']],
    ]);
    expect(cycles(g)).toEqual([['a', 'b', 'c']]);
    expect(
      cycles(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
    ).toEqual([]);
  });
});
