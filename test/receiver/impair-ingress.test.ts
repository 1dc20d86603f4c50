/**
 * `play --impair`: netem on the receiver's ingress. Ground truth (the pipelines' fate logs) against
 * what RFC 3550 statistics and our RTCP receiver reports say, both in-process and through the CLI.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { impairmentFromFlags } from '../../src/cli/play.ts';
import { packetFates } from '../../src/impair/index.ts';
import { trackStats } from '../../src/receiver/index.ts';
import type { ReceiverReportRecord } from '../../src/server/index.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { startServer } from '../helpers/server.ts';
import { play } from './helpers.ts';
import type { PlayResult } from './helpers.ts';
import { runCli } from './recording.ts';

/**
 * What RFC 3550 A.1/A.3 must report for one fate log (packets in arrival order over loopback):
 * the receiver follows one known sender without A.1 probation, so the first delivered packet is
 * base_seq; losses after it up to the last delivered packet count.
 */
function visibleLoss(lost: readonly boolean[]): number {
  // The statistics start at the first packet received (no A.1 probation: one known sender).
  const base = lost.indexOf(false);
  const last = lost.lastIndexOf(false);
  let n = 0;
  for (let i = base + 1; i < last; i++) if (lost[i]) n++;
  return n;
}

describe('ingress impairment (in-process)', () => {
  const suite = serverForSuite();
  const { server } = suite;
  let url: string;
  let r: PlayResult;
  const reports: ReceiverReportRecord[] = [];

  beforeAll(async () => {
    url = suite.url();
    server.events.on('receiver-report', (x) => reports.push(x));
    const impairment = await impairmentFromFlags('loss random 10%', 3);
    r = await play(url, { durationSec: 6, impairment, jitter: { mode: 'adaptive', minDelayMs: 300 } });
  }, 60_000);

  it('RFC 3550 loss equals the emulator ground truth, exactly, and is about 10 %', () => {
    expect(r.end.ok).toBe(true);
    const stats = trackStats(r.session);
    for (const t of stats) {
      const imp = r.session.impairments.get(t.track)!;
      const lost = packetFates(imp.rtp.pipeline.fates).map((f) => f.lost);
      const truth = visibleLoss(lost);
      expect(t.lost, `track ${t.track}`).toBe(truth);
      expect(t.packets).toBe(lost.filter((l) => !l).length);
      expect(t.lostPercent).toBeGreaterThan(6);
      expect(t.lostPercent).toBeLessThan(14);
    }
    // Over both tracks (~800 packets) the rate is within 2.5 points of 10 %.
    const lostAll = stats.reduce((n, t) => n + t.lost, 0);
    const expectedAll = stats.reduce((n, t) => n + t.expected, 0);
    expect(Math.abs(lostAll / expectedAll - 0.1)).toBeLessThan(0.025);
  });

  it('the last receiver report (with TEARDOWN) tells the server the same cumulative loss', () => {
    const ssrcs = new Set(r.session.receivers.map((x) => x.ssrc));
    for (const t of trackStats(r.session)) {
      const ours = reports.filter((x) => ssrcs.has(x.reporterSsrc) && x.control.endsWith(`${t.track + 1}`));
      expect(ours.length).toBeGreaterThanOrEqual(1);
      expect(ours.at(-1)!.cumulativeLost).toBe(t.lost);
    }
  });

  it('is deterministic: the same seed drops the same packets', async () => {
    const again = await play(url, { durationSec: 1.5, impairment: await impairmentFromFlags('loss random 10%', 3) });
    const a = packetFates(again.session.impairments.get(1)!.rtp.pipeline.fates).map((f) => f.lost);
    const b = packetFates(r.session.impairments.get(1)!.rtp.pipeline.fates).map((f) => f.lost);
    expect(a.length).toBeGreaterThan(40);
    expect(a).toEqual(b.slice(0, a.length));
  });

  it('refuses bad netem words with the word named', async () => {
    await expect(impairmentFromFlags('loss sideways', undefined)).rejects.toThrow(/^--impair: .*sideways/);
    expect((await impairmentFromFlags('loss 5% seed 9', undefined)).seed).toBe(9);
    expect((await impairmentFromFlags('loss 5% seed 9', 4)).seed).toBe(4);
  });
});

describe('ingress impairment (CLI)', () => {
  let dir: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-impair-'));
  });
  afterAll(async () => {
    await close?.();
    await rm(dir, { recursive: true, force: true });
  });

  it('--impair "loss random 10%" --impair-seed 3: stats show the loss, ground truth in the JSON', async () => {
    const { server, url } = await startServer();
    close = () => server.close();
    const json = path.join(dir, 'stats.json');
    const r = await runCli([
      'play',
      url(),
      '--null',
      '--duration',
      '5',
      '--impair',
      'loss random 10%',
      '--impair-seed',
      '3',
      '--stats-json',
      json,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(await readFile(json, 'utf8'));
    expect(j.totals.impairment).toMatchObject({ netem: 'loss random 10%', seed: 3 });
    for (const t of j.totals.tracks) {
      const truth = j.totals.impairment.tracks[t.track];
      expect(t.lost).toBeGreaterThan(0);
      // RFC-visible loss ≤ ground truth (drops before validation or after the last packet are invisible).
      expect(t.lost).toBeLessThanOrEqual(truth.rtpLost);
      expect(truth.rtpLost - t.lost).toBeLessThanOrEqual(3);
      expect(t.lostPercent).toBeGreaterThan(5);
      expect(t.lostPercent).toBeLessThan(15);
    }
    expect(r.stdout).toMatch(/track 0 video h264: \d+ packets, \d+ units, lost [1-9]\d*/);
  });

  it('--return-netem "loss 100%": the server gets none of our receiver reports; the media is untouched', async () => {
    const { server, url } = await startServer();
    const reports: ReceiverReportRecord[] = [];
    server.events.on('receiver-report', (x) => reports.push(x));
    try {
      const json = path.join(dir, 'return.json');
      const r = await runCli(['play', url(), '--null', '--duration', '4', '--return-netem', 'loss 100%', '--stats-json', json]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('--return-netem: netem loss random 100%');
      const j = JSON.parse(await readFile(json, 'utf8'));
      expect(j.totals.returnPath).toMatchObject({ netem: 'loss random 100%', seed: 1 });
      for (const t of j.totals.tracks) {
        const back = j.totals.returnPath.tracks[t.track];
        // At least the first report and the final one with BYE, all lost on the way back.
        expect(back.rtcpSent).toBeGreaterThanOrEqual(2);
        expect(back.rtcpLost).toBe(back.rtcpSent);
        expect(t.lost).toBe(0);
      }
      expect(reports).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('--return-netem refuses bad words with the flag named', async () => {
    await expect(impairmentFromFlags('delay soon', undefined, '--return-netem')).rejects.toThrow(/^--return-netem: .*soon/);
  });
});
