#!/usr/bin/env node
// The streamlab executable: a thin launcher for the compiled CLI (dist/cli/main.js, made by
// `npm run build`, which `npm install`/`npm ci` run through the `prepare` script).
let main;
try {
  ({ main } = await import('../dist/cli/main.js'));
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    process.stderr.write('streamlab: dist/ is missing; run `npm run build` (or `npm ci`) first\n');
    process.exit(1);
  }
  throw err;
}
await main(process.argv);
