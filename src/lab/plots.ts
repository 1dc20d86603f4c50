/**
 * Plots of an experiment as vega-lite specs rendered headless to SVG with vega's `View.toSVG()`
 * (no browser, no canvas). Repetitions of one condition are aggregated into means with 95 %
 * confidence intervals (Student t), drawn as error bars on every plotted mean.
 */

import type { TopLevelSpec } from 'vega-lite';
import type { RunResult, TrackResult } from './result-types.ts';
import { meanCi } from './stats.ts';
import { PSNR_CAP_DB } from './video-quality.ts';
import type { MeanCi } from './stats.ts';

export interface ConditionSummary {
  condition: string;
  /** The condition named by its parameters (target loss, mean burst, jitter buffer), for plots. */
  label: string;
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
  psnr: (r) => r.video?.psnrDb ?? r.video?.psnrMean,
  psnrP05: (r) => r.video?.psnrP05,
  vmaf: (r) => r.video?.vmafMean,
  networkJitterMs: (r) => video(r)?.truth.delay.std,
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
  const out = [...groups.entries()].map(([condition, runs]) => {
    const p = runs[0]!.params;
    const m: ConditionSummary['m'] = {};
    for (const [k, f] of Object.entries(MEASURES)) m[k] = meanCi(runs.map(f));
    const hist = new Map<number, number>();
    for (const r of runs) for (const h of video(r)?.truth.lossRuns ?? []) hist.set(h.length, (hist.get(h.length) ?? 0) + h.count);
    return {
      condition,
      label: conditionLabel(p),
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
  // Conditions the parameters do not tell apart (other netem words, media) keep their full name.
  const seen = new Map<string, number>();
  for (const c of out) seen.set(c.label, (seen.get(c.label) ?? 0) + 1);
  for (const c of out) if ((seen.get(c.label) ?? 0) > 1) c.label = `${c.label} (${c.condition})`;
  return out.sort(compareConditions);
}

const pct = (x: number) => `${Number((x * 100).toPrecision(3))} %`;

/** "loss 2 %, burst 3 · adaptive" from the configured parameters, else the netem words. */
export function conditionLabel(
  p: Pick<RunResult['params'], 'netem' | 'jitter' | 'transport' | 'configuredLoss' | 'configuredMeanBurst'>,
): string {
  const parts: string[] = [];
  if (p.configuredLoss !== undefined) parts.push(`loss ${pct(p.configuredLoss)}`);
  if (p.configuredMeanBurst !== undefined) parts.push(`burst ${Number(p.configuredMeanBurst.toPrecision(3))}`);
  // Trace files by their base name: a folder path would crowd out the rest of the label.
  const words = p.netem.replace(/\b(trace|link|delaytrace) (\S+)/g, (_m, w: string, f: string) => `${w} ${f.split(/[\\/]/).pop() ?? f}`);
  const net = parts.length ? parts.join(', ') : words || 'no impairment';
  return `${net} · ${p.jitter}${p.transport === 'tcp' ? ' · tcp' : ''}`;
}

/**
 * Conditions ordered by target loss, then mean burst, then the rest of their words; those with no
 * closed-form loss (a trace, a bottleneck) after the others, so the first condition, the baseline
 * of the paired comparisons, is the least impaired one with a known target.
 */
export function compareConditions(a: ConditionSummary, b: ConditionSummary): number {
  const n = (x: number | undefined) => (x === undefined ? Number.MAX_VALUE : x);
  return (
    n(a.configuredLoss) - n(b.configuredLoss) ||
    n(a.configuredMeanBurst) - n(b.configuredMeanBurst) ||
    a.label.localeCompare(b.label) ||
    a.condition.localeCompare(b.condition)
  );
}

type Row = Record<string, string | number | undefined>;

const WIDTH = 420;
const HEIGHT = 260;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';
/** Colour-blind-safe palette (Okabe-Ito), assigned in a fixed order so a series keeps its colour. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];
/** Measures drawn in several plots: one colour each, everywhere. */
export const MEASURE_COLORS: Record<string, string> = {
  'observed (ground truth)': '#0072B2',
  'RTCP-reported': '#E69F00',
  'observed, video': '#0072B2',
  'observed, audio': '#009E73',
  'RFC 3550 jitter (video RTP timestamps)': '#CC79A7',
  'network jitter (emulator delay s.d.)': '#0072B2',
  'playout delay': '#0072B2',
  target: '#D55E00',
};

function measureScale(names: readonly string[]) {
  const domain = [...new Set(names)];
  return { domain, range: domain.map((d) => MEASURE_COLORS[d] ?? '#777777') };
}

/** Conditions coloured in their sorted order, the same in every plot of a report. */
function conditionScale(cs: readonly ConditionSummary[]) {
  return { domain: cs.map((c) => c.label), range: cs.map((_, i) => PALETTE[i % PALETTE.length]!) };
}

/**
 * The range a measure can take (a t interval of few runs reaches past it: PSNR above its cap, SSIM
 * above 1, a loss below 0); CI bars are drawn clipped to it.
 */
const RANGES: Record<string, [number, number]> = {
  observedLoss: [0, 1],
  effectiveLoss: [0, 1],
  lateLoss: [0, 1],
  meanLossRun: [1, Infinity],
  audioMeanLossRun: [1, Infinity],
  psnr: [0, PSNR_CAP_DB],
  ssim: [0, 1],
  vmaf: [0, 100],
};

/** A CI bound clipped to its measure's range (RANGES), when it has one. */
export function clipToRange(key: string, x: number): number {
  const r = RANGES[key];
  return r ? Math.min(r[1], Math.max(r[0], x)) : x;
}

function ciRow(c: ConditionSummary, key: string, scale = 1): Row | undefined {
  const v = c.m[key];
  if (!v) return undefined;
  return {
    condition: c.label,
    netem: c.netem,
    jitter: c.jitter,
    n: v.n,
    mean: v.mean * scale,
    lo: clipToRange(key, v.lo) * scale,
    hi: clipToRange(key, v.hi) * scale,
  };
}

/** "n = 3 runs per condition" (or "n = 2–3 ...") for a figure's subtitle. */
function nText(rows: readonly Row[]): string {
  const ns = rows.map((r) => Number(r['n'])).filter((n) => Number.isFinite(n));
  if (ns.length === 0) return '';
  const lo = Math.min(...ns);
  const hi = Math.max(...ns);
  return `n = ${lo === hi ? lo : `${lo}–${hi}`} runs per condition`;
}

const title = (text: string, subtitle?: string | string[]) => ({
  text,
  ...(subtitle ? { subtitle, subtitleFontSize: 10 } : {}),
  anchor: 'start' as const,
  fontSize: 13,
});
const LEGEND = { orient: 'bottom' as const, columns: 1, labelLimit: 400 };

/**
 * Means as points with 95 % CI bars (n in the tooltip and on the label), one colour per measure,
 * offset side by side per condition; reference values (configured) as black ticks.
 */
function meansByCondition(
  cs: readonly ConditionSummary[],
  rows: Row[],
  refs: Row[],
  t: ReturnType<typeof title>,
  yTitle: string,
): TopLevelSpec {
  const order = cs.map((c) => c.label);
  const x = {
    field: 'condition',
    type: 'nominal',
    title: 'condition (target loss, mean burst · jitter buffer)',
    sort: order,
    axis: { labelAngle: -30, labelLimit: 260 },
  };
  return {
    $schema: SCHEMA,
    title: t,
    width: WIDTH,
    height: HEIGHT,
    layer: [
      {
        data: { values: rows },
        encoding: {
          x,
          xOffset: { field: 'measure' },
          color: {
            field: 'measure',
            type: 'nominal',
            title: null,
            scale: measureScale(rows.map((r) => String(r['measure']))),
            legend: LEGEND,
          },
        },
        layer: [
          { mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
          {
            mark: { type: 'point', filled: true, size: 60 },
            encoding: {
              y: { field: 'mean', type: 'quantitative', title: yTitle, scale: { zero: true } },
              tooltip: [{ field: 'condition' }, { field: 'measure' }, { field: 'mean', format: '.3f' }, { field: 'n' }],
            },
          },
          {
            mark: { type: 'text', dy: -10, fontSize: 9 },
            encoding: { y: { field: 'hi', type: 'quantitative' }, text: { field: 'nLabel' } },
          },
        ],
      },
      ...(refs.length
        ? [
            {
              data: { values: refs },
              mark: { type: 'tick', color: 'black', thickness: 2, size: 36 },
              encoding: { x, y: { field: 'mean', type: 'quantitative' }, tooltip: [{ field: 'measure' }, { field: 'mean' }] },
            },
          ]
        : []),
    ],
  } as TopLevelSpec;
}

/** Expected share of loss runs of length k (k < tail) or ≥ tail under the geometric law with r. */
export function geometricShare(k: number, r: number, tail: number): number {
  return k >= tail ? (1 - r) ** (tail - 1) : r * (1 - r) ** (k - 1);
}

/** Loss runs of this length or longer share the histogram's last bin (labelled "≥ N"). */
export const HIST_TAIL = 12;

/** The vega-lite specs of the report, by file name (without extension). */
export function plotSpecs(results: readonly RunResult[]): Record<string, { title: string; spec: TopLevelSpec }> {
  const cs = summarizeConditions(results);
  const out: Record<string, { title: string; spec: TopLevelSpec }> = {};
  const nLabel = (r: Row) => ({ ...r, nLabel: `n=${r['n']}` });
  const lossRows: Row[] = [];
  const lossRefs: Row[] = [];
  for (const c of cs) {
    if (c.configuredLoss !== undefined) lossRefs.push({ condition: c.label, measure: 'configured', mean: c.configuredLoss * 100 });
    const o = ciRow(c, 'observedLoss', 100);
    if (o) lossRows.push(nLabel({ ...o, measure: 'observed (ground truth)' }));
    const r = ciRow(c, 'rtcpLoss', 100);
    if (r) lossRows.push(nLabel({ ...r, measure: 'RTCP-reported' }));
  }
  if (lossRows.length) {
    const t = 'Packet loss: configured (black tick), observed and RTCP-reported (video RTP)';
    out['loss'] = {
      title: t,
      spec: meansByCondition(
        cs,
        lossRows,
        lossRefs,
        title(t, 'points: mean over seeds; bars: 95 % CI (Student t; observed loss clipped at 0); n = runs'),
        'packet loss (%)',
      ),
    };
  }
  const burstRows: Row[] = [];
  const burstRefs: Row[] = [];
  for (const c of cs) {
    const o = ciRow(c, 'meanLossRun');
    if (o) burstRows.push(nLabel({ ...o, measure: 'observed, video' }));
    const a = ciRow(c, 'audioMeanLossRun');
    if (a) burstRows.push(nLabel({ ...a, measure: 'observed, audio' }));
    if (c.configuredMeanBurst !== undefined) burstRefs.push({ condition: c.label, measure: 'configured 1/r', mean: c.configuredMeanBurst });
  }
  if (burstRows.length) {
    const t = "Mean loss-run length vs the model's 1/r (black tick)";
    out['burst-mean'] = {
      title: t,
      spec: meansByCondition(
        cs,
        burstRows,
        burstRefs,
        title(t, 'points: mean over seeds (runs without loss left out); bars: 95 % CI; n = runs'),
        'mean loss run (packets)',
      ),
    };
  }
  const histRows: Row[] = [];
  const expRows: Row[] = [];
  const binLabel = (k: number) => (k >= HIST_TAIL ? `≥${HIST_TAIL}` : String(k));
  const bins = Array.from({ length: HIST_TAIL }, (_, i) => binLabel(i + 1));
  for (const c of cs) {
    const total = c.lossRuns.reduce((a, h) => a + h.count, 0);
    if (!total) continue;
    const byBin = new Map<string, number>();
    for (const h of c.lossRuns) byBin.set(binLabel(h.length), (byBin.get(binLabel(h.length)) ?? 0) + h.count);
    for (const [bin, count] of byBin) histRows.push({ condition: c.label, bin, share: count / total, count, total });
    const b = c.configuredMeanBurst;
    if (b !== undefined && b >= 1)
      for (let k = 1; k <= HIST_TAIL; k++)
        expRows.push({ condition: c.label, bin: binLabel(k), share: geometricShare(k, 1 / b, HIST_TAIL) });
  }
  if (histRows.length) {
    const t = "Loss-run length distribution vs the model's geometric law (video RTP, pooled over seeds)";
    const x = { field: 'bin', type: 'ordinal', title: 'loss run length (packets)', sort: bins, scale: { domain: bins } };
    const color = { field: 'condition', type: 'nominal', title: null, scale: conditionScale(cs), legend: LEGEND };
    out['burst-histogram'] = {
      title: t,
      spec: {
        $schema: SCHEMA,
        title: title(t, [
          `bars: measured share of loss runs; black ticks: expected r(1−r)^(k−1) with r = 1/burst; last bin ≥${HIST_TAIL} holds every longer run`,
        ]),
        width: WIDTH,
        height: HEIGHT,
        layer: [
          {
            data: { values: histRows },
            mark: { type: 'bar', opacity: 0.85 },
            encoding: {
              x,
              xOffset: { field: 'condition', sort: cs.map((c) => c.label) },
              y: { field: 'share', type: 'quantitative', title: 'share of loss runs', axis: { format: '%' } },
              color,
              tooltip: [{ field: 'condition' }, { field: 'bin' }, { field: 'count' }, { field: 'total' }],
            },
          },
          ...(expRows.length
            ? [
                {
                  data: { values: expRows },
                  mark: { type: 'tick', color: 'black', thickness: 2 },
                  encoding: {
                    x,
                    xOffset: { field: 'condition', sort: cs.map((c) => c.label) },
                    y: { field: 'share', type: 'quantitative' },
                  },
                },
              ]
            : []),
        ],
      } as TopLevelSpec,
    };
  }
  const qRows: Row[] = [];
  for (const c of cs) {
    const x = c.m.observedLoss;
    for (const [k, label] of [
      ['psnr', 'PSNR of the mean MSE (dB)'],
      ['ssim', 'SSIM'],
      ['vmaf', 'VMAF'],
    ] as const) {
      const v = c.m[k];
      if (x && v)
        qRows.push({
          condition: c.label,
          metric: label,
          loss: x.mean * 100,
          mean: v.mean,
          lo: clipToRange(k, v.lo),
          hi: clipToRange(k, v.hi),
          n: v.n,
        });
    }
  }
  if (qRows.length) {
    const t = 'Picture quality vs observed loss (against the source, EvalVid alignment)';
    out['quality'] = {
      title: t,
      spec: {
        $schema: SCHEMA,
        title: title(t, [
          `PSNR of the mean MSE over the span, capped at ${PSNR_CAP_DB} dB (identical frames); mean over seeds ± 95 % CI (clipped to the measure's range), ${nText(qRows)}`,
        ]),
        data: { values: qRows },
        facet: { column: { field: 'metric', type: 'nominal', title: null } },
        resolve: { scale: { y: 'independent' } },
        spec: {
          width: 260,
          height: HEIGHT,
          encoding: {
            x: { field: 'loss', type: 'quantitative', title: 'observed packet loss (%)' },
            color: { field: 'condition', type: 'nominal', title: null, scale: conditionScale(cs), legend: LEGEND },
          },
          layer: [
            { mark: 'rule', encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
            {
              mark: { type: 'point', filled: true, size: 60 },
              encoding: {
                y: { field: 'mean', type: 'quantitative', title: null, scale: { zero: false } },
                tooltip: [{ field: 'condition' }, { field: 'mean' }, { field: 'n' }],
              },
            },
          ],
        },
      },
    };
  }
  const llRows: Row[] = [];
  const jRows: Row[] = [];
  for (const c of cs) {
    const d = c.m.playoutDelayMs;
    const e = c.m.effectiveLoss;
    if (d && e)
      llRows.push({
        condition: c.label,
        delay: d.mean,
        mean: e.mean * 100,
        lo: clipToRange('effectiveLoss', e.lo) * 100,
        hi: clipToRange('effectiveLoss', e.hi) * 100,
        n: e.n,
      });
    const l = c.m.lateLoss;
    for (const [k, measure] of [
      ['jitterMs', 'RFC 3550 jitter (video RTP timestamps)'],
      ['networkJitterMs', 'network jitter (emulator delay s.d.)'],
    ] as const) {
      const j = c.m[k];
      if (j && l)
        jRows.push({
          condition: c.label,
          measure,
          jitter: j.mean,
          mean: l.mean * 100,
          lo: clipToRange('lateLoss', l.lo) * 100,
          hi: clipToRange('lateLoss', l.hi) * 100,
          n: l.n,
        });
    }
  }
  const xy = (
    rows: Row[],
    x: string,
    xTitle: string,
    yTitle: string,
    t: ReturnType<typeof title>,
    colorBy: 'condition' | 'measure',
  ): TopLevelSpec => ({
    $schema: SCHEMA,
    title: t,
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    encoding: {
      x: { field: x, type: 'quantitative', title: xTitle },
      color:
        colorBy === 'condition'
          ? { field: 'condition', type: 'nominal', title: null, scale: conditionScale(cs), legend: LEGEND }
          : { field: 'measure', type: 'nominal', title: null, scale: measureScale(rows.map((r) => String(r['measure']))), legend: LEGEND },
      ...(colorBy === 'measure'
        ? { shape: { field: 'condition', type: 'nominal', title: null, sort: cs.map((c) => c.label), legend: LEGEND } }
        : {}),
    },
    layer: [
      { mark: 'rule', encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
      {
        mark: { type: 'point', filled: true, size: 60 },
        encoding: {
          y: { field: 'mean', type: 'quantitative', title: yTitle },
          tooltip: [{ field: 'condition' }, { field: 'mean' }, { field: 'n' }],
        },
      },
    ],
  });
  if (llRows.length) {
    const t = 'Residual loss after the jitter buffer vs its mean playout delay (video)';
    out['loss-latency'] = {
      title: t,
      spec: xy(
        llRows,
        'delay',
        'mean playout delay (ms)',
        'effective loss (%)',
        title(t, `network loss + packets too late for playout; mean over seeds ± 95 % CI, ${nText(llRows)}`),
        'condition',
      ),
    };
  }
  if (jRows.length) {
    const t = 'Jitter vs late loss (video)';
    out['late-loss'] = {
      title: t,
      spec: xy(
        jRows,
        'jitter',
        'jitter (ms)',
        'late packets (%)',
        title(t, [
          "RFC 3550 jitter of video includes the RTP timestamps' own variation: B-frames are sent in decode order with presentation timestamps,",
          "so it is not 0 without impairment. Network jitter: standard deviation of the emulator's one-way delay (ground truth).",
          `late packets: mean over seeds ± 95 % CI, ${nText(jRows)}`,
        ]),
        'measure',
      ),
    };
  }
  const tRows: Row[] = [];
  const labels = new Map(cs.map((c) => [c.condition, c.label]));
  for (const r of results) {
    if (r.status !== 'ok' || r.params.repetition !== 0) continue;
    const label = labels.get(r.params.condition) ?? r.params.condition;
    for (const s of r.series) {
      if (s.media !== 'video') continue;
      tRows.push({ condition: label, t: s.t, value: s.playoutDelayMs, kind: 'playout delay' });
      tRows.push({ condition: label, t: s.t, value: s.targetDelayMs, kind: 'target' });
    }
  }
  if (tRows.length) {
    const t = 'Playout delay and jitter-buffer target over time (video, first seed of each condition)';
    out['playout-delay'] = {
      title: t,
      spec: {
        $schema: SCHEMA,
        title: title(t, [
          'playout delay (solid): how long the last released packet was held in the jitter buffer, per sample;',
          'target (dashed): the delay the adaptive buffer aims for (fixed buffers: their setting)',
        ]),
        width: WIDTH,
        height: HEIGHT,
        data: { values: tRows },
        mark: { type: 'line', interpolate: 'step-after' },
        encoding: {
          x: { field: 't', type: 'quantitative', title: 'time since start (s)' },
          y: { field: 'value', type: 'quantitative', title: 'delay (ms)' },
          color: { field: 'condition', type: 'nominal', title: null, scale: conditionScale(cs), legend: LEGEND },
          strokeDash: { field: 'kind', type: 'nominal', title: null, sort: ['playout delay', 'target'] },
        },
      },
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
