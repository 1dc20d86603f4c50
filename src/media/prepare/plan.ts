/**
 * What preparing a file means, decided from its ffprobe description alone (pure): per stream copy
 * (remux, no quality loss) or transcode, and the container of the prepared file:
 *
 * - `mp4`/`mov`: every kept stream is a codec the server packetizes natively (H.264, H.265, AAC,
 *   Opus, MP3/MP2, G.711 µ-law/A-law at 8 kHz mono). MP4 unless a G.711 stream needs MOV (the MP4
 *   muxer has no tag for it); Opus only goes in MP4, so with G.711 present the Opus stream is
 *   transcoded to AAC. `+faststart` puts the moov first. G.711 longer than MAX_G711_SECONDS, or not
 *   8 kHz mono, is transcoded to AAC.
 * - `mp2t`: a stream is a codec MPEG-TS carries but we do not packetize (MPEG-1/2 video, MPEG-4
 *   Part 2 video, AC-3, E-AC-3, DTS): the file is remuxed into MPEG-TS and served whole as RTP MP2T
 *   (RFC 2250). The other streams are copied when TS carries them, else transcoded.
 * - anything else (VP8, VP9, AV1, Theora, H.263, FLV1, WMV, ...; Vorbis, FLAC, PCM, WMA, ...) is
 *   transcoded: video to H.264 (libx264), audio to AAC; only the streams that need it.
 */

export interface ProbedStream {
  /** Stream index in the input (`-map 0:<index>`). */
  index: number;
  type: 'video' | 'audio' | 'other';
  /** ffprobe codec_name, e.g. 'h264', 'vp9', 'pcm_mulaw'. */
  codec: string;
  sampleRate?: number;
  channels?: number;
  /** Cover art and other attached pictures: dropped. */
  attachedPic?: boolean;
}

export interface ProbeInfo {
  /** ffprobe format_name, e.g. 'matroska,webm'. */
  format: string;
  /** Seconds, when known. */
  durationSec?: number;
  streams: ProbedStream[];
}

export type Route = 'mp4' | 'mov' | 'mp2t';

export interface StreamPlan {
  index: number;
  type: 'video' | 'audio';
  codec: string;
  action: 'copy' | 'transcode';
  /** Codec of the stream in the prepared file (ffprobe name). */
  codecOut: string;
}

export type Plan =
  | { ok: true; route: Route; streams: StreamPlan[]; dropped: ProbedStream[]; summary: 'remux' | 'transcode' | 'mp2t' }
  | { ok: false; reason: string };

/** Options that change the prepared file (they are part of the cache key). */
export interface PrepareOptions {
  /** libx264 -preset (default veryfast). */
  x264Preset?: string;
  /** libx264 -crf (default 20). */
  crf?: number;
  /** AAC bitrate per stream in kbit/s (default 160). */
  audioKbps?: number;
}

export const DEFAULT_PREPARE_OPTIONS: Required<PrepareOptions> = { x264Preset: 'veryfast', crf: 20, audioKbps: 160 };

/** Longest G.711 kept as it is (see planPreparation). */
export const MAX_G711_SECONDS = 500;

/** Codecs we packetize from MP4/MOV ourselves. */
const NATIVE_VIDEO = new Set(['h264', 'hevc']);
const NATIVE_AUDIO = new Set(['aac', 'opus', 'mp3', 'mp2', 'pcm_mulaw', 'pcm_alaw']);
const G711 = new Set(['pcm_mulaw', 'pcm_alaw']);
/** Codecs served through the MP2T route: MPEG-TS carries them, we have no payload format of our own. */
export const MP2T_ROUTE_CODECS = new Set(['mpeg1video', 'mpeg2video', 'mpeg4', 'ac3', 'eac3', 'dts']);
/** What the MP2T route copies into the TS as it is (TS carries it, the client demuxes it). */
const TS_COPY = new Set([...MP2T_ROUTE_CODECS, 'h264', 'hevc', 'aac', 'mp3', 'mp2', 'opus']);

