/**
 * results.json and results.csv (one row per run: parameters + metrics), rewritten whole after each
 * run through a temporary file and a rename, so a stopped lab leaves complete files behind.
 */

import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { IMPAIRMENT_SCOPE } from './experiment.ts';
import type { Experiment } from './experiment.ts';
import { processProvenance } from './provenance.ts';
import type { Provenance } from './provenance.ts';
import type { RunResult, TrackResult } from './result-types.ts';

type Cell = string | number | boolean | undefined;

function trackCols(prefix: string, t: TrackResult | undefined): [string, Cell][] {
  const c = (k: string, v: Cell): [string, Cell] => [`${prefix}_${k}`, v];
  return [
    c('sent', t?.truth.sent),
    c('lost', t?.truth.lost),
    c('loss_rate', t?.truth.lossRate),
    c('mean_loss_run', t?.truth.meanLossRun),
    c('burst_density', t?.truth.burstGap.burstDensity),
    c('gap_density', t?.truth.burstGap.gapDensity),
    c('burst_len_pkts', t?.truth.burstGap.burstLengthPackets),
    c('delayed', t?.truth.delayed),
    c('reordered', t?.truth.reordered),
    c('duplicated', t?.truth.duplicated),
    c('delay_mean_ms', t?.truth.delay.mean),
    c('delay_p95_ms', t?.truth.delay.p95),
    c('dropped_tail', t?.truth.droppedByTail),
    c('dropped_aqm', t?.truth.droppedByAqm),
    c('sojourn_p50_ms', t?.truth.sojourn.p50),
    c('sojourn_p95_ms', t?.truth.sojourn.p95),
    c('sojourn_max_ms', t?.truth.sojourn.max),
    c('window_lost', t?.truth.window?.lost),
    c('window_rfc_lost', t?.truth.window?.rfcLost),
    c('rtcp_reports', t?.rtcp.receiverReports),
    c('rtcp_cum_lost', t?.rtcp.cumulativeLost),
    c('rtcp_cum_lost_error', t?.rtcp.cumulativeLostError),
    c('rtcp_loss_rate', t?.rtcp.reportedLossRate),
    c('rtcp_mean_fraction_lost', t?.rtcp.meanFractionLost),
    c('rtcp_jitter_ms', t?.rtcp.jitterMs),
    c('rtcp_rtt_ms', t?.rtcp.rttMs),
    c('rtcp_sr_received', t?.rtcp.senderReports),
    c('rx_jitter_ms', t?.receiver.jitterMs),
    c('jb_late', t?.jitterBuffer.late),
    c('jb_lost', t?.jitterBuffer.lost),
    c('jb_effective_loss', t?.jitterBuffer.effectiveLossRate),
    c('jb_mean_playout_ms', t?.jitterBuffer.meanPlayoutDelayMs),
    c('jb_mean_target_ms', t?.jitterBuffer.meanTargetDelayMs),
    c('units', t?.units.total),
    c('units_incomplete', t?.units.incomplete),
  ];
}

/** `track 0 rtp: loss from sample 12, link from 40467 ms` */
function traceOffsetText(o: NonNullable<RunResult['params']['traceOffsets']>[number]): string {
  const parts: string[] = [];
  if (o.lossStart !== undefined) parts.push(`loss from sample ${o.lossStart}`);
  if (o.linkOffsetMs !== undefined) parts.push(`link from ${o.linkOffsetMs} ms`);
  if (o.delayOffsetMs !== undefined) parts.push(`delay from ${Math.round(o.delayOffsetMs * 1000) / 1000} ms`);
  return `${o.path}: ${parts.join(', ')}`;
}

