/**
 * The impairment as the CLI understood it: normalised netem words and tc's surprises, printed by
 * serve/play/netem/lab on stderr (the wording of each warning is tested in test/impair).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { netemNotice } from '../../src/cli/netem-notice.ts';
import { REPO_ROOT } from '../helpers/server.ts';

it('shows the normalised words, then one streamlab: warning line per surprise', () => {
  expect(netemNotice('--impair', 'los 2% del 40')).toEqual([
    '--impair: netem delay 0.04ms loss random 2%',
    'streamlab: warning: "los" is read as "loss" (tc accepts any prefix of a keyword)',
    'streamlab: warning: "del" is read as "delay" (tc accepts any prefix of a keyword)',
    'streamlab: warning: "delay ... 40": a bare number is microseconds in tc (40 µs); write 40ms for milliseconds',
  ]);
  expect(netemNotice('--netem', 'delay 40ms loss 1%')).toEqual(['--netem: netem delay 40ms loss random 1%']);
  expect(netemNotice(undefined, 'delay 40ms loss 1%')).toEqual([]);
  expect(netemNotice('--netem', 'loss banana')).toEqual([]);
});

it('serve --netem prints them when it starts', async () => {
  const child = spawn(
    process.execPath,
    [
      path.join(REPO_ROOT, 'bin', 'streamlab.js'),
      'serve',
      'media',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--netem',
      'rate 1mbps loss random 5% 25%',
    ],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  try {
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('serving')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${stderr}`)));
    });
    // The notices, apart from the server's log records (JSON lines: stderr is a pipe here).
    expect(stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'))).toEqual([
      '--netem: netem loss random 5% 25% rate 8mbit',
      'streamlab: warning: "rate 1mbps": bps is BYTES per second in tc (8mbit = 8 Mbit/s); write 1mbit for bits',
      `streamlab: warning: "loss random 5% 25%": netem's correlation averages its random numbers, so the long-run rate is 0.194%, not 5%; use loss gemodel or loss state for bursts at a given rate`,
    ]);
  } finally {
    child.kill('SIGKILL');
  }
});
