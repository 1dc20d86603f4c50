/**
 * The run folder's human side: every plot as SVG and PNG, and `index.html`, which opens with the
 * experiment's description and provenance (version, commit, host, mode, seeds, media, duration,
 * the exact netem words), then the per-condition table (means ± 95 % CI), the statistics (paired
 * differences over common seeds, goodness of fit of the loss runs, seeds needed), the figures and
 * the failed runs with their reasons.
 */

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { geometricGoodnessOfFit, lossEventCounts, pairedDifference, runsForHalfWidth } from './paired-stats.ts';
import { MEASURES, plotSpecs, renderSvg, summarizeConditions } from './plots.ts';
import type { ConditionSummary } from './plots.ts';
import { svgToPng } from './png.ts';
import type { Provenance } from './provenance.ts';
import { IMPAIRMENT_SCOPE } from './experiment.ts';
import type { RunResult } from './result-types.ts';
import type { ResultsFile } from './results-io.ts';
import type { MeanCi } from './stats.ts';
import { PSNR_CAP_DB } from './video-quality.ts';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(v: MeanCi | undefined, scale = 1, digits = 2): string {
  if (!v) return '';
  const m = (v.mean * scale).toFixed(digits);
  return v.n > 1 ? `${m} ± ${(v.ci95 * scale).toFixed(digits)}` : m;
}

export interface ReportMeta {
  experiment?: ResultsFile['experiment'];
  provenance?: Provenance;
}

async function metaFromResults(outDir: string): Promise<ReportMeta> {
  try {
    const f = JSON.parse(await readFile(path.join(outDir, 'results.json'), 'utf8')) as Partial<ResultsFile>;
    return { experiment: f.experiment, provenance: f.provenance };
  } catch {
    return {};
  }
}

/** Provenance rows whose values are HTML already (escaped where they hold data). */
const RAW_ROWS = new Set(['netem', 'netem applies to', 'trace start', 'streamlab', 'host', 'ffmpeg', 'created', 'jitter buffer']);

function provenanceHtml(title: string, m: ReportMeta): string {
  const e = m.experiment;
  const p = m.provenance;
  const rows: [string, string][] = [];
  if (e) {
    rows.push(['mode', e.mode]);
    rows.push(['media', e.media.map((x) => path.basename(x)).join(', ')]);
    rows.push(['duration', `${e.durationSec} s from npt ${e.startNpt} s`]);
    rows.push(['seeds', `${e.seeds.join(', ')} (every condition runs with the same seeds)`]);
    rows.push(['netem', e.netem.map((n) => `<code>${esc(n || '(none)')}</code>`).join('<br>')]);
    const scopes = e.impairment ?? e.netem.map((n) => ({ condition: n, appliesTo: IMPAIRMENT_SCOPE }));
    rows.push(['netem applies to', scopes.map((s) => `<code>${esc(s.condition || '(none)')}</code>: ${esc(s.appliesTo)}`).join('<br>')]);
    if (e.netem.some((n) => /\b(trace|link|delaytrace) /.test(n))) {
      rows.push([
        'trace start',
        e.traceOffset === 'seeded'
          ? "each run's traces start at an offset drawn from its seed, track and direction (each run's <code>params.traceOffsets</code> in results.json)"
          : 'every trace replayed from its start in every run',
      ]);
    }
    rows.push(['jitter buffer', e.jitter.map((j) => esc(j.label)).join(', ')]);
    rows.push(['transport', e.transport.join(', ')]);
  }
  if (p) {
    rows.push([
      'streamlab',
      `${esc(p.streamlabVersion ?? '?')}, commit <code>${esc(p.gitCommit ?? 'unknown')}</code>${p.gitDirty ? ' (with uncommitted changes)' : ''}`,
    ]);
    rows.push([
      'host',
      esc(
        `${p.host.hostname}: ${p.host.platform} ${p.host.release} ${p.host.arch}, ${p.host.cpus} × ${p.host.cpuModel}, ${p.host.memoryGiB} GiB; Node ${p.node}`,
      ),
    ]);
    if (p.ffmpeg) rows.push(['ffmpeg', esc(p.ffmpeg)]);
    rows.push(['created', esc(p.createdAt)]);
  }
  const desc = e?.description ? `<p class="desc">${esc(e.description)}</p>` : '';
  return `<h1>${esc(title)}</h1>\n${desc}\n<table class="prov"><tbody>${rows.map(([k, v]) => `<tr><th>${k}</th><td>${RAW_ROWS.has(k) ? v : esc(v)}</td></tr>`).join('')}</tbody></table>`;
}

