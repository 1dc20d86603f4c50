/**
 * ffmpeg's framemd5 output as data, and the comparisons the integration tests make with it.
 *
 * One ffmpeg run gives both tracks: `-map 0:v -map 0:a -c:a copy -f framemd5 -` hashes every
 * decoded video frame (rawvideo, presentation order) as stream 0 and every AAC packet as it was
 * demuxed (no decoding) as stream 1. The same command on the file is the reference.
 */

import { SAMPLE } from './server.ts';
import { expectSuccess, runProgram } from './run-program.ts';

export interface FrameHash {
  stream: number;
  dts: number;
  pts: number;
  duration: number;
  size: number;
  hash: string;
}

export interface TrackHashes {
  video: FrameHash[];
  audio: FrameHash[];
}

/** Parses framemd5 text (v2: `stream, dts, pts, duration, size, hash[, side data...]`). */
export function parseFramemd5(text: string): FrameHash[] {
  const out: FrameHash[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(',').map((s) => s.trim());
    if (f.length < 6) throw new Error(`not a framemd5 line: ${line}`);
    out.push({ stream: Number(f[0]), dts: Number(f[1]), pts: Number(f[2]), duration: Number(f[3]), size: Number(f[4]), hash: f[5]! });
  }
  return out;
}

function split(frames: FrameHash[]): TrackHashes {
  return { video: frames.filter((f) => f.stream === 0), audio: frames.filter((f) => f.stream === 1) };
}

export interface Framemd5Options {
  /** `-t`: how much of the input to hash (an output option). */
  seconds?: number;
  /** Options before `-i` (e.g. `-rtsp_transport tcp`, `-protocol_whitelist file,udp,rtp`). */
  inputArgs?: readonly string[];
  /** Streams to hash, in framemd5's stream order; default the video then the audio track. */
  maps?: readonly string[];
  /** The audio as demuxed packets (`-c:a copy`, the default) or as decoded frames. */
  audio?: 'copy' | 'decode';
  /** More output options, before `-f framemd5` (e.g. `-fps_mode passthrough`). */
  outputArgs?: readonly string[];
  /** ffmpeg's -loglevel (default error). */
  loglevel?: string;
}

/** ffmpeg arguments that hash video frames (decoded) and AAC packets (copied) of `input`. */
export function framemd5Args(input: string, opts: Framemd5Options = {}): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    opts.loglevel ?? 'error',
    ...(opts.inputArgs ?? []),
    '-i',
    input,
    ...(opts.seconds !== undefined ? ['-t', String(opts.seconds)] : []),
    ...(opts.maps ?? ['0:v', '0:a']).flatMap((m) => ['-map', m]),
    ...((opts.audio ?? 'copy') === 'copy' ? ['-c:a', 'copy'] : []),
    ...(opts.outputArgs ?? []),
    '-f',
    'framemd5',
    '-',
  ];
}

let reference: Promise<TrackHashes> | undefined;

/** The whole sample file hashed by ffmpeg (computed once per test file). */
export function sampleReference(): Promise<TrackHashes> {
  reference ??= runProgram('ffmpeg', framemd5Args(SAMPLE), 120_000).then((r) => {
    expectSuccess(r, 'ffmpeg framemd5 of the sample');
    return split(parseFramemd5(r.stdout));
  });
  return reference;
}

/** Plays `url` with ffmpeg for `seconds` over `transport` and hashes what it received. */
export async function captureRtsp(
  url: string,
  transport: 'udp' | 'tcp',
  seconds: number,
): Promise<TrackHashes & { wallMs: number; stderr: string }> {
  const r = await runProgram('ffmpeg', framemd5Args(url, { seconds, inputArgs: ['-rtsp_transport', transport] }), (seconds + 50) * 1000);
  expectSuccess(r, `ffmpeg -rtsp_transport ${transport} ${url}`);
  return { ...split(parseFramemd5(r.stdout)), wallMs: r.wallMs, stderr: r.stderr };
}

/** Where two hash sequences first differ (-1 when `a` is a prefix of `b` or equal). */
export function firstDifference(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/**
 * The check for received video: the received hashes ARE the source's first N frames, in order
 * (presentation order: the sample has B-frames), with N ≥ minFrames. A missing, extra, repeated or
 * reordered frame makes the sequences differ at that index.
 */
export function compareVideo(
  received: readonly FrameHash[],
  source: readonly FrameHash[],
): { frames: number; firstDiff: number; detail: string } {
  const r = received.map((f) => f.hash);
  const s = source.map((f) => f.hash);
  const d = r.length > s.length ? s.length : firstDifference(r, s);
  let detail = 'identical prefix';
  if (d >= 0) {
    const at = s.indexOf(r[d] ?? '');
    detail = `received frame ${d} (${r[d]}) is source frame ${at} (expected source frame ${d})`;
  }
  return { frames: r.length, firstDiff: d, detail };
}

/**
 * The check for received AAC packets: they must be ONE contiguous run of the source's packets.
 *
 * Alignment: the run must start at the source's first packet with pts ≥ 0 (`firstIndex`). The
 * file's first AAC packet has pts −1024 (−21.3 ms): it is encoder priming, which the MP4 edit
 * list cuts from the presentation (ffmpeg marks it skip_samples). PLAY from npt 0 starts each
 * non-video track at its last sample presented at or before 0, which is the packet at pts 0, so
 * the priming packet is never sent and the received run begins at source index 1. Nothing else
 * is allowed: a run starting anywhere else, a gap, a repeat or a reordering fails.
 */
export function compareAudio(
  received: readonly FrameHash[],
  source: readonly FrameHash[],
): {
  firstIndex: number;
  expectedFirstIndex: number;
  packets: number;
  contiguous: boolean;
  detail: string;
  /** Largest |received pts offset − source pts offset| over the run, in 1/48000 s (see the test). */
  maxPtsError: number;
} {
  const expectedFirstIndex = source.findIndex((f) => f.pts >= 0);
  const firstIndex = received.length > 0 ? source.findIndex((f) => f.hash === received[0]!.hash) : -1;
  let contiguous = firstIndex >= 0;
  let detail = firstIndex >= 0 ? 'contiguous' : 'first received packet is not in the source';
  for (let i = 0; contiguous && i < received.length; i++) {
    if (source[firstIndex + i]?.hash !== received[i]!.hash) {
      contiguous = false;
      detail = `received packet ${i} is not source packet ${firstIndex + i} (it is source packet ${source.findIndex((f) => f.hash === received[i]!.hash)})`;
    }
  }
  let maxPtsError = contiguous ? 0 : Infinity;
  for (let i = 1; contiguous && i < received.length; i++) {
    const want = source[firstIndex + i]!.pts - source[firstIndex]!.pts;
    const got = received[i]!.pts - received[0]!.pts;
    maxPtsError = Math.max(maxPtsError, Math.abs(got - want));
  }
  return { firstIndex, expectedFirstIndex, packets: received.length, contiguous, detail, maxPtsError };
}
