/**
 * RTT "as the server sees it" through RFC 3611 XR, end to end with our server on loopback: the
 * receiver adds an RRTR block to every RR compound, our server answers with a DLRR block in its
 * next SR compound, and the receiver computes RTT = A − LRR − DLRR. Over UDP and interleaved TCP:
 * every track gets RTT samples, each ≥ 0, the best < 50 ms (loopback; see the bound's comment); the server still parses our
 * compounds (no malformed RTCP, RR records from our SSRCs with its own LSR/DLSR RTT); the CLI's
 * --stats-json carries the RTT in the totals and the per-second series. Against a server that does
 * not answer XR (GStreamer), see gst-codecs.test.ts: no RTT, nothing invented.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ReceiverReportRecord } from '../../src/server/index.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { play } from './helpers.ts';
import type { PlayResult } from './helpers.ts';
import { runCli } from './recording.ts';

describeWithPeers('RTT through RTCP XR (RRTR → DLRR) against our server', ['ffmpeg'], () => {
  let dir: string;
  const { server, url } = serverForSuite();
  let malformed = -1;
  const reports: ReceiverReportRecord[] = [];
  const res: Partial<Record<'udp' | 'tcp', PlayResult>> = {};
  let cli: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-xr-'));
    server.events.on('receiver-report', (r) => reports.push(r));
    const run = (transport: 'udp' | 'tcp') =>
      play(url(), { transport, durationSec: 12, idleTimeoutMs: 10_000, jitter: { mode: 'fixed', delayMs: 300 } }).then(
        (r) => void (res[transport] = r),
      );
    [cli] = await Promise.all([
      runCli(['play', url(), '--null', '--duration', '12', '--stats-json', path.join(dir, 'stats.json')]),
      run('udp'),
      run('tcp'),
    ]);
    malformed = server.snapshot().counters.rtcpMalformed;
  }, 60_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each(['udp', 'tcp'] as const)('%s: every track measures RTT from DLRR answers, 0 ≤ RTT, best < 50 ms', (t) => {
    const r = res[t]!;
    expect(r.end).toEqual({ ok: true, reason: 'duration' });
    expect(r.session.receivers).toHaveLength(2);
    for (const rx of r.session.receivers) {
      const rtt = rx.rtt;
      expect(rtt, `track ${rx.track.index}`).toBeDefined();
      expect(rtt!.samples).toBeGreaterThanOrEqual(1);
      expect(rtt!.minMs).toBeGreaterThanOrEqual(0);
      // Loopback: well under 50 ms. A loaded machine stalls event loops now and then, which adds
      // to single samples (the LSR/DLSR RTT shows the same), so the bound is on the best sample.
      expect(rtt!.minMs).toBeLessThan(50);
      expect(rtt!.maxMs).toBeLessThan(1000);
      expect(rtt!.meanMs).toBeGreaterThanOrEqual(rtt!.minMs);
      expect(rtt!.meanMs).toBeLessThanOrEqual(rtt!.maxMs);
    }
  });

  it('the server parses our RR + SDES + XR compounds and still computes its RTT from LSR/DLSR', () => {
    expect(malformed).toBe(0);
    for (const t of ['udp', 'tcp'] as const) {
      const ours = new Set(res[t]!.session.receivers.map((r) => r.ssrc));
      const mine = reports.filter((r) => ours.has(r.reporterSsrc));
      expect(mine.length).toBeGreaterThanOrEqual(2);
      expect(mine.some((r) => r.rttMs !== undefined && r.rttMs >= 0 && r.rttMs < 50)).toBe(true);
      expect(mine.every((r) => r.rttMs === undefined || r.rttMs >= 0)).toBe(true);
    }
  });

  it('the server gets our XR VoIP metrics with every RR after the first packet: rates, delays, jitter buffer, MOS for audio only', () => {
    for (const t of ['udp', 'tcp'] as const) {
      for (const rx of res[t]!.session.receivers) {
        const mine = reports.filter((r) => r.reporterSsrc === rx.ssrc && r.extendedHighestSeq > 0);
        expect(mine.length, `${t} track ${rx.track.index}`).toBeGreaterThanOrEqual(1);
        for (const r of mine) {
          const v = r.voip!;
          expect(v, `${t} track ${rx.track.index}`).toBeDefined();
          // Loopback, nothing impaired: no loss; the fixed 300 ms buffer (plus the video reorder allowance).
          expect(v.lossRate).toBe(0);
          expect(v.gmin).toBe(16);
          expect(v.jitterBuffer.adaptive).toBe(false);
          expect(v.jitterBuffer.nominalMs).toBeGreaterThanOrEqual(300);
          expect(v.endSystemDelayMs).toBeLessThan(2000);
          if (rx.track.media === 'audio') {
            // AAC with the assumed E-model values and no loss: R 93, MOS-LQ 4.4.
            expect(v.rFactor).toBe(93);
            expect(v.mosLq).toBe(4.4);
          } else {
            expect([v.rFactor, v.mosLq]).toEqual([undefined, undefined]);
          }
        }
      }
    }
  });

  it('--stats-json has the RTT in the totals and in the per-second series', async () => {
    expect(cli.code, cli.stderr).toBe(0);
    const j = JSON.parse(await readFile(path.join(dir, 'stats.json'), 'utf8'));
    for (const t of j.totals.tracks) {
      expect(t.rtt.samples).toBeGreaterThanOrEqual(1);
      expect(t.rtt.minMs).toBeGreaterThanOrEqual(0);
      expect(t.rtt.minMs).toBeLessThan(50);
      expect(t.rtt.lastMs).toBeGreaterThanOrEqual(t.rtt.minMs);
    }
    // Before the first answer the series has no RTT; after it, every sample has one.
    const withRtt = j.series.filter(
      (s: { tracks: { rttMs?: number }[] }) => s.tracks.length > 0 && s.tracks.every((x) => x.rttMs !== undefined),
    );
    expect(withRtt.length).toBeGreaterThan(0);
    expect(j.series[0].tracks.every((x: { rttMs?: number }) => x.rttMs === undefined)).toBe(true);
  });
});
