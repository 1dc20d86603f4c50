/**
 * One run from start to RunResult: the chosen runner (real-time or simulated) with the recording
 * sink, then the figures: ground truth vs RTCP per track, jitter buffer, picture quality of the
 * recording, the E-model for audio, the event loop's delay.
 */

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LAB_ELD_RESOLUTION_MS, eventLoopFigures } from './event-loop.ts';
import { writePacketCaptures } from './packet-capture.ts';
import { TsOutputSink } from '../receiver/index.ts';
import type { Sink } from '../receiver/index.ts';
import { tryLocate } from '../media/ffmpeg/index.ts';
import { audioEstimate, runFlags, trackResult } from './collect.ts';
import { configuredLoss, configuredMeanBurst } from './experiment.ts';
import type { RunSpec } from './experiment.ts';
import type { RunObservation } from './observation.ts';
import { RecordingTap } from './recording.ts';
import type { RunResult, RunParams } from './result-types.ts';
import { runFast } from './run-fast.ts';
import { runRealtime } from './run-realtime.ts';
import { measureVideoQuality } from './video-quality.ts';

export function runId(spec: RunSpec): string {
  return `run-${String(spec.index + 1).padStart(4, '0')}`;
}

export function runParams(spec: RunSpec): RunParams {
  return {
    condition: spec.condition,
    mode: spec.mode,
    media: path.basename(spec.media),
    durationSec: spec.durationSec,
    startNpt: spec.startNpt,
    seed: spec.seed,
    repetition: spec.repetition,
    netem: spec.netem.text,
    impairmentScope: spec.netem.scope,
    jitter: spec.jitter.label,
    transport: spec.transport,
    traceOffset: spec.traceOffset,
    configuredLoss: configuredLoss(spec.netem.config),
    configuredMeanBurst: configuredMeanBurst(spec.netem.config),
  };
}

export interface RunOneOptions {
  outDir: string;
  /** Record and measure PSNR/SSIM (needs ffmpeg); default: when ffmpeg is there and spec.quality. */
  quality?: boolean;
}

export async function runOne(spec: RunSpec, o: RunOneOptions): Promise<RunResult> {
  const id = runId(spec);
  const runDir = path.join(o.outDir, 'runs', id);
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const base = { index: spec.index, id, params: runParams(spec), startedAt };
  const quality = (o.quality ?? spec.quality) && tryLocate('ffmpeg') !== undefined && tryLocate('ffprobe') !== undefined;
  let tap: RecordingTap | undefined;
  let sink: Sink | undefined;
  const recording = path.join(runDir, 'recording.ts');
  const eld = monitorEventLoopDelay({ resolution: LAB_ELD_RESOLUTION_MS });
  try {
    await mkdir(runDir, { recursive: true });
    if (quality) {
      tap = new RecordingTap(new TsOutputSink({ kind: 'record', file: recording }));
      sink = tap;
    }
    eld.enable();
    let obs: RunObservation;
    try {
      obs = spec.mode === 'fast' ? await runFast(spec, sink) : await runRealtime(spec, sink);
    } finally {
      eld.disable();
    }
    if (sink) await sink.close();
    const tracks = obs.receivers.map((rx) =>
      trackResult(rx, obs.fates[rx.track.index] ?? [], obs.seq0[rx.track.index], obs.reports[rx.track.index] ?? [], {
        forward: obs.rtcpFates?.[rx.track.index],
        return: obs.returnFates?.[rx.track.index],
      }),
    );
    if (obs.traceOffsets && obs.traceOffsets.length > 0) base.params.traceOffsets = obs.traceOffsets;
    const result: RunResult = {
      ...base,
      status: 'ok',
      wallMs: 0,
      tracks,
      series: obs.series,
      end: obs.end,
      eventLoop: obs.eventLoop ?? eventLoopFigures(eld),
    };
    if (obs.kernelDrops !== undefined) result.kernelDrops = obs.kernelDrops;
    const flags = runFlags(tracks, spec.mode === 'fast' ? undefined : result.eventLoop, obs.kernelDrops);
    if (flags.length > 0) result.flags = flags;
    result.captures = await writePacketCaptures(
      runDir,
      obs.receivers.map((rx) => ({
        track: rx.track.index,
        fates: obs.fates[rx.track.index] ?? [],
        seq0: obs.seq0[rx.track.index] ?? 0,
        payloadType: rx.track.payloadType,
        clockRate: rx.track.clockRate,
      })),
    );
    const audio = tracks.find((t) => t.media === 'audio');
    if (audio) result.audio = audioEstimate(audio, obs.fates[audio.track] ?? [], spec.audioCodec);
    if (tap && tracks.some((t) => t.media === 'video')) {
      result.recording = path.relative(o.outDir, recording);
      result.video = await measureVideoQuality({
        source: spec.media,
        recording,
        startNpt: obs.startNpt,
        endNpt: obs.endNpt,
        writtenVideoPts: tap.videoPts,
        runDir,
      });
    }
    result.wallMs = performance.now() - t0;
    return result;
  } catch (err) {
    if (sink) await sink.close().catch(() => undefined);
    return {
      ...base,
      status: 'failed',
      reason: err instanceof Error ? err.message : String(err),
      wallMs: performance.now() - t0,
      tracks: [],
      series: [],
    };
  }
}
