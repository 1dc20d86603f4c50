/**
 * Picture quality of a run: the receiver's recording against the source with ffmpeg's `psnr` and
 * `ssim` filters, frame by frame, aligned by presentation time as EvalVid does: for every source
 * frame of the played span, the frame the receiver was showing then (the latest received frame
 * presented at or before it; a lost frame is so replaced by the last shown one). The alignment is
 * ffmpeg's framesync with the source as the main input; the recording's frames are moved half a
 * frame earlier so that timestamp rounding never pairs a frame with its predecessor.
 */

import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { locate } from '../media/ffmpeg/index.ts';
import { detectFreezes } from './freezes.ts';
import type { VideoQuality } from './result-types.ts';

/**
 * execFile, with the child in a process group of its own (execFile cannot: it drops `detached`):
 * a Ctrl-C at the terminal is the lab's to handle (cli/lab.ts), not ffmpeg's.
 */
function run(file: string, args: string[], o: { maxBuffer?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const max = o.maxBuffer ?? 1024 * 1024;
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (stdout.length > max) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < max) stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`Command failed: ${file} (${signal ?? `exit status ${code}`})\n${stderr}`));
    });
  });
}
const MAX_BUFFER = 256 * 1024 * 1024;
/** PSNR of identical frames is infinite; reported PSNRs (per frame and overall) are capped here. */
export const PSNR_CAP_DB = 100;
/** Peak value of 8-bit video: ffmpeg's psnr filter reports against 255. */
const PEAK = 255;

/** PSNR (dB) of a mean squared error on 8-bit samples, capped at PSNR_CAP_DB (MSE 0: the cap). */
export function psnrFromMse(mse: number): number {
  return mse <= 0 ? PSNR_CAP_DB : Math.min(PSNR_CAP_DB, 10 * Math.log10((PEAK * PEAK) / mse));
}

/** MSE back from a per-frame PSNR (ffmpeg prints psnr_avg with more precision than mse_avg). */
export function mseFromPsnr(db: number): number {
  return db === Infinity ? 0 : (PEAK * PEAK) / 10 ** (db / 10);
}

/** Linear-interpolated quantile of sorted values (q in [0, 1]). */
function quantile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (i - lo);
}

export interface QualitySummary {
  /** Frames compared: exactly the source frames 1..sourceFrames that ffmpeg scored. */
  frames: number;
  /** PSNR of the mean MSE over the compared frames (capped): the figure to report. */
  psnrDb: number | undefined;
  meanMse: number | undefined;
  /** Mean of capped per-frame PSNRs (dominated by the cap when most frames are intact). */
  psnrMean: number | undefined;
  psnrP05: number | undefined;
  psnrMedian: number | undefined;
  ssimMean: number | undefined;
  ssimP05: number | undefined;
  ssimMedian: number | undefined;
  /** Frames whose PSNR reached the cap (identical to the source). */
  framesAtCap: number;
}

/**
 * The figures of exactly the measured span: frames numbered 1..sourceFrames; anything ffmpeg
 * scored beyond (its framesync repeats the last source frame while the recording goes on) is out.
 */
export function summarizeQuality(
  psnr: ReadonlyMap<number, number>,
  ssim: ReadonlyMap<number, number>,
  sourceFrames: number,
): QualitySummary {
  const inSpan = (n: number) => n >= 1 && n <= sourceFrames;
  const ps: number[] = [];
  const ss: number[] = [];
  let mseSum = 0;
  let atCap = 0;
  for (const [n, p] of psnr) {
    if (!inSpan(n)) continue;
    mseSum += mseFromPsnr(p);
    const capped = Math.min(PSNR_CAP_DB, p);
    if (capped >= PSNR_CAP_DB) atCap++;
    ps.push(capped);
  }
  for (const [n, v] of ssim) if (inSpan(n)) ss.push(v);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
  const sp = [...ps].sort((a, b) => a - b);
  const sss = [...ss].sort((a, b) => a - b);
  const meanMse = ps.length ? mseSum / ps.length : undefined;
  return {
    frames: ps.length,
    psnrDb: meanMse === undefined ? undefined : psnrFromMse(meanMse),
    meanMse,
    psnrMean: mean(ps),
    psnrP05: quantile(sp, 0.05),
    psnrMedian: quantile(sp, 0.5),
    ssimMean: mean(ss),
    ssimP05: quantile(sss, 0.05),
    ssimMedian: quantile(sss, 0.5),
    framesAtCap: atCap,
  };
}

