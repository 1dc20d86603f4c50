import path from 'node:path';
import { parseAacFmtp, parseAudioSpecificConfig, parseH264Fmtp, parseH265Fmtp, parseOpusFmtp } from '../../codecs/index.ts';
import { FfmpegTsSink } from '../../media/ffmpeg/index.ts';
import type { SinkInput, TsSinkMode } from '../../media/ffmpeg/index.ts';
import { TsMuxer } from '../../media/mpegts/index.ts';
import { DTS_DEFAULT_REORDER_DEPTH, DtsDeriver, reorderInfoFromFmtp } from '../dts/index.ts';
import type { SdpTrack } from '../sdp-tracks.ts';
import type { ReceivedUnit } from '../track-receiver.ts';
import { CleanEnd } from './clean-end.ts';
import { TsCleanEnd } from './ts-clean-end.ts';
import { G711_SILENCE, PcmTimeline } from './pcm-timeline.ts';
import type { Sink, SinkCloseOptions, SinkResult } from './sink.ts';

/** Headroom added to every timestamp so that the first frames' DTS (before their PTS) stay ≥ 0. */
const HEADROOM_90K = 2 * 90000;

/** Containers that cannot hold G.711 without re-encoding (ffmpeg: no tag in mp4; data in TS). */
const NO_G711 = new Set(['.mp4', '.m4a', '.m4v', '.ts', '.m2ts', '.mts']);

type VideoUnit = { pts: number; data: Buffer[]; keyframe: boolean };

interface VideoState {
  pid: number;
  dts: DtsDeriver<VideoUnit>;
  /** Recordings and decodes (not live play): the last units, so the end can be cut cleanly. */
  end?: CleanEnd<VideoUnit>;
}

/** Raw G.711 on its own ffmpeg input. */
interface PcmState {
  input: number;
  timeline: PcmTimeline;
}

/**
 * Received access units → MPEG-TS (PTS and DTS per PES, 90 kHz) → ffmpeg: a recording without
 * re-encoding (`--record FILE`), a decode-and-count check (`--null`) or ffplay. RTP carries only
 * presentation times; H.264 decode times are derived (dts/ so B-frame streams record correctly).
 * MPEG audio (MP3/MP2) is muxed as it is (stream_type 0x03/0x04). A recording ends on whole
 * pictures: a stop cut in decode order drops a last anchor whose B-frames did not come (CleanEnd).
 *
 * Tracks MPEG-TS cannot carry go to ffmpeg on inputs of their own: an MP2T track's payload is a
 * transport stream already (its own input, as received, on its own clock: with other tracks
 * beside it in one session it is not aligned to them); G.711 (PCMU/PCMA) goes raw
 * (`-f mulaw|alaw`) with its first sample placed on the common timeline (`-itsoffset`, `-copyts`)
 * and lost or missing packets filled with silence, so its duration and A/V sync stay right.
 */
export class TsOutputSink implements Sink {
  private readonly mux = new TsMuxer();
  /** Set by open(); missing only when open() threw. */
  private process!: FfmpegTsSink;
  /** ffmpeg input of each track that is not muxed into our TS (G.711, MP2T). */
  private readonly ownInput = new Map<number, number>();
  private readonly pcm = new Map<number, PcmState>();
  private readonly pids = new Map<number, number>();
  private readonly video = new Map<number, VideoState>();
  private readonly units: Record<number, number> = {};
  private readonly streamIndex = new Map<number, number>();
  private readonly audioClockRate = new Map<number, number>();
  private base: number | undefined;
  private readonly messages: string[] = [];
  /** MP2T tracks (not live play): held back to whole PES packets, for a clean cut. */
  private readonly tsEnds = new Map<number, TsCleanEnd>();
  /** SDP media type (video, audio) per track index. */
  private readonly media = new Map<number, string>();

  constructor(private readonly mode: TsSinkMode) {}

