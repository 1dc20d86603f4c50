/**
 * Picture quality of a run: the receiver's recording against the source with ffmpeg's `psnr` and
 * `ssim` filters, frame by frame, aligned by presentation time as EvalVid does: for every source
 * frame of the played span, the frame the receiver was showing then (the latest received frame
 * presented at or before it; a lost frame is so replaced by the last shown one). The alignment is
 * ffmpeg's framesync with the source as the main input; the recording's frames are moved half a
 * frame earlier so that timestamp rounding never pairs a frame with its predecessor.
 */

import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { locate } from '../media/ffmpeg/index.ts';
import { detectFreezes } from './freezes.ts';
import type { VideoQuality } from './result-types.ts';

const run = promisify(execFile);
const MAX_BUFFER = 256 * 1024 * 1024;
/** PSNR of identical frames is infinite; per-frame values are capped here before averaging. */
export const PSNR_CAP_DB = 100;

async function probeList(file: string, entries: string): Promise<number[]> {
  const { stdout } = await run(
    locate('ffprobe'),
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', entries, '-of', 'csv=p=0', file],
    { maxBuffer: MAX_BUFFER },
  );
  return stdout
    .split('\n')
    .map((l) => Number.parseFloat(l.split(',')[0] ?? ''))
    .filter((x) => Number.isFinite(x));
}

/** Nominal frame rate of the source's first video stream. */
export async function sourceFrameRate(file: string): Promise<number> {
  const { stdout } = await run(locate('ffprobe'), ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=avg_frame_rate,r_frame_rate', '-of', 'csv=p=0', file]);
  for (const f of stdout.trim().split(/[,\n]/)) {
    const [n, d] = f.split('/').map(Number);
    if (n && d) return n / d;
  }
  return 25;
}

/** Parses psnr / ssim stats files: `n:1 ... psnr_avg:34.5 ...` / `n:1 Y:... All:0.98 (17.0)`. */
export function parseStatsFile(text: string, key: 'psnr_avg' | 'All'): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    const n = /(?:^|\s)n:(\d+)/.exec(line);
    const v = new RegExp(`${key}:(\\S+)`).exec(line);
    if (!n || !v) continue;
    const x = v[1] === 'inf' ? Infinity : Number.parseFloat(v[1]!);
    if (!Number.isNaN(x)) out.set(Number(n[1]), x);
  }
  return out;
}

export interface QualityInput {
  source: string;
  recording: string;
  /** Presentation span played, npt seconds. */
  startNpt: number;
  endNpt: number;
  /** npt of the video units handed to the recording. */
  writtenVideoPts: readonly number[];
  runDir: string;
}

export async function measureVideoQuality(q: QualityInput): Promise<VideoQuality> {
  const fps = await sourceFrameRate(q.source);
  const interval = 1 / fps;
  const sourceFrames = Math.max(0, Math.round((q.endNpt - q.startNpt) * fps));
  const empty = (error: string): VideoQuality => ({
    sourceFrames,
    decodedFrames: 0,
    missingFrames: sourceFrames,
    freezes: detectFreezes([], interval * 1000, { from: q.startNpt, to: q.endNpt }),
    psnrMean: undefined,
    ssimMean: undefined,
    perFrameFile: undefined,
    error,
  });
  if (q.writtenVideoPts.length === 0) return empty('no video frame was received');
  const packetPts = await probeList(q.recording, 'packet=pts_time');
  if (packetPts.length === 0) return empty('the recording holds no video');
  // The recording's timestamps are the received ones shifted by one constant (the sink's base and
  // ffmpeg's remux offset): anchor the earliest presented unit on the earliest packet.
  const offset = Math.min(...q.writtenVideoPts) - Math.min(...packetPts);
  const frames = (await probeList(q.recording, 'frame=pts_time')).map((t) => t + offset);
  const shown = frames.filter((t) => t >= q.startNpt - interval / 2 && t < q.endNpt);
  const freezes = detectFreezes(shown, interval * 1000, { from: q.startNpt, to: q.endNpt });
  const ownSlots = new Set(shown.map((t) => Math.round((t - q.startNpt) * fps)));
  const dur = q.endNpt - q.startNpt;
  const psnrLog = path.join(q.runDir, 'psnr.log');
  const ssimLog = path.join(q.runDir, 'ssim.log');
  const shift = offset - q.startNpt - interval / 2;
  const graph = [
    `[0:v]trim=start=${q.startNpt.toFixed(6)}:duration=${dur.toFixed(6)},setpts=PTS-STARTPTS,split[r1][r2]`,
    `[1:v]setpts=PTS+(${shift.toFixed(6)})/TB,split[d1][d2]`,
    `[r1][d1]psnr=stats_file='${escapeFilterPath(psnrLog)}'[o1]`,
    `[r2][d2]ssim=stats_file='${escapeFilterPath(ssimLog)}'[o2]`,
  ].join(';');
  try {
    await run(
      locate('ffmpeg'),
      ['-hide_banner', '-loglevel', 'error', '-nostdin', '-copyts', '-i', q.source, '-i', q.recording, '-filter_complex', graph, '-map', '[o1]', '-f', 'null', '-', '-map', '[o2]', '-f', 'null', '-'],
      { maxBuffer: MAX_BUFFER },
    );
  } catch (err) {
    return { ...empty(`ffmpeg psnr/ssim failed: ${String(err).split('\n')[0]}`), decodedFrames: shown.length, freezes };
  }
  const psnr = parseStatsFile(await readFile(psnrLog, 'utf8'), 'psnr_avg');
  const ssim = parseStatsFile(await readFile(ssimLog, 'utf8'), 'All');
  const rows = ['frame,npt,psnr_db,ssim,own_frame'];
  const ps: number[] = [];
  const ss: number[] = [];
  for (const [n, p] of psnr) {
    const capped = Math.min(PSNR_CAP_DB, p);
    const s = ssim.get(n);
    ps.push(capped);
    if (s !== undefined) ss.push(s);
    const npt = q.startNpt + (n - 1) * interval;
    rows.push(`${n},${npt.toFixed(3)},${capped.toFixed(3)},${s?.toFixed(5) ?? ''},${ownSlots.has(n - 1) ? 1 : 0}`);
  }
  const perFrameFile = path.join(q.runDir, 'quality.csv');
  await writeFile(perFrameFile, rows.join('\n') + '\n');
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
  return {
    sourceFrames,
    decodedFrames: shown.length,
    missingFrames: Math.max(0, sourceFrames - ownSlots.size),
    freezes,
    psnrMean: mean(ps),
    ssimMean: mean(ss),
    perFrameFile: path.basename(perFrameFile),
  };
}

/** Paths inside a filter graph option: `:` `\` `'` need escaping. */
function escapeFilterPath(p: string): string {
  return p.replace(/\\/g, '/').replace(/'/g, "'\\''").replace(/:/g, '\\:');
}
