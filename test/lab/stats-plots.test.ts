import { describe, expect, it } from 'vitest';
import { clipToRange, detectFreezes, meanCi, plotSpecs, renderSvg, summarizeConditions, tQuantile975, toCsv } from '../../src/lab/index.ts';
import type { RunResult } from '../../src/lab/index.ts';

describe('confidence intervals', () => {
  it('t quantiles from the tables', () => {
    expect(tQuantile975(1)).toBe(12.706);
    expect(tQuantile975(4)).toBe(2.776);
    expect(tQuantile975(30)).toBe(2.042);
    // df 60: 2.000 (tables); df 120: 1.980
    expect(tQuantile975(60)).toBeCloseTo(2.0, 2);
    expect(tQuantile975(120)).toBeCloseTo(1.98, 2);
  });

  it('mean ± t·s/√n', () => {
    // xs = 1..5: mean 3, s = √2.5 = 1.5811; half-width 2.776 · 1.5811 / √5 = 1.9630
    const c = meanCi([1, 2, 3, 4, 5])!;
    expect(c.mean).toBe(3);
    expect(c.sd).toBeCloseTo(1.58114, 5);
    expect(c.ci95).toBeCloseTo(1.963, 3);
    expect(meanCi([7])).toMatchObject({ n: 1, mean: 7, ci95: 0 });
    expect(meanCi([undefined, Number.NaN])).toBeUndefined();
  });
});

describe('freezes (WebRTC rule)', () => {
  it('a gap ≥ max(3·interval, interval + 150 ms) is a freeze', () => {
    // 25 fps: interval 40 ms, threshold max(120, 190) = 190 ms.
    const pts = [0, 0.04, 0.08, 0.28, 0.32, 0.5];
    const f = detectFreezes(pts, 40);
    expect(f.thresholdMs).toBe(190);
    // gaps: 40, 40, 200 (freeze), 40, 180 (not)
    expect(f.count).toBe(1);
    expect(f.totalMs).toBeCloseTo(200, 6);
  });
  it('a late start and an early end count within the span', () => {
    const f = detectFreezes([0.4, 0.44], 40, { from: 0, to: 1 });
    // from -0.04 to 0.4: 440 ms; 0.44 to 1: 560 ms
    expect(f.count).toBe(2);
    expect(f.totalMs).toBeCloseTo(1000, 6);
  });
});

function fixtureRun(index: number, condition: string, seed: number, lossRate: number, meanLossRun: number): RunResult {
  const track = {
    track: 0,
    media: 'video',
    codec: 'h264',
    truth: {
      sent: 1000,
      lost: lossRate * 1000,
      lossRate,
      droppedByLoss: lossRate * 1000,
      droppedByQueue: 0,
      droppedByTail: 0,
      droppedByAqm: 0,
      inFlight: 0,
      sojourn: { count: 0, p50: 0, p95: 0, max: 0, mean: 0 },
      delayed: 0,
      reordered: 0,
      duplicated: 0,
      retransmitted: 0,
      lossRuns: [
        { length: 1, count: 3 },
        { length: 4, count: 2 },
      ],
      gapRuns: [],
      meanLossRun,
      meanGapRun: 50,
      burstGap: {
        gmin: 16,
        bursts: 1,
        gaps: 2,
        burstDensity: 0.5,
        gapDensity: 0.01,
        burstDurationMs: 100,
        burstLengthPackets: 8,
        gapDurationMs: 1000,
        gapLengthPackets: 100,
      },
      delay: { count: 0, min: 0, max: 0, mean: 0, std: 0, p50: 0, p90: 0, p95: 0, p99: 0 },
      release: { lateCopies: 0, maxLateMs: 0 },
      window: {
        fromId: 1,
        toId: 999,
        packets: 999,
        lost: lossRate * 1000,
        rfcLost: lossRate * 1000,
        countedBeforeWindow: 0,
        duplicatesInWindow: 0,
      },
    },
    rtcp: {
      receiverReports: 3,
      lastFractionLost: 0,
      meanFractionLost: lossRate,
      cumulativeLost: lossRate * 1000,
      cumulativeLostError: 0,
      reportedLossRate: lossRate,
      jitterMs: 5,
      maxJitterMs: 6,
      rttMs: 1,
      senderReports: 2,
      byeReceived: true,
    },
    receiver: { received: 1000 - lossRate * 1000, expected: 1000, lost: lossRate * 1000, duplicates: 0, reordered: 0, jitterMs: 5 },
    jitterBuffer: {
      mode: 'adaptive' as const,
      late: 2,
      lost: lossRate * 1000 + 2,
      effectiveLossRate: lossRate + 0.002,
      meanPlayoutDelayMs: 80,
      meanTargetDelayMs: 80,
      forced: 0,
      duplicates: 0,
    },
    units: { total: 250, incomplete: 1, skippedUntilKeyframe: 0 },
  };
  return {
    index,
    id: `run-${index}`,
    status: 'ok',
    startedAt: '2026-01-01T00:00:00Z',
    wallMs: 1,
    params: {
      condition,
      mode: 'fast',
      media: 'x.mp4',
      durationSec: 10,
      startNpt: 0,
      seed,
      repetition: seed - 1,
      netem: condition,
      jitter: 'adaptive',
      transport: 'udp',
      configuredLoss: 0.02,
      configuredMeanBurst: 2,
    },
    tracks: [track],
    series: [{ t: 1, track: 0, media: 'video', playoutDelayMs: 80, targetDelayMs: 80, jitterMs: 5, late: 0, lost: 0, packets: 100 }],
    video: {
      sourceFrames: 250,
      decodedFrames: 240,
      missingFrames: 10,
      freezes: { count: 1, totalMs: 300, longestMs: 300, thresholdMs: 190 },
      psnrMean: 30 + seed,
      ssimMean: 0.9,
      perFrameFile: undefined,
    },
  };
}

