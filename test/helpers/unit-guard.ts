/**
 * Setup file of the unit tier (vitest project `unit`): a unit test is pure or runs on a manual
 * clock, so it starts no program and opens no socket. Any attempt throws, which fails the test and
 * names the file that belongs in the integration tier (vitest.config.ts) instead.
 */
import childProcess from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { syncBuiltinESMExports } from 'node:module';

function forbid<T extends object>(mod: T, names: readonly (keyof T & string)[], what: string): void {
  for (const name of names) {
    Object.defineProperty(mod, name, {
      configurable: true,
      writable: true,
      value: () => {
        throw new Error(`unit tier: ${what}.${name}() is not allowed here; move this test file to the integration tier (vitest.config.ts)`);
      },
    });
  }
}

forbid(childProcess, ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'], 'child_process');
forbid(net, ['createServer', 'createConnection', 'connect'], 'net');
forbid(dgram, ['createSocket'], 'dgram');
// Named imports (`import { spawn } from 'node:child_process'`) see the replacements too.
syncBuiltinESMExports();
