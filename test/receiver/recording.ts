/**
 * Checking a recording made by `streamlab play --record`: its framemd5 hashes (decoded video,
 * copied AAC) and its packet timestamps (ffprobe), compared with the same of the source file.
 * ffmpeg/ffprobe are the independent oracle; nothing here uses our own code.
 */
import path from 'node:path';
import { expectSuccess, runProgram } from '../helpers/run-program.ts';
import { REPO_ROOT } from '../helpers/server.ts';
import { framemd5Args, parseFramemd5 } from '../helpers/framemd5.ts';
import type { TrackHashes } from '../helpers/framemd5.ts';

export const BIN = path.join(REPO_ROOT, 'bin', 'streamlab.js');

/** Runs `streamlab ARGS` (the real executable) and collects its output. */
export function runCli(args: string[], timeoutMs = 90_000) {
  return runProgram(process.execPath, [BIN, ...args], timeoutMs);
}

export async function hashFile(file: string): Promise<TrackHashes & { stderr: string }> {
  const args = framemd5Args(file);
  // MPEG-TS carries AAC in ADTS frames: strip the 7-byte headers so packets compare with the MP4's.
  if (file.endsWith('.ts')) args.splice(args.indexOf('-f'), 0, '-bsf:a', 'aac_adtstoasc');
  const r = await runProgram('ffmpeg', args, 120_000);
  expectSuccess(r, `ffmpeg framemd5 of ${file}`);
  const frames = parseFramemd5(r.stdout);
  return { video: frames.filter((f) => f.stream === 0), audio: frames.filter((f) => f.stream === 1), stderr: r.stderr };
}

export interface PacketTimes {
  /** Presentation times in seconds, in file (decode) order. */
  video: number[];
  audio: number[];
}

export async function packetTimes(file: string): Promise<PacketTimes> {
  const r = await runProgram('ffprobe', ['-v', 'error', '-show_entries', 'packet=codec_type,pts_time', '-of', 'csv=p=0', file], 60_000);
  expectSuccess(r, `ffprobe packets of ${file}`);
  const out: PacketTimes = { video: [], audio: [] };
  for (const line of r.stdout.split('\n')) {
    const [type, pts] = line.trim().split(',');
    if ((type === 'video' || type === 'audio') && pts !== undefined && pts !== 'N/A') out[type].push(Number(pts));
  }
  return out;
}

/**
 * A/V offsets of a file: first video pts − first audio pts, and last video pts − last audio pts.
 * Equal offsets in the source and a recording mean the start is in sync and nothing drifted.
 */
export function avOffsets(t: PacketTimes, firstAudioIndex = 0): { start: number; end: number } {
  const v = [...t.video].sort((a, b) => a - b);
  const a = [...t.audio].sort((x, y) => x - y).slice(firstAudioIndex);
  return { start: v[0]! - a[0]!, end: v[v.length - 1]! - a[a.length - 1]! };
}

/** Remuxes a file with ffmpeg (`-c copy` to null) and returns its timestamp complaints. */
export async function remuxWarnings(file: string): Promise<string[]> {
  const r = await runProgram(
    'ffmpeg',
    ['-hide_banner', '-nostdin', '-loglevel', 'warning', '-i', file, '-map', '0', '-c', 'copy', '-f', 'null', '-'],
    60_000,
  );
  expectSuccess(r, `ffmpeg remux of ${file}`);
  return r.stderr.split('\n').filter((l) => /unknown timestamp|non monoton|invalid dts|invalid pts|out of order/i.test(l));
}

/** Decodes everything and returns ffmpeg's error lines (a clean recording has none). */
export async function decodeErrors(file: string): Promise<string[]> {
  const r = await runProgram(
    'ffmpeg',
    ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', file, '-map', '0', '-f', 'null', '-'],
    120_000,
  );
  expectSuccess(r, `ffmpeg decode of ${file}`);
  return r.stderr.split('\n').filter((l) => l.trim() !== '');
}