  open(tracks: SdpTrack[]): void {
    const inputs: SinkInput[] = [];
    const own = (track: number, input: SinkInput) => {
      this.ownInput.set(track, inputs.length);
      inputs.push(input);
    };
    for (const t of tracks) {
      if (!t.codec) continue;
      this.units[t.index] = 0;
      this.media.set(t.index, t.media);
      if (t.codec === 'pcmu' || t.codec === 'pcma') {
        const ext = this.mode.kind === 'record' ? path.extname(this.mode.file).toLowerCase() : '';
        if (NO_G711.has(ext)) {
          throw new Error(`cannot record G.711 (${t.encodingName}) into ${ext} without re-encoding: use .mkv, .mka, .mov, .nut or .wav`);
        }
        const channels = t.channels ?? 1;
        this.pcm.set(t.index, { input: -1, timeline: new PcmTimeline({ rate: t.clockRate, channels, silence: G711_SILENCE[t.codec] }) });
        own(t.index, { format: t.codec === 'pcmu' ? 'mulaw' : 'alaw', sampleRate: t.clockRate, channels, offsetSec: 0 });
      } else if (t.codec === 'mp2t') {
        own(t.index, { format: 'mpegts' });
        // Recordings and decodes end on whole PES packets (live play gets no hold-back).
        if (this.mode.kind !== 'play') this.tsEnds.set(t.index, new TsCleanEnd());
      } else if (t.codec === 'mpa') {
        const pid = this.mux.addStream({ kind: 'mpa' });
        if (!pid.ok) throw new Error(`cannot record track ${t.index}: ${pid.message}`);
        this.addPid(t.index, pid.value);
      } else if (t.codec === 'h264') {
        const f = parseH264Fmtp(t.fmtp);
        const sps = f.ok ? f.value.sps : [];
        const pps = f.ok ? f.value.pps : [];
        const pid = this.mux.addStream({ kind: 'h264', sps, pps });
        if (!pid.ok) throw new Error(`cannot record track ${t.index}: ${pid.message}`);
        const info = reorderInfoFromFmtp('h264', t.fmtp);
        this.video.set(t.index, {
          pid: pid.value,
          dts: new DtsDeriver({ reorderDepth: info.reorderDepth, frameDuration: info.frameDuration90k }),
          end: this.cleanEnd(info.reorderDepth, info.frameDuration90k),
        });
        this.addPid(t.index, pid.value);
      } else if (t.codec === 'h265') {
        const f = parseH265Fmtp(t.fmtp);
        const pid = this.mux.addStream(f.ok ? { kind: 'h265', vps: f.value.vps, sps: f.value.sps, pps: f.value.pps } : { kind: 'h265' });
        if (!pid.ok) throw new Error(`cannot record track ${t.index}: ${pid.message}`);
        // sps_max_num_reorder_pics; no frame duration (the VUI is not read): measured from the stream.
        const info = reorderInfoFromFmtp('h265', t.fmtp);
        this.video.set(t.index, {
          pid: pid.value,
          dts: new DtsDeriver({ reorderDepth: info.reorderDepth }),
          end: this.cleanEnd(info.reorderDepth),
        });
        this.addPid(t.index, pid.value);
      } else if (t.codec === 'opus') {
        const f = parseOpusFmtp(t.fmtp);
        const pid = this.mux.addStream({ kind: 'opus', channels: f.ok && f.value.spropStereo === false ? 1 : 2 });
        if (!pid.ok) throw new Error(`cannot record track ${t.index}: ${pid.message}`);
        this.addPid(t.index, pid.value);
      } else if (t.codec === 'aac') {
        const f = parseAacFmtp(t.fmtp);
        const asc = f.ok ? parseAudioSpecificConfig(f.value.config) : undefined;
        if (!asc?.ok) throw new Error(`cannot record track ${t.index}: no usable AAC config in the SDP`);
        const pid = this.mux.addStream({ kind: 'aac', config: asc.value });
        if (!pid.ok) throw new Error(`cannot record track ${t.index}: ${pid.message}`);
        this.addPid(t.index, pid.value);
        this.audioClockRate.set(t.index, t.clockRate);
      }
    }
    // Our TS is input 0 when it has streams; the other inputs follow in track order.
    const tsInputs: SinkInput[] = this.pids.size > 0 ? [{ format: 'mpegts' }] : [];
    const shift = tsInputs.length;
    for (const [track, i] of this.ownInput) this.ownInput.set(track, i + shift);
    for (const [track, p] of this.pcm) p.input = this.ownInput.get(track)!;
    const aacOutputStreams = [...this.pids.keys()]
      .filter((track) => this.audioClockRate.has(track))
      .map((track) => this.streamIndex.get(track)!);
    this.process = new FfmpegTsSink(this.mode, [...tsInputs, ...inputs], {
      aacOutputStreams,
      outputOffsetSec: -HEADROOM_90K / 90000,
      deferStart: this.pcm.size > 0,
    });
  }

