/**
 * ffprobe through fluent-ffmpeg (the binary from the one locator), reduced to what planning needs.
 */
import type { FfprobeData } from 'fluent-ffmpeg';
import type FluentFfmpeg from 'fluent-ffmpeg';
import { locate } from '../ffmpeg/index.ts';
import { guardedInputOptions, refusedFormatIn } from './input-guard.ts';
import type { ProbeInfo, ProbedStream } from './plan.ts';

export class PrepareError extends Error {
  constructor(
    readonly code: 'PREP_ERR_PROBE' | 'PREP_ERR_UNSUPPORTED' | 'PREP_ERR_REFUSED' | 'PREP_ERR_FFMPEG' | 'PREP_ERR_IO',
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'PrepareError';
  }
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** The probe as plain data (exported for tests of the reduction). */
export function probeInfoFrom(data: FfprobeData): ProbeInfo {
  const streams: ProbedStream[] = data.streams.map((s) => {
    const type = s.codec_type === 'video' || s.codec_type === 'audio' ? s.codec_type : 'other';
    const out: ProbedStream = { index: s.index, type, codec: s.codec_name ?? 'unknown' };
    const rate = num(s.sample_rate);
    if (rate !== undefined) out.sampleRate = rate;
    if (typeof s.channels === 'number') out.channels = s.channels;
    if ((s.disposition)?.attached_pic === 1) out.attachedPic = true;
    return out;
  });
  const info: ProbeInfo = { format: data.format.format_name ?? 'unknown', streams };
  const d = num(data.format.duration);
  if (d !== undefined && d > 0) info.durationSec = d;
  return info;
}

/**
 * ffprobe of one file, fenced to that file (input-guard.ts): a playlist or script format is refused
 * (PREP_ERR_REFUSED, naming the demuxer) before it opens anything it names.
 */
export async function probeFile(filePath: string): Promise<ProbeInfo> {
  const bin = locate('ffprobe');
  const guard = await guardedInputOptions(bin);
  const ffmpeg = await loadFluentFfmpeg();
  return new Promise((resolve, reject) => {
    ffmpeg(filePath)
      .setFfprobePath(bin)
      .ffprobe(guard, (err: Error | null, data: FfprobeData) => {
        if (!err) return resolve(probeInfoFrom(data));
        const refused = refusedFormatIn(err.message);
        if (refused !== undefined) return reject(refusedError(filePath, refused));
        reject(new PrepareError('PREP_ERR_PROBE', `ffprobe ${filePath}: ${err.message.split('\n').filter(Boolean).pop() ?? err.message}`));
      });
  });
}

/**
 * fluent-ffmpeg, imported when a file is first probed or prepared: `serve` does not load it (nor
 * its dependencies) until a file needs ffmpeg, which keeps it out of the idle server's memory.
 */
export async function loadFluentFfmpeg(): Promise<typeof FluentFfmpeg> {
  return (await import('fluent-ffmpeg')).default;
}

/** The error for a file whose format is one input-guard.ts refuses. */
export function refusedError(filePath: string, format: string): PrepareError {
  return new PrepareError(
    'PREP_ERR_REFUSED',
    `${filePath}: format ${format} refused (playlists, concat scripts and other formats that name other files or URLs are not prepared)`,
  );
}
