#!/usr/bin/env node
/**
 * Builds the optional native addon (native/sendmmsg.c, the sender; native/timer.c, the
 * scheduler's wake-up timer; native/recvmmsg.c, the batched reader of a UDP socket;
 * native/stream-poll.c, that of TCP connections → native/build/sendmmsg.node) with the system's C
 * compiler against Node's own N-API and libuv headers. Run by `npm ci`/`npm
 * install` (the `install` and `prepare` scripts) and by hand with `npm run build:native`. It never fails the install: without Linux, a
 * compiler or the headers the server uses its pure-JS sender and Node's timers, and says so.
 * No node-gyp: it would try to download Node's headers, and this needs only two.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const sources = ['sendmmsg.c', 'timer.c', 'recvmmsg.c', 'stream-poll.c'].map((f) => path.join(here, f));
const outDir = path.join(here, 'build');
const out = path.join(outDir, 'sendmmsg.node');

function note(msg) {
  process.stderr.write(`streamlab native sender: ${msg}\n`);
}

function includeDir() {
  const candidates = [
    process.env.STREAMLAB_NODE_INCLUDE,
    path.join(path.dirname(process.execPath), '..', 'include', 'node'),
    path.join(os.homedir(), '.cache', 'node-gyp', process.versions.node, 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ];
  return candidates.find((d) => d && existsSync(path.join(d, 'node_api.h')) && existsSync(path.join(d, 'uv.h')));
}

function main() {
  if (process.env.STREAMLAB_NO_NATIVE === '1') return note('skipped (STREAMLAB_NO_NATIVE=1); the pure-JS sender is used');
  if (process.platform !== 'linux') return note(`not built on ${process.platform} (sendmmsg is Linux's); the pure-JS sender is used`);
  const inc = includeDir();
  if (!inc) return note('not built: node_api.h and uv.h not found (set STREAMLAB_NODE_INCLUDE); the pure-JS sender is used');
  const cc = process.env.CC || 'cc';
  mkdirSync(outDir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-shared', '-fPIC', '-fvisibility=hidden', `-I${inc}`, '-o', tmp, ...sources], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { force: true });
    return note(`not built (${cc}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}); the pure-JS sender is used`);
  }
  note(`built ${path.relative(process.cwd(), out)}`);
}

main();
