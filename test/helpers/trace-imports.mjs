// Loaded with `node --import ./test/helpers/trace-imports.mjs ...`: registers a module resolve
// hook that appends every resolved file: URL, one per line, to the file named by
// STREAMLAB_TRACE_IMPORTS. Used by test/cli/lazy-load.test.ts to see what a command loads.
// Plain JavaScript: node runs it before any TypeScript loader.
import { register } from 'node:module';

const file = process.env.STREAMLAB_TRACE_IMPORTS;
if (file) {
  const hooks = `
    import { appendFileSync } from 'node:fs';
    let out;
    export function initialize(data) { out = data.file; }
    export async function resolve(specifier, context, next) {
      const r = await next(specifier, context);
      if (r.url.startsWith('file:')) appendFileSync(out, r.url + '\\n');
      return r;
    }
  `;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { file } });
}
