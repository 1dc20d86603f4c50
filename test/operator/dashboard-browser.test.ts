/**
 * Issue 12: the dashboard in a real browser (Debian's chromium through playwright-core). While
 * ffmpeg and our receiver (with 5 % loss and jitter on its ingress) play from the server, the page
 * (fed over WebSocket) shows both sessions, the receiver's loss and jitter move and agree with the
 * server's own list, the uPlot charts are drawn, and the page's Kick button ends the ffmpeg
 * session (it leaves the server and the page). The screenshot is saved under test-artifacts/.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { impairmentFromFlags } from '../../src/cli/play.ts';
import { OperatorHttp } from '../../src/operator/index.ts';
import type { RtspServer } from '../../src/server/index.ts';
import { hasPeer } from '../helpers/peers.ts';
import { REPO_ROOT, startServer } from '../helpers/server.ts';
import { waitUntil } from '../helpers/wait.ts';
import { play } from '../receiver/helpers.ts';
import { CHROMIUM_ARGS, findChromium } from '../helpers/chromium.ts';

const executablePath = findChromium();
const required = process.env['STREAMLAB_REQUIRE_PEERS'] === '1';
if ((!executablePath || !hasPeer('ffmpeg')) && required) throw new Error('chromium and ffmpeg are required (STREAMLAB_REQUIRE_PEERS=1)');

describe.skipIf(!executablePath || !hasPeer('ffmpeg'))('the dashboard in chromium', () => {
  let server: RtspServer;
  let op: OperatorHttp;

  beforeAll(async () => {
    ({ server } = await startServer());
    op = await OperatorHttp.start(server, { port: 0 });
  });

  afterAll(async () => {
    await op?.close();
    await server?.close();
  });

  it('shows ffmpeg and our impaired receiver, their figures move with the server, and Kick ends one', async () => {
    const url = `rtsp://127.0.0.1:${server.port}/sample.mp4`;
    const impairment = await impairmentFromFlags('loss random 5% delay 20ms 10ms', 7);
    const receiver = play(url, { durationSec: 18, impairment, jitter: { mode: 'adaptive', minDelayMs: 200 } });
    const ffmpeg = spawn('ffmpeg', ['-v', 'error', '-rtsp_transport', 'udp', '-i', url, '-t', '18', '-f', 'null', '-'], {
      stdio: 'ignore',
    });
    const ffmpegExit = new Promise((resolve) => ffmpeg.on('close', resolve));
    const browser = await chromium.launch({
      executablePath,
      args: CHROMIUM_ARGS,
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
      await page.goto(op.url);
      expect(await page.title()).toBe('streamlab — sessions');
      // Both sessions appear.
      await page.waitForFunction(() => document.querySelectorAll('#sessions tbody tr').length === 2, undefined, { timeout: 20_000 });
      // Our receiver's row: its loss and jitter figures move (receiver reports arrive every few seconds).
      const row = (id: string) => `#sessions tbody tr[data-session="${id}"]`;
      // Our receiver is the one whose reports carry XR VoIP metrics.
      await waitUntil(
        () => server.sessionList().some((s) => s.reports.some((r) => r.voip && r.qos.cumulativeLost > 0)),
        20_000,
        'loss reported',
      );
      const lossy = server.sessionList().find((s) => s.reports.some((r) => r.voip && r.qos.cumulativeLost > 0))!;
      await page.waitForFunction(
        (sel) => {
          const lost = document.querySelector(`${sel} td.lost`)?.textContent ?? '–';
          return lost !== '–' && Number(lost) > 0;
        },
        row(lossy.id),
        { timeout: 10_000 },
      );
      const cells = await page.$eval(row(lossy.id), (tr) =>
        Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [td.className, td.textContent ?? ''])),
      );
      // The page says what the server's list says (the page may be one report behind).
      const now = server.sessionList().find((s) => s.id === lossy.id)!;
      const serverLost = now.reports.reduce((n, r) => n + r.qos.cumulativeLost, 0);
      expect(Number(cells.lost)).toBeGreaterThan(0);
      expect(Number(cells.lost)).toBeLessThanOrEqual(serverLost);
      expect(Number(cells.jitter)).toBeGreaterThan(0);
      expect(Number(cells.jitter)).toBeLessThan(1000);
      expect(cells.client).toBe('127.0.0.1');
      expect(cells.path).toBe('sample.mp4');
      // MOS-LQ from our receiver's RTCP XR VoIP metrics (audio): 1 to 4.5 (5 % loss with AAC's assumed
      // Bpl can well be 1.0).
      expect(Number(cells.mos)).toBeGreaterThanOrEqual(1);
      expect(Number(cells.mos)).toBeLessThanOrEqual(4.5);
      // uPlot drew the charts: seven per session.
      expect(await page.locator(`#charts-${lossy.id} .uplot`).count()).toBe(7);
      // Kick the other one (ffmpeg) from the page.
      const other = server.sessionList().find((s) => s.id !== lossy.id)!;
      await page.click(`${row(other.id)} button.kick`);
      await waitUntil(() => !server.sessionList().some((s) => s.id === other.id), 10_000, 'kicked session gone');
      await page.waitForFunction(() => document.querySelectorAll('#sessions tbody tr').length === 1, undefined, { timeout: 10_000 });
      const dir = path.join(REPO_ROOT, 'test-artifacts');
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: path.join(dir, 'dashboard.png'), fullPage: true });
    } finally {
      await browser.close();
      ffmpeg.kill('SIGKILL');
      await ffmpegExit;
      await receiver;
    }
  }, 90_000);
});
