/**
 * Issue 12: the dashboard in a real browser (Debian's chromium through playwright-core). While
 * ffmpeg (its copy impaired by the server, `?netem=`) and our receiver (impairing its own
 * ingress) play with 5 % loss and jitter, the page (fed over WebSocket) shows both sessions; each
 * one's loss and jitter show, then move with a later report, and always equal the server's own
 * list for the same report (as numbers and as the text in the cells); the uPlot charts are drawn;
 * the page's Kick button ends the ffmpeg session (it leaves the server and the page, ffmpeg gets
 * BYE and stops). The screenshot is saved as test-artifacts/dashboard.png.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { impairmentFromFlags } from '../../src/cli/play.ts';
import { OperatorHttp } from '../../src/operator/index.ts';
import type { RtspServer } from '../../src/server/index.ts';
import { hasPeer, peersRequired } from '../helpers/peers.ts';
import { REPO_ROOT, startServer } from '../helpers/server.ts';
import { waitUntil } from '../helpers/wait.ts';
import { play } from '../receiver/helpers.ts';
import { CHROMIUM_ARGS, findChromium } from '../helpers/chromium.ts';

const executablePath = findChromium();
const required = process.env['STREAMLAB_REQUIRE_PEERS'] === '1';
if ((!executablePath || !hasPeer('ffmpeg')) && required) throw new Error('chromium and ffmpeg are required (STREAMLAB_REQUIRE_PEERS=1)');

describe.skipIf((!executablePath || !hasPeer('ffmpeg')) && !peersRequired())('the dashboard in chromium', () => {
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

  it('shows ffmpeg and our receiver, both impaired; their loss and jitter move and match the server; Kick on the page ends one', async () => {
    const url = `rtsp://127.0.0.1:${server.port}/sample.mp4`;
    // Our receiver impairs its own ingress; ffmpeg asks the server to impair its copy (?netem=).
    const impairment = await impairmentFromFlags('loss random 5% delay 20ms 10ms', 7);
    const receiver = play(url, { durationSec: 40, impairment, jitter: { mode: 'adaptive', minDelayMs: 200 } });
    const ffmpeg = spawn(
      'ffmpeg',
      [
        '-v',
        'error',
        '-rtsp_transport',
        'udp',
        '-i',
        `${url}?netem=loss+random+5%25+delay+20ms+10ms&seed=3`,
        '-t',
        '40',
        '-f',
        'null',
        '-',
      ],
      { stdio: 'ignore' },
    );
    const ffmpegExit = new Promise<number | null>((resolve) => ffmpeg.on('close', resolve));
    const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
      await page.goto(op.url);
      expect(await page.title()).toBe('streamlab — sessions');
      // Both sessions appear.
      await page.waitForFunction(() => document.querySelectorAll('#sessions tbody tr').length === 2, undefined, { timeout: 20_000 });
      const ids = server.sessionList().map((s) => s.id);
      expect(ids).toHaveLength(2);
      const row = (id: string) => `#sessions tbody tr[data-session="${id}"]`;
      type Shown = { reportAt: number; lost: number; jitter: number; cells: Record<string, string> };
      const shown = (id: string): Promise<Shown> =>
        page.$eval(row(id), (tr) => {
          const el = tr as HTMLElement;
          return {
            reportAt: Number(el.dataset['reportAt'] ?? 0),
            lost: Number(el.dataset['lost'] || NaN),
            jitter: Number(el.dataset['jitter'] || NaN),
            cells: Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [td.className, td.textContent ?? ''])),
          };
        });
      /** What the server's own list says of a session: its reports' total loss, worst jitter, newest report. */
      const truth = (id: string) => {
        const reports = server.sessionList().find((s) => s.id === id)?.reports ?? [];
        return {
          reportAt: Math.max(0, ...reports.map((r) => r.receivedAt)),
          lost: reports.reduce((n, r) => n + r.qos.cumulativeLost, 0),
          jitter: Math.max(...reports.map((r) => r.jitterMs)),
          voip: reports.some((r) => r.voip !== undefined),
        };
      };
      /** The page shows the server's figures of the same report, as numbers and as text. */
      const matchesServer = async (id: string): Promise<Shown> => {
        for (let attempt = 0; ; attempt++) {
          const p = await shown(id);
          const t = truth(id);
          if (p.reportAt === t.reportAt && p.reportAt > 0) {
            expect(p.lost).toBe(t.lost);
            expect(p.jitter).toBe(t.jitter);
            expect(p.cells['lost']).toBe(t.lost.toFixed(0));
            expect(p.cells['jitter']).toBe(t.jitter.toFixed(1));
            return p;
          }
          // A report newer than the page's last push: the next push (each second) brings it.
          if (attempt > 50) throw new Error(`page at report ${p.reportAt}, server at ${t.reportAt}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      // Each session's loss shows (5 % on both), then its figures move with a later report.
      for (const id of ids) {
        await page.waitForFunction((sel) => Number(document.querySelector<HTMLElement>(sel)?.dataset['lost'] || 0) > 0, row(id), {
          timeout: 40_000,
        });
        const first = await matchesServer(id);
        expect(first.lost).toBeGreaterThan(0);
        expect(first.jitter).toBeGreaterThan(0);
        expect(first.jitter).toBeLessThan(1000);
        await page.waitForFunction(
          (a: { sel: string; at: number }) => Number(document.querySelector<HTMLElement>(a.sel)?.dataset['reportAt'] ?? 0) > a.at,
          { sel: row(id), at: first.reportAt },
          { timeout: 20_000 },
        );
        const later = await matchesServer(id);
        expect(later.lost !== first.lost || later.jitter !== first.jitter, `${JSON.stringify(first)} then ${JSON.stringify(later)}`).toBe(
          true,
        );
        expect(later.lost).toBeGreaterThanOrEqual(first.lost);
        expect(later.cells['client']).toBe('127.0.0.1');
        expect(later.cells['path']).toBe('sample.mp4');
      }
      // Our receiver is the one whose reports carry XR VoIP metrics: MOS-LQ 1 to 4.5 (5 % loss with
      // AAC's assumed Bpl can well be 1.0).
      const ours = ids.find((id) => truth(id).voip)!;
      const other = ids.find((id) => id !== ours)!;
      expect(ours).toBeDefined();
      const mos = Number((await shown(ours)).cells['mos']);
      expect(mos).toBeGreaterThanOrEqual(1);
      expect(mos).toBeLessThanOrEqual(4.5);
      // uPlot drew the charts: seven per session.
      for (const id of ids) expect(await page.locator(`#charts-${id} .uplot`).count()).toBe(7);
      // Kick ffmpeg from the page: its session ends, it gets BYE and stops well before its 40 s.
      await page.click(`${row(other)} button.kick`);
      await waitUntil(() => !server.sessionList().some((s) => s.id === other), 10_000, 'kicked session gone');
      await page.waitForFunction(() => document.querySelectorAll('#sessions tbody tr').length === 1, undefined, { timeout: 10_000 });
      expect(await page.locator(row(ours)).count()).toBe(1);
      expect(await Promise.race([ffmpegExit.then(() => 'exited'), new Promise((r) => setTimeout(() => r('still running'), 15_000))])).toBe(
        'exited',
      );
      const dir = path.join(REPO_ROOT, 'test-artifacts');
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: path.join(dir, 'dashboard.png'), fullPage: true });
    } finally {
      await browser.close();
      ffmpeg.kill('SIGKILL');
      await ffmpegExit;
      await receiver;
    }
  }, 150_000);
});