describe('plots from a tiny fixture', () => {
  const runs = [
    fixtureRun(0, 'A', 1, 0.02, 1.8),
    fixtureRun(1, 'A', 2, 0.03, 2.2),
    fixtureRun(2, 'A', 3, 0.025, 2.0),
    fixtureRun(3, 'B', 1, 0.05, 4),
    fixtureRun(4, 'B', 2, 0.06, 4.4),
    { ...fixtureRun(5, 'B', 3, 0, 0), status: 'failed' as const, reason: 'boom', tracks: [] },
  ];

  it('aggregates per condition with CIs, leaving failed runs out', () => {
    const cs = summarizeConditions(runs);
    expect(cs.map((c) => [c.condition, c.runs])).toEqual([
      ['A', 3],
      ['B', 2],
    ]);
    const a = cs[0]!.m.meanLossRun!;
    // 1.8, 2.2, 2.0: mean 2, s 0.2, half-width 4.303 · 0.2 / √3 = 0.49687
    expect(a.mean).toBeCloseTo(2, 9);
    expect(a.ci95).toBeCloseTo(0.49687, 4);
    expect(cs[0]!.lossRuns).toEqual([
      { length: 1, count: 9 },
      { length: 4, count: 6 },
    ]);
  });

  it('renders every plot to SVG with error bars', async () => {
    const specs = plotSpecs(runs);
    expect(Object.keys(specs).sort()).toEqual([
      'burst-histogram',
      'burst-mean',
      'late-loss',
      'loss',
      'loss-latency',
      'playout-delay',
      'quality',
    ]);
    const svg = await renderSvg(specs['burst-mean']!.spec);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('mark-rule');
    // The CI bar of condition A spans 2 ± 0.497 (vega labels marks with their data).
    expect(svg).toContain('adaptive (A); lo: 1.50313235834; hi: 2.49686764166');
    // The point carries its mean and n.
    expect(svg).toMatch(/adaptive \(A\); mean loss run \(packets\): 2; [^"]*n: 3/);
    // The configured 1/r is a reference tick, not a bar.
    expect(svg).toMatch(/aria-label="[^"]*mean: 2; measure: configured 1\/r"/);
    for (const k of ['loss', 'burst-mean']) expect(JSON.stringify(specs[k]!.spec)).not.toMatch(/"type":"bar"/);
    expect(JSON.stringify(specs['burst-mean']!.spec)).toMatch(/"type":"tick"/);
    for (const { spec } of Object.values(specs)) expect((await renderSvg(spec)).length).toBeGreaterThan(1000);
  });

  it('CI bars stay within what a measure can be; every xy figure states n', () => {
    // Condition B, two runs: observed loss 5 % and 6 %, t(1) = 12.7 → 5.5 ± 6.35 %, below 0 unclipped.
    const specs = plotSpecs(runs);
    const loss = JSON.stringify(specs['loss']!.spec);
    const rows = (JSON.parse(loss) as { layer: { data: { values: { condition: string; measure: string; lo: number; hi: number }[] } }[] })
      .layer[0]!.data.values;
    const b = rows.find((r) => r.condition.endsWith('(B)') && r.measure === 'observed (ground truth)')!;
    expect(b.lo).toBe(0);
    expect(b.hi).toBeCloseTo(5.5 + 6.353, 2);
    expect(clipToRange('psnr', 130)).toBe(100);
    expect(clipToRange('ssim', 1.02)).toBe(1);
    expect(clipToRange('ssim', -0.1)).toBe(0);
    expect(clipToRange('jitterMs', -3)).toBe(-3);
    for (const k of ['quality', 'loss-latency', 'late-loss'])
      expect(JSON.stringify(specs[k]!.spec.title)).toMatch(/n = 2–3 runs per condition/);
  });

  it('burst histogram: no run dropped (tail bin), the geometric law overlaid', () => {
    const long = fixtureRun(6, 'C', 1, 0.05, 3);
    long.tracks[0]!.truth.lossRuns = [
      { length: 1, count: 2 },
      { length: 20, count: 1 },
      { length: 13, count: 1 },
    ];
    long.params = { ...long.params, configuredLoss: 0.05, configuredMeanBurst: 3 };
    const spec = plotSpecs([long])['burst-histogram']!.spec as unknown as { layer: { data: { values: Record<string, unknown>[] } }[] };
    const bars = spec.layer[0]!.data.values;
    expect(bars.map((b) => [b['bin'], b['count']])).toEqual([
      ['1', 2],
      ['≥12', 2],
    ]);
    const expected = spec.layer[1]!.data.values;
    expect(expected).toHaveLength(12);
    // r = 1/3: P(1) = 1/3, P(≥12) = (2/3)^11; the shares sum to 1.
    expect(expected[0]!['share']).toBeCloseTo(1 / 3, 12);
    expect(expected[11]!['share']).toBeCloseTo((2 / 3) ** 11, 12);
    expect(expected.reduce((a, e) => a + (e['share'] as number), 0)).toBeCloseTo(1, 12);
  });

  it('conditions are labelled by their parameters and ordered by them', () => {
    const mk = (i: number, loss: number, burst: number) => ({
      ...fixtureRun(i, `c${i}`, 1, loss, burst),
      params: { ...fixtureRun(i, `c${i}`, 1, loss, burst).params, configuredLoss: loss, configuredMeanBurst: burst },
    });
    // A trace or bottleneck condition (no closed-form loss) goes after the others, not first.
    const link = fixtureRun(3, 'link l.trace', 1, 0, 1);
    const noModel = {
      ...link,
      params: { ...link.params, netem: 'link /some/folder/l.trace queue codel', configuredLoss: undefined, configuredMeanBurst: undefined },
    };
    const cs = summarizeConditions([noModel, mk(0, 0.05, 3), mk(1, 0.01, 2), mk(2, 0.05, 1)]);
    expect(cs.map((c) => c.label)).toEqual([
      'loss 1 %, burst 2 · adaptive',
      'loss 5 %, burst 1 · adaptive',
      'loss 5 %, burst 3 · adaptive',
      'link l.trace queue codel · adaptive',
    ]);
  });

  it('CSV: one row per run, header first, failed runs with their reason', () => {
    const csv = toCsv(runs).trim().split('\n');
    expect(csv).toHaveLength(7);
    expect(csv[0]!.split(',').slice(0, 4)).toEqual(['index', 'id', 'status', 'reason']);
    expect(csv[6]).toMatch(/^5,run-5,failed,boom,B,/);
  });
});
