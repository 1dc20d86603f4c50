import { parseAacFmtp, parseAudioSpecificConfig, parseH264Fmtp, parseH265Fmtp, parseOpusFmtp } from '../../codecs/index.ts';
import { FfmpegTsSink } from '../../media/ffmpeg/index.ts';
import type { TsSinkMode } from '../../media/ffmpeg/index.ts';
import { TsMuxer } from '../../media/mpegts/index.ts';
import { DtsDeriver, h264ReorderInfo, parseH264Sps } from '../dts/index.ts';
import type { SdpTrack } from '../sdp-tracks.ts';
import type { ReceivedUnit } from '../track-receiver.ts';
import type { Sink, SinkResult } from './sink.ts';

/** Headroom added to every timestamp so that the first frames' DTS (before their PTS) stay ≥ 0. */
const HEADROOM_90K = 2 * 90000;

interface VideoState {
  pid: number;
  dts: DtsDeriver<{ pts: number; data: Buffer[]; keyframe: boolean }>;
}

/**
 * Received access units → MPEG-TS (PTS and DTS per PES, 90 kHz) → ffmpeg: a recording without
 * re-encoding (`--record FILE`), a decode-and-count check (`--null`) or ffplay. RTP carries only
 * presentation times; H.264 decode times are derived (dts/ so B-frame streams record correctly).
 */
export class TsOutputSink implements Sink {
  private readonly mux = new TsMuxer();
  private readonly process: FfmpegTsSink;
  private readonly pids = new Map<number, number>();
  private readonly video = new Map<number, VideoState>();
  private readonly units: Record<number, number> = {};
  private readonly streamIndex = new Map<number, number>();
  private readonly audioClockRate = new Map<number, number>();
  private base: number | undefined;
  private readonly messages: string[] = [];

  constructor(private readonly mode: TsSinkMode) {
    this.process = new FfmpegTsSink(mode);
  }

  open(tracks: SdpTrack[]): void {
    for (const t of tracks) {
      if (!t.codec) continue;
      this.units[t.index] = 0;
      if (t.codec === 'h264') {
        const f = parseH264Fmtp(t.fmtp);
        const sps = f.ok ? f.value.sps : [];
        const pps = f.ok ? f.value.pps : [];
        const pid = this.mux.addStream({ kind: 'h264', sps, pps });
        if (!pid.ok) throw new Error(`cannot record track ${t.index}: ${pid.message}`);
        const parsed = sps[0] ? parseH264Sps(sps[0]) : undefined;
        const info = parsed?.ok ? h264ReorderInfo(parsed.value) : {};
        this.video.set(t.index, {
          pid: pid.value,
          dts: new DtsDeriver({ reorderDepth: info.reorderDepth, frameDuration: info.frameDuration90k }),
        });
        this.addPid(t.index, pid.value);
      } else if (t.codec === 'h265') {
        const f = parseH265Fmtp(t.fmtp);
        const pid = this.mux.addStream(f.ok ? { kind: 'h265', vps: f.value.vps, sps: f.value.sps, pps: f.value.pps } : { kind: 'h265' });
        if (!pid.ok) throw new Error(`cannot record track ${t.index}: ${pid.message}`);
        // No H.265 SPS reading yet: the deriver learns the reorder depth from the timestamps.
        this.video.set(t.index, { pid: pid.value, dts: new DtsDeriver({}) });
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
  }

  private addPid(track: number, pid: number): void {
    this.streamIndex.set(track, this.pids.size);
    this.pids.set(track, pid);
  }

  write(u: ReceivedUnit): void {
    const pid = this.pids.get(u.track);
    if (pid === undefined) return;
    this.units[u.track] = (this.units[u.track] ?? 0) + 1;
    const pts90k = this.to90k(u.ptsSec);
    const v = this.video.get(u.track);
    if (v) {
      for (const o of v.dts.push({ pts: pts90k, data: u.data, keyframe: u.keyframe })) this.writeVideo(v, o.unit, o.pts, o.dts);
      return;
    }
    // AAC: one RTP-timestamped unit may carry several AUs of 1024 samples each.
    const step = Math.round((1024 / (this.audioClockRate.get(u.track) ?? 48000)) * 90000);
    u.data.forEach((au, i) => this.emit(pid, { pts90k: pts90k + i * step, data: au, keyframe: true }));
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

  async close(): Promise<SinkResult> {
    for (const v of this.video.values()) for (const o of v.dts.flush()) this.writeVideo(v, o.unit, o.pts, o.dts);
    const r = await this.process.close();
    const decodedFrames: Record<number, number> = {};
    for (const [track, index] of this.streamIndex) decodedFrames[track] = r.frames[index] ?? 0;
    return {
      units: { ...this.units },
      // Only a decode counts frames; a recording or ffplay reports none.
      decodedFrames: this.mode.kind === 'decode' ? decodedFrames : undefined,
      decodeErrors: r.decodeErrors,
      messages: [...this.messages, ...r.messages],
    };
  }
}
