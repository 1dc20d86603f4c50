/**
 * The HTML report in a real browser: Debian's chromium driven by playwright-core (no Playwright
 * browser download). The page must open with the experiment's description and provenance, every
 * figure must load as an image, and the screenshot must show them. Skipped without chromium unless
 * STREAMLAB_REQUIRE_PEERS=1, where a missing chromium fails.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { parseExperimentText, runExperiment } from '../../src/lab/index.ts';
import { CHROMIUM_ARGS, findChromium } from '../helpers/chromium.ts';
import { peersRequired } from '../helpers/peers.ts';

const executablePath = findChromium();
const required = process.env['STREAMLAB_REQUIRE_PEERS'] === '1';
if (!executablePath && required) throw new Error('chromium is required (STREAMLAB_REQUIRE_PEERS=1): apt-get install -y chromium');

const out = mkdtempSync(path.join(os.tmpdir(), 'streamlab-report-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe.skipIf(!executablePath && !peersRequired())('the lab report in chromium', () => {
  it('opens with description and provenance, and shows every figure', async () => {
    const e = parseExperimentText(
      JSON.stringify({
        name: 'browser check',
        description: 'Gilbert-Elliott loss at two mean bursts, two seeds each, for the report test.',
        media: path.resolve('media/sample.mp4'),
        durationSec: 1,
        seeds: [1, 2],
        quality: false,
        matrix: { netem: ['loss gemodel 1.754% 33.33%', 'loss random 5%'] },
      }),
      'browser.json',
      { mode: 'fast' },
    );
    const o = await runExperiment(e, { outDir: out });
    expect(o.results.every((r) => r.status === 'ok')).toBe(true);
    const browser = await chromium.launch({
      executablePath,
      args: CHROMIUM_ARGS,
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`file://${path.join(out, 'index.html')}`);
      await page.waitForLoadState('load');
      expect(await page.title()).toBe('browser check — streamlab lab');
      // The page opens with the title, the description, then the provenance table.
      const first = await page.$$eval('body > *', (els) => els.slice(0, 3).map((el) => `${el.tagName}:${el.className}`));
      expect(first).toEqual(['H1:', 'P:desc', 'TABLE:prov']);
      const prov = await page.textContent('table.prov');
      const commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
      expect(prov).toContain(commit);
      expect(prov).toContain('loss gemodel 1.754% 33.33%');
      expect(prov).toContain('1, 2 (every condition runs with the same seeds)');
      expect(prov).toMatch(/mode\s*fast/);
      // Every figure is a loaded PNG of a real size.
      const imgs = await page.$$eval('figure img', (els) =>
        els.map((i) => ({
          src: (i as HTMLImageElement).getAttribute('src'),
          w: (i as HTMLImageElement).naturalWidth,
          h: (i as HTMLImageElement).naturalHeight,
        })),
      );
      expect(imgs.length).toBe(o.plots.length);
      expect(imgs.length).toBeGreaterThanOrEqual(5);
      for (const i of imgs) {
        expect(i.src).toMatch(/\.png$/);
        expect(i.w).toBeGreaterThan(400);
        expect(i.h).toBeGreaterThan(200);
      }
      const shot = await page.screenshot({ fullPage: true });
      writeFileSync(path.join(out, 'screenshot.png'), shot);
      // A full page of tables and figures, not a blank or error page.
      expect(shot.length).toBeGreaterThan(50_000);
      const height = await page.evaluate(() => document.body.scrollHeight);
      expect(height).toBeGreaterThan(1500);
      if (process.env['STREAMLAB_KEEP_SCREENSHOT']) writeFileSync(process.env['STREAMLAB_KEEP_SCREENSHOT'], shot);
      expect(readFileSync(path.join(out, 'index.html'), 'utf8')).toContain('Paired differences');
    } finally {
      await browser.close();
    }
  }, 120_000);
});