  /** Live play gets no extra hold (latency); a recording holds the reorder depth + 2 units. */
  private cleanEnd(reorderDepth: number | undefined, frameDuration90k?: number): CleanEnd<VideoUnit> | undefined {
    if (this.mode.kind === 'play') return undefined;
    return new CleanEnd(Math.max(reorderDepth ?? 0, DTS_DEFAULT_REORDER_DEPTH) + 2, frameDuration90k);
  }

  private addPid(track: number, pid: number): void {
    this.streamIndex.set(track, this.pids.size);
    this.pids.set(track, pid);
  }

  write(u: ReceivedUnit): void {
    const input = this.ownInput.get(u.track);
    if (input !== undefined) {
      this.units[u.track] = (this.units[u.track] ?? 0) + 1;
      const pcm = this.pcm.get(u.track);
      if (pcm) this.writePcm(pcm, u);
      else {
        const clean = this.tsEnds.get(u.track);
        for (const b of u.data) for (const x of clean ? clean.push(b) : [b]) this.process.writeInput(input, x);
      }
      return;
    }
    const pid = this.pids.get(u.track);
    if (pid === undefined) return;
    this.units[u.track] = (this.units[u.track] ?? 0) + 1;
    const pts90k = this.to90k(u.ptsSec);
    const v = this.video.get(u.track);
    if (v) {
      for (const o of v.dts.push({ pts: pts90k, data: u.data, keyframe: u.keyframe })) this.held(v, o);
      return;
    }
    if (!this.audioClockRate.has(u.track)) {
      // MPEG audio and Opus: one frame per unit.
      for (const frame of u.data) this.emit(pid, { pts90k, data: frame, keyframe: true });
      return;
    }
    // AAC: one RTP-timestamped unit may carry several AUs of 1024 samples each.
    const step = Math.round((1024 / (this.audioClockRate.get(u.track) ?? 48000)) * 90000);
    u.data.forEach((au, i) => this.emit(pid, { pts90k: pts90k + i * step, data: au, keyframe: true }));
  }

  /** G.711 samples at their place (PcmTimeline); the first unit of each places its raw input. */
  private writePcm(p: PcmState, u: ReceivedUnit): void {
    if (p.timeline.origin === undefined) {
      this.process.setOffset(p.input, this.to90k(u.ptsSec) / 90000);
      p.timeline.origin = u.timestamp;
      if ([...this.pcm.values()].every((x) => x.timeline.origin !== undefined)) this.process.start();
    }
    const before = p.timeline.stats.discontinuities;
    for (const b of p.timeline.push(u.timestamp, u.data.length === 1 ? u.data[0]! : Buffer.concat(u.data)))
      this.process.writeInput(p.input, b);
    if (p.timeline.stats.discontinuities > before && this.messages.length < 100) {
      this.messages.push(`G.711 track ${u.track}: a timestamp jump no loss explains at ${u.timestamp}; not filled`);
    }
  }