/** Measures compared seed by seed against the first condition. */
const PAIRED: [string, string, number, number][] = [
  ['observedLoss', 'observed loss (pp)', 100, 2],
  ['effectiveLoss', 'effective loss (pp)', 100, 2],
  ['playoutDelayMs', 'playout delay (ms)', 1, 1],
  ['psnr', 'PSNR (dB)', 1, 2],
  ['mos', 'audio MOS', 1, 3],
];

function statisticsHtml(cs: readonly ConditionSummary[], results: readonly RunResult[]): string {
  const ok = results.filter((r) => r.status === 'ok');
  const bySeed = (condition: string, key: string) =>
    new Map(ok.filter((r) => r.params.condition === condition).map((r) => [r.params.seed, MEASURES[key]!(r)]));
  const parts: string[] = [];
  if (cs.length > 1) {
    const base = cs[0]!;
    const rows = cs.slice(1).map((c) => {
      const cells = PAIRED.map(([k, , scale, digits]) => {
        const d = pairedDifference(bySeed(base.condition, k), bySeed(c.condition, k));
        return `<td>${d ? `${(d.mean * scale).toFixed(digits)}${d.n > 1 ? ` ± ${(d.ci95 * scale).toFixed(digits)}` : ''} <small>(n=${d.n})</small>` : ''}</td>`;
      });
      return `<tr><td>${esc(c.label)}</td>${cells.join('')}</tr>`;
    });
    parts.push(
      `<h3>Paired differences against “${esc(base.label)}”</h3><p>All conditions run with the same seeds (common random numbers): each difference is taken seed by seed, then averaged (mean ± 95 % CI, n pairs).</p>` +
        `<table><thead><tr><th>condition</th>${PAIRED.map(([, t]) => `<th>Δ ${t}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`,
    );
  }
  const gofRows = cs.map((c) => {
    const ev = lossEventCounts(c.lossRuns);
    const b = c.configuredMeanBurst;
    const g = b !== undefined && b >= 1 ? geometricGoodnessOfFit(c.lossRuns, 1 / b) : undefined;
    return (
      `<tr><td>${esc(c.label)}</td><td>${ev.packets}</td><td>${ev.events}</td><td>${ev.events ? (ev.packets / ev.events).toFixed(2) : ''}</td><td>${b?.toFixed(2) ?? ''}</td>` +
      `<td>${g ? g.chiSquare.toFixed(2) : ''}</td><td>${g?.df ?? ''}</td><td>${g ? g.pValue.toPrecision(3) : b === undefined ? 'no model' : 'too few runs'}</td></tr>`
    );
  });
  parts.push(
    `<h3>Loss runs against the model (video RTP, pooled over seeds)</h3><p>Loss events are runs of consecutive lost packets. χ²: Pearson's test of the measured run lengths against the geometric law with r = 1/burst (bins pooled to an expected count ≥ 5, the last bin holds every longer run; df = bins − 1). A small p says the runs do not follow the model.</p>` +
      `<table><thead><tr><th>condition</th><th>lost packets</th><th>loss events</th><th>mean run</th><th>1/r</th><th>χ²</th><th>df</th><th>p</th></tr></thead><tbody>${gofRows.join('')}</tbody></table>`,
  );
  const needRows = cs.map((c) => {
    const cell = (k: string, rel: number) => {
      const v = c.m[k];
      if (!v || v.n < 2 || v.mean === 0) return '<td></td>';
      return `<td>${runsForHalfWidth(v.sd, Math.abs(v.mean) * rel)}</td>`;
    };
    return `<tr><td>${esc(c.label)}</td><td>${c.runs}</td>${cell('observedLoss', 0.1)}${cell('effectiveLoss', 0.1)}${cell('meanLossRun', 0.1)}${cell('psnr', 0.05)}</tr>`;
  });
  parts.push(
    `<h3>Seeds needed</h3><p>Runs per condition for a 95 % CI half-width of 10 % of the mean (loss, mean run) or 5 % (PSNR), from the standard deviation measured here.</p>` +
      `<table><thead><tr><th>condition</th><th>runs now</th><th>observed loss</th><th>effective loss</th><th>mean loss run</th><th>PSNR</th></tr></thead><tbody>${needRows.join('')}</tbody></table>`,
  );
  return `<h2>Statistics</h2>\n${parts.join('\n')}`;
}

/** Writes the SVGs, PNGs and index.html; returns the SVG file names written. */
export async function writeReport(outDir: string, title: string, results: readonly RunResult[], meta?: ReportMeta): Promise<string[]> {
  const m = meta ?? (await metaFromResults(outDir));
  const specs = plotSpecs(results);
  const files: string[] = [];
  const figures: string[] = [];
  for (const [name, { title: t, spec }] of Object.entries(specs)) {
    const file = `${name}.svg`;
    try {
      const svg = await renderSvg(spec);
      await writeFile(path.join(outDir, file), svg);
      files.push(file);
      let img = file;
      try {
        await writeFile(path.join(outDir, `${name}.png`), svgToPng(svg));
        img = `${name}.png`;
      } catch {
        // PNG is a convenience: the SVG stands.
      }
      figures.push(
        `<figure><img src="${img}" alt="${esc(t)}"><figcaption><a href="${file}">SVG</a>${img.endsWith('.png') ? ` · <a href="${img}">PNG</a>` : ''}</figcaption></figure>`,
      );
    } catch (err) {
      figures.push(`<p class="err">${esc(name)}: cannot render (${esc(String(err))})</p>`);
    }
  }
  const cs = summarizeConditions(results);
  const rows = cs
    .map(
      (c) =>
        `<tr><td>${esc(c.label)}</td><td>${c.runs}</td><td>${c.configuredLoss === undefined ? '' : (c.configuredLoss * 100).toFixed(2)}</td>` +
        `<td>${fmt(c.m.observedLoss, 100)}</td><td>${fmt(c.m.rtcpLoss, 100)}</td><td>${fmt(c.m.rtcpCumLostError, 1, 1)}</td>` +
        `<td>${c.configuredMeanBurst?.toFixed(2) ?? ''}</td><td>${fmt(c.m.meanLossRun)}</td><td>${fmt(c.m.effectiveLoss, 100)}</td>` +
        `<td>${fmt(c.m.playoutDelayMs, 1, 0)}</td><td>${fmt(c.m.psnr, 1, 1)}</td><td>${fmt(c.m.psnrP05, 1, 1)}</td><td>${fmt(c.m.ssim, 1, 3)}</td><td>${fmt(c.m.vmaf, 1, 1)}</td><td>${fmt(c.m.freezeMs, 1, 0)}</td><td>${fmt(c.m.mos)}</td></tr>`,
    )
    .join('\n');
  const failed = results.filter((r) => r.status === 'failed');
  const flagged = results.filter((r) => r.status === 'ok' && (r.flags?.length ?? 0) > 0);
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} — streamlab lab</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,th:first-child{text-align:left}.prov th{background:#f4f4f4}.prov td{text-align:left}figure{display:inline-block;margin:1em;vertical-align:top}figure img{max-width:560px}figcaption{font-size:12px}.err{color:#b00}.desc{font-size:15px;max-width:900px}</style>
</head><body>
${provenanceHtml(title, m)}
<h2>Results</h2>
<p>${results.length} runs, ${failed.length} failed. Means over seeds ± half-width of the 95 % confidence interval (Student t). PSNR is the PSNR of the mean MSE over the measured span, capped at ${PSNR_CAP_DB} dB (identical frames); per-frame values are in each run's quality.csv. VMAF appears when the installed ffmpeg has libvmaf. Files: <a href="results.json">results.json</a>, <a href="results.csv">results.csv</a>; each run folder holds the sent and arrived packets as pcap and the emulator's fate log.</p>
<table><thead><tr><th>condition</th><th>runs</th><th>configured loss %</th><th>observed loss %</th><th>RTCP loss %</th><th>RTCP cum. lost − truth</th><th>1/r</th><th>mean loss run</th><th>effective loss %</th><th>playout delay ms</th><th>PSNR dB</th><th>PSNR 5th pct. frame dB</th><th>SSIM</th><th>VMAF</th><th>freeze ms</th><th>audio MOS</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${statisticsHtml(cs, results)}
<h2>Figures</h2>
${figures.join('\n')}
${flagged.length ? `<h2>Flagged runs</h2><p>Runs whose timing was not the model's (the host could not keep up); their figures are in the means above.</p><ul>${flagged.map((r) => `<li>${esc(r.id)} (${esc(r.params.condition)}, seed ${r.params.seed}): ${esc((r.flags ?? []).join('; '))}</li>`).join('')}</ul>` : ''}
${failed.length ? `<h2>Failed runs</h2><ul>${failed.map((r) => `<li>${esc(r.id)} (${esc(r.params.condition)}, seed ${r.params.seed}): ${esc(r.reason ?? '')}</li>`).join('')}</ul>` : ''}
</body></html>
`;
  await writeFile(path.join(outDir, 'index.html'), html);
  return files;
}
