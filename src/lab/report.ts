/**
 * The run folder's human side: every plot as an SVG file and `index.html` embedding them, with the
 * per-condition table (means ± 95 % CI) and the failed runs with their reasons.
 */

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunResult } from './result-types.ts';
import { plotSpecs, renderSvg, summarizeConditions } from './plots.ts';
import type { MeanCi } from './stats.ts';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(v: MeanCi | undefined, scale = 1, digits = 2): string {
  if (!v) return '';
  const m = (v.mean * scale).toFixed(digits);
  return v.n > 1 ? `${m} ± ${(v.ci95 * scale).toFixed(digits)}` : m;
}

/** Writes the SVGs and index.html; returns the SVG file names written. */
export async function writeReport(outDir: string, title: string, results: readonly RunResult[]): Promise<string[]> {
  const specs = plotSpecs(results);
  const files: string[] = [];
  const figures: string[] = [];
  for (const [name, { title: t, spec }] of Object.entries(specs)) {
    const file = `${name}.svg`;
    try {
      await writeFile(path.join(outDir, file), await renderSvg(spec));
      files.push(file);
      figures.push(`<figure><figcaption>${esc(t)}</figcaption><img src="${file}" alt="${esc(t)}"></figure>`);
    } catch (err) {
      figures.push(`<p class="err">${esc(name)}: cannot render (${esc(String(err))})</p>`);
    }
  }
  const cs = summarizeConditions(results);
  const rows = cs
    .map(
      (c) =>
        `<tr><td>${esc(c.condition)}</td><td>${c.runs}</td><td>${c.configuredLoss === undefined ? '' : (c.configuredLoss * 100).toFixed(2)}</td>` +
        `<td>${fmt(c.m.observedLoss, 100)}</td><td>${fmt(c.m.rtcpLoss, 100)}</td><td>${fmt(c.m.rtcpCumLostError, 1, 1)}</td>` +
        `<td>${c.configuredMeanBurst?.toFixed(2) ?? ''}</td><td>${fmt(c.m.meanLossRun)}</td><td>${fmt(c.m.effectiveLoss, 100)}</td>` +
        `<td>${fmt(c.m.playoutDelayMs, 1, 0)}</td><td>${fmt(c.m.psnr, 1, 1)}</td><td>${fmt(c.m.ssim, 1, 3)}</td><td>${fmt(c.m.freezeMs, 1, 0)}</td><td>${fmt(c.m.mos)}</td></tr>`,
    )
    .join('\n');
  const failed = results.filter((r) => r.status === 'failed');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} — streamlab lab</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child{text-align:left}figure{display:inline-block;margin:1em;vertical-align:top}figcaption{font-weight:600;margin-bottom:.5em;max-width:520px}.err{color:#b00}</style>
</head><body>
<h1>${esc(title)}</h1>
<p>${results.length} runs, ${failed.length} failed. Means over seeds ± half-width of the 95 % confidence interval (Student t). Files: <a href="results.json">results.json</a>, <a href="results.csv">results.csv</a>.</p>
<table><thead><tr><th>condition</th><th>runs</th><th>configured loss %</th><th>observed loss %</th><th>RTCP loss %</th><th>RTCP cum. lost − truth</th><th>1/r</th><th>mean loss run</th><th>effective loss %</th><th>playout delay ms</th><th>PSNR dB</th><th>SSIM</th><th>freeze ms</th><th>audio MOS</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${figures.join('\n')}
${failed.length ? `<h2>Failed runs</h2><ul>${failed.map((r) => `<li>${esc(r.id)} (${esc(r.params.condition)}, seed ${r.params.seed}): ${esc(r.reason ?? '')}</li>`).join('')}</ul>` : ''}
</body></html>
`;
  await writeFile(path.join(outDir, 'index.html'), html);
  return files;
}