/** One CSV row's columns, in order. */
export function csvColumns(r: RunResult): [string, Cell][] {
  const p = r.params;
  const video = r.tracks.find((t) => t.media === 'video');
  const audio = r.tracks.find((t) => t.media === 'audio');
  return [
    ['index', r.index],
    ['id', r.id],
    ['status', r.status],
    ['reason', r.reason],
    ['condition', p.condition],
    ['mode', p.mode],
    ['media', p.media],
    ['duration_s', p.durationSec],
    ['seed', p.seed],
    ['repetition', p.repetition],
    ['netem', p.netem],
    ['jitter_buffer', p.jitter],
    ['transport', p.transport],
    ['trace_offset', p.traceOffset],
    ['trace_offsets', p.traceOffsets?.map(traceOffsetText).join('; ')],
    ['configured_loss', p.configuredLoss],
    ['configured_mean_burst', p.configuredMeanBurst],
    ...trackCols('video', video),
    ['video_source_frames', r.video?.sourceFrames],
    ['video_decoded_frames', r.video?.decodedFrames],
    ['video_missing_frames', r.video?.missingFrames],
    ['video_freezes', r.video?.freezes.count],
    ['video_freeze_ms', r.video?.freezes.totalMs],
    ['video_psnr_db', r.video?.psnrDb],
    ['video_psnr_mean_capped_db', r.video?.psnrMean],
    ['video_psnr_p05_db', r.video?.psnrP05],
    ['video_psnr_cap_db', r.video?.psnrCapDb],
    ['video_frames_at_cap', r.video?.framesAtCap],
    ['video_compared_frames', r.video?.comparedFrames],
    ['video_vmaf', r.video?.vmafMean],
    ['video_ssim', r.video?.ssimMean],
    ...trackCols('audio', audio),
    ['audio_ppl_percent', r.audio?.ppl],
    ['audio_burst_r', r.audio?.burstR],
    ['audio_r', r.audio?.r],
    ['audio_mos', r.audio?.mos],
    ['eventloop_mean_ms', r.eventLoop?.meanMs],
    ['eventloop_p99_ms', r.eventLoop?.p99Ms],
    ['eventloop_max_ms', r.eventLoop?.maxMs],
    ['wall_ms', r.wallMs],
    ['kernel_drops', r.kernelDrops],
    ['flags', r.flags?.join('; ')],
  ];
}

function csvCell(v: Cell): string {
  if (v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(Math.round(v * 1e6) / 1e6) : '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Provenance columns repeated on every row, so a CSV row alone says where it comes from. */
function provenanceCols(p: Provenance | undefined): [string, Cell][] {
  if (!p) return [];
  return [
    ['streamlab_version', p.streamlabVersion],
    ['git_commit', p.gitCommit === undefined ? undefined : `${p.gitCommit}${p.gitDirty ? '+dirty' : ''}`],
    ['host', p.host.hostname],
  ];
}

export function toCsv(results: readonly RunResult[], provenance?: Provenance): string {
  if (results.length === 0) return '';
  const header = [...csvColumns(results[0]!), ...provenanceCols(provenance)].map(([k]) => k);
  const lines = [header.join(',')];
  for (const r of results) lines.push([...csvColumns(r), ...provenanceCols(provenance)].map(([, v]) => csvCell(v)).join(','));
  return lines.join('\n') + '\n';
}

export interface ResultsFile {
  experiment: Omit<Experiment, 'netem'> & {
    netem: string[];
    /** Per condition, what it impairs (describeScope). */
    impairment?: { condition: string; appliesTo: string }[];
  };
  /** Version, commit, host (filled in by writeResults when absent). */
  provenance?: Provenance;
  /** Runs planned / finished (ok or failed); `complete` false while running or when stopped. */
  planned: number;
  finished: number;
  complete: boolean;
  stoppedBy?: string;
  runs: RunResult[];
}

async function atomicWrite(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

export async function writeResults(outDir: string, f: ResultsFile): Promise<void> {
  const runs = [...f.runs].sort((a, b) => a.index - b.index);
  const { provenance: given, ...rest } = f;
  const provenance = given ?? (await processProvenance());
  await atomicWrite(
    path.join(outDir, 'results.json'),
    JSON.stringify(
      { provenance, netemAppliesTo: IMPAIRMENT_SCOPE + ' (unless a condition says otherwise: experiment.impairment)', ...rest, runs },
      null,
      1,
    ),
  );
  await atomicWrite(path.join(outDir, 'results.csv'), toCsv(runs, provenance));
}