let vmafAvailable: Promise<boolean> | undefined;
/** Whether the installed ffmpeg has the libvmaf filter (probed once). */
export function hasLibvmaf(): Promise<boolean> {
  vmafAvailable ??= run(locate('ffmpeg'), ['-hide_banner', '-filters'], { maxBuffer: MAX_BUFFER })
    .then(({ stdout }) => /\slibvmaf\s/.test(stdout))
    .catch(() => false);
  return vmafAvailable;
}

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
  const { stdout } = await run(locate('ffprobe'), [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=avg_frame_rate,r_frame_rate',
    '-of',
    'csv=p=0',
    file,
  ]);
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
    psnrCapDb: PSNR_CAP_DB,
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
  const graphInputs = {
    ref: `[0:v]trim=start=${q.startNpt.toFixed(6)}:duration=${dur.toFixed(6)},setpts=PTS-STARTPTS`,
    // A recording that stops early (a freeze to the end) still shows its last frame: clone it for
    // the span's length, so every source frame is scored (frames beyond the span are left out).
    dist: `[1:v]setpts=PTS+(${shift.toFixed(6)})/TB,tpad=stop_mode=clone:stop_duration=${dur.toFixed(6)}`,
  };
  const graph = [
    `${graphInputs.ref},split[r1][r2]`,
    `${graphInputs.dist},split[d1][d2]`,
    `[r1][d1]psnr=stats_file='${escapeFilterPath(psnrLog)}'[o1]`,
    `[r2][d2]ssim=stats_file='${escapeFilterPath(ssimLog)}'[o2]`,
  ].join(';');
  try {
    await run(
      locate('ffmpeg'),
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-nostdin',
        '-copyts',
        '-i',
        q.source,
        '-i',
        q.recording,
        '-filter_complex',
        graph,
        '-map',
        '[o1]',
        '-f',
        'null',
        '-',
        '-map',
        '[o2]',
        '-f',
        'null',
        '-',
      ],
      { maxBuffer: MAX_BUFFER },
    );
  } catch (err) {
    return { ...empty(`ffmpeg psnr/ssim failed: ${String(err).split('\n')[0]}`), decodedFrames: shown.length, freezes };
  }
  const psnr = parseStatsFile(await readFile(psnrLog, 'utf8'), 'psnr_avg');
  const ssim = parseStatsFile(await readFile(ssimLog, 'utf8'), 'All');
  const sum = summarizeQuality(psnr, ssim, sourceFrames);
  const rows = ['frame,npt,psnr_db,ssim,own_frame'];
  for (const [n, p] of [...psnr].sort((a, b) => a[0] - b[0])) {
    if (n < 1 || n > sourceFrames) continue;
    const s = ssim.get(n);
    const npt = q.startNpt + (n - 1) * interval;
    rows.push(`${n},${npt.toFixed(3)},${Math.min(PSNR_CAP_DB, p).toFixed(3)},${s?.toFixed(5) ?? ''},${ownSlots.has(n - 1) ? 1 : 0}`);
  }
  const perFrameFile = path.join(q.runDir, 'quality.csv');
  await writeFile(perFrameFile, rows.join('\n') + '\n');
  const vmaf = (await hasLibvmaf()) ? await measureVmaf(q, graphInputs, sourceFrames) : undefined;
  return {
    sourceFrames,
    decodedFrames: shown.length,
    missingFrames: Math.max(0, sourceFrames - ownSlots.size),
    freezes,
    psnrMean: sum.psnrMean,
    ssimMean: sum.ssimMean,
    psnrDb: sum.psnrDb,
    psnrCapDb: PSNR_CAP_DB,
    comparedFrames: sum.frames,
    framesAtCap: sum.framesAtCap,
    psnrP05: sum.psnrP05,
    psnrMedian: sum.psnrMedian,
    ssimP05: sum.ssimP05,
    ssimMedian: sum.ssimMedian,
    vmafMean: vmaf,
    perFrameFile: path.basename(perFrameFile),
  };
}

/** VMAF (libvmaf's default model) over the same aligned span; undefined when it fails. */
async function measureVmaf(q: QualityInput, inputs: { ref: string; dist: string }, sourceFrames: number): Promise<number | undefined> {
  const log = path.join(q.runDir, 'vmaf.json');
  const graph = `${inputs.ref}[r];${inputs.dist}[d];[d][r]libvmaf=log_fmt=json:log_path='${escapeFilterPath(log)}',trim=end_frame=${sourceFrames}`;
  try {
    await run(
      locate('ffmpeg'),
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-nostdin',
        '-copyts',
        '-i',
        q.source,
        '-i',
        q.recording,
        '-filter_complex',
        graph,
        '-f',
        'null',
        '-',
      ],
      { maxBuffer: MAX_BUFFER },
    );
    const j = JSON.parse(await readFile(log, 'utf8')) as { frames?: { frameNum: number; metrics: { vmaf: number } }[] };
    const xs = (j.frames ?? []).filter((f) => f.frameNum < sourceFrames).map((f) => f.metrics.vmaf);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;
  } catch {
    return undefined;
  }
}

/** Paths inside a filter graph option: `:` `\` `'` need escaping. */
function escapeFilterPath(p: string): string {
  return p.replace(/\\/g, '/').replace(/'/g, "'\\''").replace(/:/g, '\\:');
}
