/**
 * Our server → our receiver, no loss: recordings are checked against the source with ffmpeg.
 *
 * All streams run at once against one server (one 20 s wall-clock window):
 * - CLI, UDP, full file → .mkv + --stats-json; in-process, TCP, full file → .mkv through
 *   TsOutputSink; CLI --null, full file (decode and count);
 * - CLI --duration 4 → .mp4 (UDP) and .ts (TCP); CLI --start 5 --duration 3 → .mkv.
 * Checks: decoded video frames bit-identical to the source's, in order (framemd5); AAC packets
 * byte-identical and contiguous from the first non-priming packet (framemd5 with -c:a copy); A/V
 * offsets at the start and the end equal the source's (sync kept, no drift); exact counts (500
 * video frames, 938 AAC frames: the source's 939 less the priming packet, which is never sent);
 * remux without timestamp warnings; RRs with LSR/DLSR reach the server (RTT computed).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OFFLINE_MIN_DELAY_MS } from '../../src/cli/play.ts';
import { TsOutputSink } from '../../src/receiver/index.ts';
import type { ReceiverReportRecord } from '../../src/server/index.ts';
import { compareAudio, compareVideo, sampleReference } from '../helpers/framemd5.ts';
import type { TrackHashes } from '../helpers/framemd5.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { SAMPLE } from '../helpers/server.ts';
import { play } from './helpers.ts';
import type { PlayResult } from './helpers.ts';
import { avOffsets, hashFile, packetTimes, remuxWarnings, runCli } from './recording.ts';

/** Source: 500 frames; AAC 939 packets of which the first (pts −1024) is priming. */
const SOURCE_FRAMES = 500;
const SOURCE_AAC_SENT = 938;