  private held(v: VideoState, o: { unit: VideoUnit; pts: number; dts: number }): void {
    if (!v.end) return this.writeVideo(v, o.unit, o.pts, o.dts);
    for (const r of v.end.push(o)) this.writeVideo(v, r.unit, r.pts, r.dts);
  }

  private writeVideo(v: VideoState, unit: { data: Buffer[]; keyframe: boolean }, pts: number, dts: number): void {
    this.emit(v.pid, { pts90k: pts, dts90k: dts, data: unit.data, keyframe: unit.keyframe });
  }

  private emit(pid: number, au: Parameters<TsMuxer['writeAccessUnit']>[1]): void {
    const r = this.mux.writeAccessUnit(pid, au);
    if (!r.ok) {
      if (this.messages.length < 100) this.messages.push(`dropped a unit: ${r.message}`);
      return;
    }
    this.process.write(r.value);
  }

  private to90k(ptsSec: number): number {
    this.base ??= ptsSec;
    return Math.round((ptsSec - this.base) * 90000) + HEADROOM_90K;
  }

  async close(options: SinkCloseOptions = {}): Promise<SinkResult> {
    if (this.process === undefined) return { units: { ...this.units }, messages: [...this.messages] }; // open() failed
    for (const [track, v] of this.video) {
      for (const o of v.dts.flush()) this.held(v, o);
      if (!v.end) continue;
      // Played to the end, nothing was cut: a source's own hole at its end stays as it is.
      for (const r of options.cut === false ? v.end.release() : v.end.finish()) this.writeVideo(v, r.unit, r.pts, r.dts);
      if (v.end.dropped > 0) {
        this.messages.push(
          `track ${track}: the last ${v.end.dropped} video unit(s) dropped to end on whole pictures (the stop cut B-frames)`,
        );
      }
    }
    for (const [track, clean] of this.tsEnds) {
      for (const x of clean.finish(options.cut !== false)) this.process.writeInput(this.ownInput.get(track)!, x);
      if (clean.dropped > 0)
        this.messages.push(
          `track ${track}: the last ${clean.dropped} TS packet(s) dropped to end on whole PES packets (the stop cut them)`,
        );
    }
    const r = await this.process.close();
    const decodedFrames: Record<number, number> = {};
    const decodedByKind: Record<number, Record<string, number>> = {};
    const tsInput = this.pids.size > 0 ? 0 : -1;
    r.outputs.forEach((o, out) => {
      const track =
        o.input === tsInput
          ? [...this.streamIndex].find(([, index]) => index === o.stream)?.[0]
          : [...this.ownInput].find(([, input]) => input === o.input)?.[0];
      if (track === undefined) return;
      // An MP2T track's transport stream may hold video and audio: each counts under its kind.
      const kind = r.kinds[out] ?? this.media.get(track) ?? 'data';
      const byKind = (decodedByKind[track] ??= {});
      byKind[kind] = (byKind[kind] ?? 0) + (r.frames[out] ?? 0);
    });
    for (const track of Object.keys(this.units).map(Number)) {
      const byKind = decodedByKind[track] ?? {};
      const own = this.media.get(track);
      // The track's own kind; a kind we do not know (none decoded of it) counts everything.
      decodedFrames[track] =
        own !== undefined && Object.keys(byKind).includes(own) ? byKind[own]! : Object.values(byKind).reduce((a, b) => a + b, 0);
    }
    const filledSamples: Record<number, number> = {};
    for (const [track, p] of this.pcm) filledSamples[track] = p.timeline.stats.filled;
    return {
      units: { ...this.units },
      // Only a decode counts frames; a recording or ffplay reports none.
      decodedFrames: this.mode.kind === 'decode' ? decodedFrames : undefined,
      decodedByKind: this.mode.kind === 'decode' ? decodedByKind : undefined,
      decodeErrors: r.decodeErrors,
      messages: [...this.messages, ...r.messages],
      ...(this.pcm.size > 0 ? { filledSamples } : {}),
    };
  }
}
