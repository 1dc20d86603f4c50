/**
 * Writes the bundled traces in media/traces/ (run: `node bin/run-ts.js scripts/gen-traces.ts`).
 * The files are committed; a test checks that they still equal what this script writes.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundledTraces } from '../src/impair/trace-gen.ts';

const dir = path.resolve(process.argv[2] ?? 'media/traces');
for (const [name, text] of Object.entries(bundledTraces())) {
  writeFileSync(path.join(dir, name), text);
  process.stdout.write(`wrote ${path.join(dir, name)}\n`);
}
