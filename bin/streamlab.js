#!/usr/bin/env node
// The streamlab executable: a thin launcher for the bundled CLI (dist/bundle/main.js and its chunks,
// made by `npm run build`, which `npm install`/`npm ci` run through the `prepare` script). One
// bundle rather than dist/'s 220 modules: Node's module loader costs ~4 MB of idle RSS for those.
let main;
try {
  ({ main } = await import('../dist/bundle/main.js'));
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/bundle/main.js')) {
    process.stderr.write('streamlab: dist/ is missing; run `npm run build` (or `npm ci`) first\n');
    process.exit(1);
  }
  throw err;
}
await main(process.argv);