describeWithPeers('our server → streamlab play (recordings vs the source)', ['ffmpeg', 'ffprobe'], () => {
  let dir: string;
  const { server, url } = serverForSuite();
  let reference: TrackHashes;
  let sourceOffsets: { start: number; end: number };
  const reports: ReceiverReportRecord[] = [];
  let runs: {
    cliUdp: Awaited<ReturnType<typeof runCli>>;
    cliNull: Awaited<ReturnType<typeof runCli>>;
    cliMp4: Awaited<ReturnType<typeof runCli>>;
    cliTs: Awaited<ReturnType<typeof runCli>>;
    cliStart: Awaited<ReturnType<typeof runCli>>;
    tcp: PlayResult & { sink: Awaited<ReturnType<TsOutputSink['close']>> };
  };
  const file = (name: string) => path.join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-play-'));
    server.events.on('receiver-report', (r) => reports.push(r));
    const sink = new TsOutputSink({ kind: 'record', file: file('tcp.mkv') });
    const tcp = play(url(), {
      transport: 'tcp',
      idleTimeoutMs: 10_000,
      jitter: { mode: 'adaptive', minDelayMs: OFFLINE_MIN_DELAY_MS },
      onTracks: (t) => void sink.open(t),
      onUnit: (u) => sink.write(u),
    }).then(async (r) => ({ ...r, sink: await sink.close() }));
    const [cliUdp, cliNull, cliMp4, cliTs, cliStart, tcpDone, ref, src] = await Promise.all([
      runCli(['play', url(), '--record', file('udp.mkv'), '--stats-json', file('udp.json')]),
      runCli(['play', url(), '--null']),
      runCli(['play', url(), '--record', file('short.mp4'), '--duration', '4']),
      runCli(['play', url(), '--tcp', '--record', file('short.ts'), '--duration', '4']),
      runCli(['play', url(), '--start', '5', '--duration', '3', '--record', file('from5.mkv')]),
      tcp,
      sampleReference(),
      packetTimes(SAMPLE),
    ]);
    runs = { cliUdp, cliNull, cliMp4, cliTs, cliStart, tcp: tcpDone };
    reference = ref;
    sourceOffsets = avOffsets(src, 1);
  }, 120_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 with a per-track summary, quiet on stderr when not a terminal', () => {
    for (const r of [runs.cliUdp, runs.cliNull, runs.cliMp4, runs.cliTs, runs.cliStart]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(
        /^track 0 video h264: \d+ packets, \d+ units, lost 0, late 0, jitter [\d.]+ ms, buffer delay \d+ ms \(target \d+ ms incl\. 80 ms for B-frame reordering\)/m,
      );
    }
    expect(runs.tcp.end).toEqual({ ok: true, reason: 'end-of-stream' });
  });

  it('--null decodes exactly the source frame counts', () => {
    expect(runs.cliNull.stdout).toContain(`track 0 video h264: `);
    expect(runs.cliNull.stdout).toMatch(new RegExp(`track 0 video h264: .*, ${SOURCE_FRAMES} units, .*decoded ${SOURCE_FRAMES} frames`));
    expect(runs.cliNull.stdout).toMatch(
      new RegExp(`track 1 audio aac: ${SOURCE_AAC_SENT} packets, ${SOURCE_AAC_SENT} units, .*decoded ${SOURCE_AAC_SENT} frames`),
    );
    expect(runs.cliNull.stdout).not.toContain('decode errors');
  });

  it.each(['udp.mkv', 'tcp.mkv'])('%s: every video frame and AAC packet identical to the source, in order, in sync', async (name) => {
    const rec = await hashFile(file(name));
    const v = compareVideo(rec.video, reference.video);
    expect(v.detail).toBe('identical prefix');
    expect(v.frames).toBe(SOURCE_FRAMES);
    const a = compareAudio(rec.audio, reference.audio);
    expect(a.detail).toBe('contiguous');
    expect(a.firstIndex).toBe(a.expectedFirstIndex);
    expect(a.packets).toBe(SOURCE_AAC_SENT);
    // A/V sync: the recording's first/last video−audio offsets equal the source's (mkv stores ms).
    const o = avOffsets(await packetTimes(file(name)));
    expect(Math.abs(o.start - sourceOffsets.start)).toBeLessThanOrEqual(0.0025);
    expect(Math.abs(o.end - sourceOffsets.end)).toBeLessThanOrEqual(0.0025);
    expect(await remuxWarnings(file(name))).toEqual([]);
  });

  it.each(['short.mp4', 'short.ts'])('--duration 4 → %s: a source prefix, remuxes without timestamp warnings', async (name) => {
    const rec = await hashFile(file(name));
    const v = compareVideo(rec.video, reference.video);
    // The cut falls in decode order, but the sink drops a last anchor whose B-frames did not all
    // come (CleanEnd): every frame is the source's, none missing, none out of place.
    expect(v.detail).toBe('identical prefix');
    // 4 s of media less the jitter buffer's delay (~0.5 s): flushed at the end, so ~4 s.
    expect(v.frames).toBeGreaterThanOrEqual(75);
    expect(v.frames).toBeLessThanOrEqual(110);
    const a = compareAudio(rec.audio, reference.audio);
    expect(a.detail).toBe('contiguous');
    expect(a.firstIndex).toBe(a.expectedFirstIndex);
    expect(await remuxWarnings(file(name))).toEqual([]);
    const o = avOffsets(await packetTimes(file(name)));
    expect(Math.abs(o.start - sourceOffsets.start)).toBeLessThanOrEqual(0.0025);
  });

  it('--start 5 starts at the keyframe at 5 s and stays contiguous', async () => {
    const rec = await hashFile(file('from5.mkv'));
    const first = reference.video.findIndex((f) => f.hash === rec.video[0]?.hash);
    expect(reference.video[first]?.pts).toBe(125); // tb 1/25: 5.000 s, a keyframe (ffprobe: K at 5.0)
    // --duration cuts in decode order; the sink ends on whole pictures (as for the .mp4/.ts cuts above).
    for (let i = 0; i < rec.video.length; i++) expect(rec.video[i]!.hash, `frame ${i}`).toBe(reference.video[first + i]!.hash);
    expect(rec.video.length).toBeGreaterThanOrEqual(50);
    // Audio from the packet at 5 s on, contiguous.
    const a = compareAudio(rec.audio, reference.audio);
    expect(a.contiguous).toBe(true);
    expect(Math.abs(reference.audio[a.firstIndex]!.pts / 48000 - 5)).toBeLessThan(1024 / 48000);
  });

  it('--stats-json holds a per-second series and sane totals', async () => {
    const j = JSON.parse(await readFile(file('udp.json'), 'utf8'));
    expect(j.totals.end).toEqual({ ok: true, reason: 'end-of-stream' });
    expect(j.totals.transport).toBe('udp');
    expect(j.totals.durationSec).toBeGreaterThan(19);
    expect(j.totals.durationSec).toBeLessThan(30);
    const [v, a] = j.totals.tracks;
    expect(v).toMatchObject({
      media: 'video',
      codec: 'h264',
      lost: 0,
      late: 0,
      duplicates: 0,
      units: SOURCE_FRAMES,
      incompleteUnits: 0,
      malformedRtp: 0,
    });
    expect(a).toMatchObject({ media: 'audio', codec: 'aac', lost: 0, late: 0, units: SOURCE_AAC_SENT, packets: SOURCE_AAC_SENT });
    // One known sender, no A.1 probation: every packet counts, so packets = expected − lost + duplicates.
    expect(a.expected).toBe(SOURCE_AAC_SENT);
    expect(v.expected).toBe(v.packets);
    // The video target carries the B-frame reorder allowance (2 frames × 40 ms), and says so.
    expect(v.reorderAllowanceMs).toBe(80);
    expect(a.reorderAllowanceMs).toBe(0);
    // Jitter: video's A.8 jitter includes the B-frame reordering (pts vs send order), audio's is small.
    expect(v.jitterMs).toBeGreaterThan(0);
    expect(v.jitterMs).toBeLessThan(60);
    expect(a.jitterMs).toBeLessThan(10);
    // The jitter buffer held packets for about its target (≥ the floor for recordings).
    for (const t of [v, a]) {
      expect(t.meanTargetDelayMs).toBeGreaterThanOrEqual(OFFLINE_MIN_DELAY_MS);
      expect(t.meanPlayoutDelayMs).toBeGreaterThan(50);
      expect(t.meanPlayoutDelayMs).toBeLessThan(1000);
      expect(t.senderReports).toBeGreaterThanOrEqual(2);
    }
    expect(j.series.length).toBeGreaterThanOrEqual(19);
    const mid = j.series[10];
    expect(mid.tracks[0].kbps).toBeGreaterThan(100);
    expect(mid.tracks[0].lost).toBe(0);
    expect(mid.tracks[0].delayMs).toBeGreaterThan(0);
    expect(mid.tracks[1].kbps).toBeGreaterThan(50);
    // A sample taken before SETUP finished (a slow start on a loaded machine) has no tracks yet.
    const pk = j.series
      .filter((s: { tracks: unknown[] }) => s.tracks.length > 0)
      .map((s: { tracks: { packets: number }[] }) => s.tracks[0]!.packets);
    for (let i = 1; i < pk.length; i++) expect(pk[i]).toBeGreaterThanOrEqual(pk[i - 1]);
    expect(j.totals.sink.units).toEqual({ 0: SOURCE_FRAMES, 1: SOURCE_AAC_SENT });
  });

  it('the server gets our receiver reports with LSR/DLSR, so it computes the RTT', () => {
    const ours = new Set(runs.tcp.session.receivers.map((r) => r.ssrc));
    const mine = reports.filter((r) => ours.has(r.reporterSsrc));
    // RRs at the A.7 interval (≥ 2.5 s first, then ~5 s) over 20 s, for both tracks.
    expect(mine.length).toBeGreaterThanOrEqual(4);
    expect(new Set(mine.map((r) => r.control)).size).toBe(2);
    const withRtt = mine.filter((r) => r.rttMs !== undefined);
    expect(withRtt.length).toBeGreaterThanOrEqual(2);
    for (const r of withRtt) {
      expect(r.rttMs).toBeGreaterThanOrEqual(0);
      expect(r.rttMs).toBeLessThan(100); // loopback, interleaved TCP
      expect(r.cumulativeLost).toBe(0);
    }
    // The UDP CLI run's reports arrived too (another reporter, over UDP).
    expect(reports.some((r) => !ours.has(r.reporterSsrc) && r.transport === 'udp' && r.rttMs !== undefined)).toBe(true);
  });
});
