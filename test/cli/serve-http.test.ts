/**
 * `streamlab serve --http 0` as shipped (bin/streamlab.js → dist/): it prints the dashboard's URL
 * (the operator loaded on demand), which serves the page, uPlot, the API and /metrics, and it
 * stops cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/server.ts';
import { waitUntil } from '../helpers/wait.ts';

it('serve --http prints the dashboard URL; page, uPlot, API and metrics answer; SIGTERM stops it', async () => {
  const child = spawn(
    process.execPath,
    [path.join(REPO_ROOT, 'bin/streamlab.js'), 'serve', path.join(REPO_ROOT, 'media'), '--port', '0', '--host', '127.0.0.1', '--http', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  try {
    await waitUntil(
      () => /^dashboard http:\/\/127\.0\.0\.1:\d+\//m.test(out),
      20_000,
      () => `the dashboard line (stdout: ${out})`,
    );
    const base = /^dashboard (http:\/\/127\.0\.0\.1:\d+)\//m.exec(out)![1]!;
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script src="/uplot.js">');
    const uplot = await fetch(`${base}/uplot.js`);
    expect(uplot.status).toBe(200);
    expect((await uplot.text()).length).toBeGreaterThan(10_000);
    expect(await (await fetch(`${base}/api/sessions`)).json()).toEqual({ sessions: [] });
    const media = (await (await fetch(`${base}/api/media`)).json()) as { files: { path: string }[] };
    expect(media.files.map((f) => f.path)).toContain('sample.mp4');
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^streamlab_sessions\{kind="file"\} 0$/m);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