export function planPreparation(info: ProbeInfo): Plan {
  if (info.format === 'tty') return { ok: false, reason: 'a text file, not media' };
  const kept: ProbedStream[] = [];
  const dropped: ProbedStream[] = [];
  for (const s of info.streams) {
    if ((s.type === 'video' || s.type === 'audio') && !s.attachedPic) kept.push(s);
    else dropped.push(s);
  }
  if (kept.length === 0) return { ok: false, reason: 'no audio or video stream' };
  // RTP's G.711 is 8 kHz mono. MOV stores it as one-byte samples and our MP4 reader caps a track at
  // MAX_SAMPLES_PER_TRACK (4 Mi: 524 s at 8 kHz): longer G.711 becomes AAC.
  const g711ok = (s: ProbedStream) =>
    G711.has(s.codec) && s.sampleRate === 8000 && s.channels === 1 && (info.durationSec === undefined || info.durationSec <= MAX_G711_SECONDS);
  const isNative = (s: ProbedStream) =>
    s.type === 'video' ? NATIVE_VIDEO.has(s.codec) : NATIVE_AUDIO.has(s.codec) && (!G711.has(s.codec) || g711ok(s));
  const transcodeTo = (s: ProbedStream): StreamPlan => ({
    index: s.index,
    type: s.type as 'video' | 'audio',
    codec: s.codec,
    action: 'transcode',
    codecOut: s.type === 'video' ? 'h264' : 'aac',
  });
  const copy = (s: ProbedStream): StreamPlan => ({ index: s.index, type: s.type as 'video' | 'audio', codec: s.codec, action: 'copy', codecOut: s.codec });

  let route: Route;
  let streams: StreamPlan[];
  if (kept.some((s) => MP2T_ROUTE_CODECS.has(s.codec))) {
    route = 'mp2t';
    streams = kept.map((s) => (TS_COPY.has(s.codec) ? copy(s) : transcodeTo(s)));
  } else {
    const g711 = kept.some((s) => g711ok(s));
    route = g711 ? 'mov' : 'mp4';
    // MOV takes no Opus (ffmpeg: "opus only supported in MP4"): Opus becomes AAC next to G.711.
    streams = kept.map((s) => (isNative(s) && !(g711 && s.codec === 'opus') ? copy(s) : transcodeTo(s)));
  }
  const summary = route === 'mp2t' ? 'mp2t' : streams.some((s) => s.action === 'transcode') ? 'transcode' : 'remux';
  return { ok: true, route, streams, dropped, summary };
}

/** ffmpeg output arguments (after `-i input`) that carry out the plan. */
export function ffmpegOutputArgs(plan: Extract<Plan, { ok: true }>, options: PrepareOptions = {}): string[] {
  const o = { ...DEFAULT_PREPARE_OPTIONS, ...options };
  const args: string[] = [];
  for (const s of plan.streams) args.push('-map', `0:${s.index}`);
  plan.streams.forEach((s, i) => {
    if (s.action === 'copy') args.push(`-c:${i}`, 'copy');
    else if (s.type === 'video') args.push(`-c:${i}`, 'libx264', `-preset:${i}`, o.x264Preset, `-crf:${i}`, String(o.crf), `-pix_fmt:${i}`, 'yuv420p');
    else args.push(`-c:${i}`, 'aac', `-b:${i}`, `${o.audioKbps}k`);
  });
  args.push('-map_metadata', '-1', '-map_chapters', '-1');
  if (plan.route === 'mp2t') {
    // PAT/PMT before every video keyframe: a random access point is then a place a client can
    // start from without waiting for the next tables.
    args.push('-f', 'mpegts', '-mpegts_flags', '+pat_pmt_at_frames');
  } else {
    args.push('-f', plan.route, '-movflags', '+faststart');
  }
  return args;
}

/** File extension of the prepared file for a route. */
export function routeExtension(route: Route): string {
  return route === 'mp2t' ? 'ts' : route;
}

/** What TS carries and the MP4 muxer takes back by `-c copy` (a transcode's intermediate TS). */
const TS_TO_MP4 = new Set(['h264', 'hevc', 'aac', 'mp3', 'mp2', 'opus']);

/**
 * How a preparation's output can be played while ffmpeg still writes it (a transport stream is
 * readable as it grows; MP4/MOV are not, their index comes last):
 * - 'mp2t': the MP2T route writes the TS it serves;
 * - 'via-ts': a transcode into MP4 writes H.264/AAC (or copied) streams into a TS first, served
 *   growing as MP2T, then remuxed into MP4 without re-encoding (remuxTsArgs), so later sessions
 *   get the native packetization;
 * - undefined: a remux (I/O-bound: seconds, not worth a second file) and MOV (G.711, which TS does
 *   not carry) keep DESCRIBE's bounded wait and 503.
 */
export function growingRoute(plan: Extract<Plan, { ok: true }>): 'mp2t' | 'via-ts' | undefined {
  if (plan.route === 'mp2t') return 'mp2t';
  if (plan.route === 'mp4' && plan.summary === 'transcode' && plan.streams.every((s) => TS_TO_MP4.has(s.codecOut))) return 'via-ts';
  return undefined;
}

/** ffmpeg output arguments (after `-i intermediate.ts`) that remux the intermediate TS without re-encoding. */
export function remuxTsArgs(route: Route): string[] {
  return ['-map', '0', '-c', 'copy', '-map_metadata', '-1', '-f', route, '-movflags', '+faststart'];
}
