/**
 * ffprobe through fluent-ffmpeg (the binary from the one locator), reduced to what planning needs.
 */
import ffmpeg from 'fluent-ffmpeg';
import type { FfprobeData } from 'fluent-ffmpeg';
import { locate } from '../ffmpeg/index.ts';
import type { ProbeInfo, ProbedStream } from './plan.ts';

export class PrepareError extends Error {
  constructor(
    readonly code: 'PREP_ERR_PROBE' | 'PREP_ERR_UNSUPPORTED' | 'PREP_ERR_FFMPEG' | 'PREP_ERR_IO',
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

export function probeFile(filePath: string): Promise<ProbeInfo> {
  return new Promise((resolve, reject) => {
    ffmpeg(filePath)
      .setFfprobePath(locate('ffprobe'))
      .ffprobe((err: Error | null, data: FfprobeData) => {
        if (err) reject(new PrepareError('PREP_ERR_PROBE', `ffprobe ${filePath}: ${err.message.split('\n').filter(Boolean).pop() ?? err.message}`));
        else resolve(probeInfoFrom(data));
      });
  });
}
