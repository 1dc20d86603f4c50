/**
 * Plots of an experiment as vega-lite specs rendered headless to SVG with vega's `View.toSVG()`
 * (no browser, no canvas). Repetitions of one condition are aggregated into means with 95 %
 * confidence intervals (Student t), drawn as error bars on every plotted mean.
 */

import type { TopLevelSpec } from 'vega-lite';
import type { RunResult, TrackResult } from './result-types.ts';
import { meanCi } from './stats.ts';
import type { MeanCi } from './stats.ts';

export interface ConditionSummary {
  condition: string;
  netem: string;
  jitter: string;
  transport: string;
  runs: number;
  configuredLoss: number | undefined;
  configuredMeanBurst: number | undefined;
  /** Means with CIs of the main figures (video track unless named audio). */
  m: Record<string, MeanCi | undefined>;
  /** Loss-run length histogram pooled over the runs (video track). */
  lossRuns: { length: number; count: number }[];
}

const video = (r: RunResult): TrackResult | undefined => r.tracks.find((t) => t.media === 'video') ?? r.tracks[0];
const audio = (r: RunResult): TrackResult | undefined => r.tracks.find((t) => t.media === 'audio');

/** Figures averaged per condition; keys of `m` are the plotted measures. */
export const MEASURES: Record<string, (r: RunResult) => number | undefined> = {
  observedLoss: (r) => video(r)?.truth.lossRate,
  rtcpLoss: (r) => video(r)?.rtcp.reportedLossRate,
  rtcpCumLostError: (r) => video(r)?.rtcp.cumulativeLostError,
  meanLossRun: (r) => {
    const t = video(r);
    return t && t.truth.lost > 0 ? t.truth.meanLossRun : undefined;
  },
  audioMeanLossRun: (r) => {
    const t = audio(r);
    return t && t.truth.lost > 0 ? t.truth.meanLossRun : undefined;
  },
  effectiveLoss: (r) => video(r)?.jitterBuffer.effectiveLossRate,
  lateLoss: (r) => {
    const t = video(r);
    return t && t.receiver.expected > 0 ? t.jitterBuffer.late / t.receiver.expected : undefined;
  },
  playoutDelayMs: (r) => video(r)?.jitterBuffer.meanPlayoutDelayMs,
  jitterMs: (r) => video(r)?.receiver.jitterMs,
  psnr: (r) => r.video?.psnrMean,
  ssim: (r) => r.video?.ssimMean,
  freezeMs: (r) => r.video?.freezes.totalMs,
  mos: (r) => r.audio?.mos,
  audioLoss: (r) => audio(r)?.truth.lossRate,
};

export function summarizeConditions(results: readonly RunResult[]): ConditionSummary[] {
  const groups = new Map<string, RunResult[]>();
  for (const r of results) {
    if (r.status !== 'ok') continue;
    const g = groups.get(r.params.condition) ?? [];
    g.push(r);
    groups.set(r.params.condition, g);
  }
  return [...groups.entries()].map(([condition, runs]) => {
    const p = runs[0]!.params;
    const m: ConditionSummary['m'] = {};
    for (const [k, f] of Object.entries(MEASURES)) m[k] = meanCi(runs.map(f));
    const hist = new Map<number, number>();
    for (const r of runs) for (const h of video(r)?.truth.lossRuns ?? []) hist.set(h.length, (hist.get(h.length) ?? 0) + h.count);
    return {
      condition,
      netem: p.netem,
      jitter: p.jitter,
      transport: p.transport,
      runs: runs.length,
      configuredLoss: p.configuredLoss,
      configuredMeanBurst: p.configuredMeanBurst,
      m,
      lossRuns: [...hist.entries()].sort((a, b) => a[0] - b[0]).map(([length, count]) => ({ length, count })),
    };
  });
}

type Row = Record<string, string | number | undefined>;

function ciRow(c: ConditionSummary, key: string, scale = 1): Row | undefined {
  const v = c.m[key];
  if (!v) return undefined;
  return { condition: c.condition, netem: c.netem, jitter: c.jitter, n: v.n, mean: v.mean * scale, lo: v.lo * scale, hi: v.hi * scale };
}

const WIDTH = 420;
const HEIGHT = 260;

