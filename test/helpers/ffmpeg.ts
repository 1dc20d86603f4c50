/**
 * ffmpeg and ffprobe as RTSP peers of the integration tests: one function per way the tests use
 * them (play, read frames, publish, probe), instead of the argument lists each file repeated.
 * Each runs the program with runProgram: a hard timeout, stdout and stderr kept for assertions and
 * failure messages, and the child killed by its pid if the test that started it ends first. They
 * only run the program and return what it did; every check stays in the test. Also: making test
 * media with ffmpeg (ffmpegMake, lavfiTestInputs).
 */
import path from 'node:path';
import { framemd5Args } from './framemd5.ts';
import { expectSuccess, runProgram } from './run-program.ts';
import type { ProgramResult } from './run-program.ts';

export type RtspTransport = 'udp' | 'tcp';

/** ffmpeg quiet but for errors, never reading stdin. */
const QUIET = ['-hide_banner', '-nostdin', '-loglevel', 'error'];

function run(bin: 'ffmpeg' | 'ffprobe', args: string[], timeoutMs: number): Promise<ProgramResult> {
  return runProgram(bin, args, timeoutMs, { killOnTestEnd: true });
}

export interface ReadOptions {
  transport: RtspTransport;
  /** How much of the stream ffmpeg reads (`-t`, an output option). */
  seconds: number;
  timeoutMs?: number;
}

/** ffmpeg playing `url` over `transport` for `seconds`: demuxed, decoded and dropped (`-f null`). */
export function ffmpegPlay(url: string, { transport, seconds, timeoutMs = 60_000 }: ReadOptions): Promise<ProgramResult> {
  return run('ffmpeg', [...QUIET, '-rtsp_transport', transport, '-i', url, '-t', String(seconds), '-f', 'null', '-'], timeoutMs);
}

/**
 * ffmpeg playing `url` over `transport` for `seconds` and hashing every decoded frame of the
 * mapped streams (`-f framemd5` on stdout, for parseFramemd5). `maps` defaults to the video and
 * the audio track (framemd5 streams 0 and 1); `[]` leaves the choice to ffmpeg (a video-only
 * source). Unlike captureRtsp, the audio is decoded too.
 */
export function ffmpegReadFrames(
  url: string,
  { transport, seconds, timeoutMs = 60_000, maps }: ReadOptions & { maps?: readonly string[] },
): Promise<ProgramResult> {
  return run('ffmpeg', framemd5Args(url, { inputArgs: ['-rtsp_transport', transport], seconds, maps, audio: 'decode' }), timeoutMs);
}

export interface PublishOptions {
  /** RTSP lower transport of the publisher; ffmpeg's own choice (UDP) when absent. */
  transport?: RtspTransport;
  /** Read only this much of the input (`-t` before `-i`). */
  seconds?: number;
  /** `-stream_loop`: how many more times the input is played (-1: without end). */
  loops?: number;
  timeoutMs?: number;
}

/**
 * ffmpeg publishing `input` to `target` (ANNOUNCE, SETUP mode=record, RECORD): the streams copied,
 * read at their own pace (`-re`). Resolves when ffmpeg exits (input done, refused, or timed out).
 */
export function ffmpegPublish(
  input: string,
  target: string,
  { transport, seconds, loops, timeoutMs = 60_000 }: PublishOptions = {},
): Promise<ProgramResult> {
  return run(
    'ffmpeg',
    [
      ...QUIET,
      '-re',
      ...(loops !== undefined ? ['-stream_loop', String(loops)] : []),
      ...(seconds !== undefined ? ['-t', String(seconds)] : []),
      '-i',
      input,
      '-c',
      'copy',
      '-f',
      'rtsp',
      ...(transport !== undefined ? ['-rtsp_transport', transport] : []),
      target,
    ],
    timeoutMs,
  );
}

export interface ProbeOptions {
  /** RTSP lower transport; ffprobe's own choice (UDP first) when absent. */
  transport?: RtspTransport;
  timeoutMs?: number;
}

const transportArgs = (transport: RtspTransport | undefined) => (transport !== undefined ? ['-rtsp_transport', transport] : []);

/** ffprobe naming the codec of each stream of `url`, one a line on stdout (`h264\naac\n`). */
export function ffprobeCodecs(url: string, { transport, timeoutMs = 30_000 }: ProbeOptions = {}): Promise<ProgramResult> {
  return run(
    'ffprobe',
    ['-v', 'error', ...transportArgs(transport), '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', url],
    timeoutMs,
  );
}

/** ffprobe's `-show_streams` of `url` as JSON on stdout. */
export function ffprobeStreams(url: string, { transport, timeoutMs = 60_000 }: ProbeOptions = {}): Promise<ProgramResult> {
  return run('ffprobe', ['-v', 'error', ...transportArgs(transport), '-show_streams', '-of', 'json', url], timeoutMs);
}

/**
 * ffmpeg writing `out` (overwritten) from `args`, its inputs and codec options; throws with
 * ffmpeg's stderr when it fails. Resolves to `out`.
 */
export async function ffmpegMake(out: string, args: readonly string[], timeoutMs = 120_000): Promise<string> {
  const r = await runProgram('ffmpeg', [...QUIET, '-y', ...args, out], timeoutMs);
  expectSuccess(r, `ffmpeg making ${path.basename(out)}`);
  return out;
}

/** Output options of a quick VP8 video encode: libvpx at its realtime deadline, fastest setting. */
export const VP8_FAST: readonly string[] = ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8'];

export interface TestInputOptions {
  /** Picture size, `WxH`. */
  size: string;
  seconds: number;
  /** Frames per second (default 25). */
  rate?: number;
  /** Tone in Hz (default 440). */
  frequency?: number;
  /** Default 48000. */
  sampleRate?: number;
  /** The tone in stereo (`aformat=channel_layouts=stereo`); mono otherwise. */
  stereo?: boolean;
}

/** ffmpeg inputs of generated media: input 0 a testsrc2 picture, input 1 a sine tone, both `seconds` long. */
export function lavfiTestInputs({
  size,
  seconds,
  rate = 25,
  frequency = 440,
  sampleRate = 48000,
  stereo = false,
}: TestInputOptions): string[] {
  return [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${size}:rate=${rate}:duration=${seconds}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${frequency}:sample_rate=${sampleRate}:duration=${seconds}${stereo ? ',aformat=channel_layouts=stereo' : ''}`,
  ];
}