/** Points (or bars) with error bars from pre-computed mean/lo/hi. */
function meanWithErrorBars(rows: Row[], x: { field: string; title: string; type: 'nominal' | 'quantitative' }, yTitle: string, color: string, bar = false): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    encoding: {
      x: { field: x.field, type: x.type, title: x.title, ...(x.type === 'nominal' ? { axis: { labelAngle: -30, labelLimit: 220 } } : { scale: { zero: false } }) },
      color: { field: color, type: 'nominal', legend: { orient: 'bottom', columns: 1, labelLimit: 400 } },
    },
    layer: [
      bar
        ? { mark: { type: 'bar', opacity: 0.8 }, encoding: { y: { field: 'mean', type: 'quantitative', title: yTitle }, xOffset: { field: color } } }
        : { mark: { type: 'point', filled: true, size: 60 }, encoding: { y: { field: 'mean', type: 'quantitative', title: yTitle, scale: { zero: false } } } },
      {
        mark: { type: 'rule', strokeWidth: 1.5 },
        encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, ...(bar ? { xOffset: { field: color } } : {}), color: { value: 'black' } },
      },
    ],
  } as TopLevelSpec;
}

/** The vega-lite specs of the report, by file name (without .svg). */
export function plotSpecs(results: readonly RunResult[]): Record<string, { title: string; spec: TopLevelSpec }> {
  const cs = summarizeConditions(results);
  const out: Record<string, { title: string; spec: TopLevelSpec }> = {};
  const lossRows: Row[] = [];
  for (const c of cs) {
    if (c.configuredLoss !== undefined) lossRows.push({ condition: c.condition, measure: 'configured', mean: c.configuredLoss * 100, lo: c.configuredLoss * 100, hi: c.configuredLoss * 100 });
    const o = ciRow(c, 'observedLoss', 100);
    if (o) lossRows.push({ ...o, measure: 'observed (ground truth)' });
    const r = ciRow(c, 'rtcpLoss', 100);
    if (r) lossRows.push({ ...r, measure: 'RTCP-reported' });
  }
  if (lossRows.length) {
    out['loss'] = {
      title: 'Configured vs observed vs RTCP-reported loss (video RTP, mean ± 95 % CI)',
      spec: meanWithErrorBars(lossRows, { field: 'condition', title: 'condition', type: 'nominal' }, 'packet loss (%)', 'measure', true),
    };
  }
  const burstRows: Row[] = [];
  for (const c of cs) {
    const o = ciRow(c, 'meanLossRun');
    if (o) burstRows.push({ ...o, measure: 'observed mean loss run (video)' });
    const a = ciRow(c, 'audioMeanLossRun');
    if (a) burstRows.push({ ...a, measure: 'observed mean loss run (audio)' });
    if (c.configuredMeanBurst !== undefined) burstRows.push({ condition: c.condition, measure: 'configured 1/r', mean: c.configuredMeanBurst, lo: c.configuredMeanBurst, hi: c.configuredMeanBurst });
  }
  if (burstRows.length) {
    out['burst-mean'] = {
      title: 'Mean loss-run length vs 1/r (mean ± 95 % CI over seeds)',
      spec: meanWithErrorBars(burstRows, { field: 'condition', title: 'condition', type: 'nominal' }, 'mean loss run (packets)', 'measure', true),
    };
  }
  const histRows: Row[] = [];
  for (const c of cs) {
    const total = c.lossRuns.reduce((a, h) => a + h.count, 0);
    for (const h of c.lossRuns) histRows.push({ condition: c.condition, length: Math.min(h.length, 12), share: total ? h.count / total : 0 });
  }
  if (histRows.length) {
    out['burst-histogram'] = {
      title: 'Loss-run length histogram, pooled over seeds (video RTP; 12 = 12 or more)',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        width: WIDTH,
        height: HEIGHT,
        data: { values: histRows },
        mark: 'bar',
        encoding: {
          x: { field: 'length', type: 'ordinal', title: 'loss run length (packets)' },
          y: { aggregate: 'sum', field: 'share', type: 'quantitative', title: 'share of loss runs', stack: null },
          xOffset: { field: 'condition' },
          color: { field: 'condition', type: 'nominal', legend: { orient: 'bottom', columns: 1, labelLimit: 400 } },
        },
      } as TopLevelSpec,
    };
  }
  const qRows: Row[] = [];
  for (const c of cs) {
    const x = c.m.observedLoss;
    for (const [k, label] of [['psnr', 'PSNR (dB)'], ['ssim', 'SSIM']] as const) {
      const v = c.m[k];
      if (x && v) qRows.push({ condition: c.condition, jitter: c.jitter, metric: label, loss: x.mean * 100, mean: v.mean, lo: v.lo, hi: v.hi });
    }
  }
  if (qRows.length) {
    out['quality'] = {
      title: 'Loss vs picture quality (PSNR, SSIM against the source, EvalVid alignment; mean ± 95 % CI)',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        data: { values: qRows },
        facet: { column: { field: 'metric', type: 'nominal', title: null } },
        resolve: { scale: { y: 'independent' } },
        spec: {
          width: 300,
          height: HEIGHT,
          encoding: { x: { field: 'loss', type: 'quantitative', title: 'observed packet loss (%)' }, color: { field: 'jitter', type: 'nominal', title: 'jitter buffer' } },
          layer: [
            { mark: { type: 'point', filled: true, size: 60 }, encoding: { y: { field: 'mean', type: 'quantitative', title: null, scale: { zero: false } } } },
            { mark: 'rule', encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
          ],
        },
      } as TopLevelSpec,
    };
  }
  const llRows: Row[] = [];
  const lateRows: Row[] = [];
  for (const c of cs) {
    const d = c.m.playoutDelayMs;
    const e = c.m.effectiveLoss;
    if (d && e) llRows.push({ condition: c.condition, netem: c.netem, jitter: c.jitter, delay: d.mean, mean: e.mean * 100, lo: e.lo * 100, hi: e.hi * 100 });
    const j = c.m.jitterMs;
    const l = c.m.lateLoss;
    if (j && l) lateRows.push({ condition: c.condition, netem: c.netem, jitter: c.jitter, rtpJitter: j.mean, mean: l.mean * 100, lo: l.lo * 100, hi: l.hi * 100 });
  }
  const xy = (rows: Row[], x: string, xTitle: string, yTitle: string): TopLevelSpec =>
    ({
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      width: WIDTH,
      height: HEIGHT,
      data: { values: rows },
      encoding: {
        x: { field: x, type: 'quantitative', title: xTitle },
        color: { field: 'jitter', type: 'nominal', title: 'jitter buffer' },
        shape: { field: 'netem', type: 'nominal', legend: { orient: 'bottom', columns: 1, labelLimit: 400 } },
      },
      layer: [
        { mark: { type: 'point', filled: true, size: 60 }, encoding: { y: { field: 'mean', type: 'quantitative', title: yTitle } } },
        { mark: 'rule', encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
      ],
    }) as TopLevelSpec;
  if (llRows.length) out['loss-latency'] = { title: 'Residual loss after the jitter buffer vs its mean playout delay (video)', spec: xy(llRows, 'delay', 'mean playout delay (ms)', 'effective loss (%)') };
  if (lateRows.length) out['late-loss'] = { title: 'RTP jitter vs late loss, per jitter-buffer setting (video)', spec: xy(lateRows, 'rtpJitter', 'RFC 3550 interarrival jitter (ms)', 'late packets (%)') };
  const tRows: Row[] = [];
  for (const r of results) {
    if (r.status !== 'ok' || r.params.repetition !== 0) continue;
    for (const s of r.series) {
      if (s.media !== 'video') continue;
      tRows.push({ condition: r.params.condition, t: s.t, value: s.playoutDelayMs, kind: 'playout delay' });
      tRows.push({ condition: r.params.condition, t: s.t, value: s.targetDelayMs, kind: 'target' });
    }
  }
  if (tRows.length) {
    out['playout-delay'] = {
      title: 'Playout delay and jitter-buffer target over time (video, first seed of each condition)',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        width: WIDTH,
        height: HEIGHT,
        data: { values: tRows },
        mark: { type: 'line', interpolate: 'step-after' },
        encoding: {
          x: { field: 't', type: 'quantitative', title: 'time (s)' },
          y: { field: 'value', type: 'quantitative', title: 'delay (ms)' },
          color: { field: 'condition', type: 'nominal', legend: { orient: 'bottom', columns: 1, labelLimit: 400 } },
          strokeDash: { field: 'kind', type: 'nominal', title: null },
        },
      } as TopLevelSpec,
    };
  }
  return out;
}

/**
 * Renders a vega-lite spec to an SVG string, headless. vega and vega-lite are loaded here, on first
 * use (they take ~0.3 s and ~40 MB to load): no other command pays for them.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
