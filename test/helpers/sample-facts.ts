/**
 * Facts about the bundled sample, read with ffprobe (the independent oracle, never our reader):
 * packet timestamps in decode order, keyframes, durations, and the H.264 parameter sets from
 * the avcC box. Expectations in the integration tests are computed from these.
 */

import { parseHexdump } from '../media/ffprobe.ts';
import { SAMPLE } from './server.ts';
import { expectSuccess, runProgram } from './run-program.ts';

export interface SamplePacket {
  /** Ticks of the stream's time base (ffprobe's, which is the track's timescale). */
  pts: number;
  dts: number;
  key: boolean;
}

export interface SampleFacts {
  durationSec: number;
  video: { timescale: number; width: number; height: number; packets: SamplePacket[]; sps: Buffer; pps: Buffer };
  audio: { timescale: number; sampleRate: number; channels: number; packets: SamplePacket[] };
}

interface ProbeJson {
  format: { duration: string };
  streams: {
    index: number;
    codec_type: string;
    time_base: string;
    width?: number;
    height?: number;
    sample_rate?: string;
    channels?: number;
    extradata?: string;
  }[];
  packets: { stream_index: number; pts: number; dts: number; flags: string }[];
}

/**
 * The first SPS and PPS of an avcC box (ISO/IEC 14496-15 §5.3.3.1): version, profile, compat,
 * level, 0xfc|lengthSizeMinusOne, 0xe0|numSps, then u16 length + SPS, u8 numPps, u16 length + PPS.
 */
function avccParameterSets(avcc: Buffer): { sps: Buffer; pps: Buffer } {
  const spsLen = avcc.readUInt16BE(6);
  const sps = avcc.subarray(8, 8 + spsLen);
  const p = 8 + spsLen + 1;
  const ppsLen = avcc.readUInt16BE(p);
  return { sps, pps: avcc.subarray(p + 2, p + 2 + ppsLen) };
}

let facts: Promise<SampleFacts> | undefined;

export function sampleFacts(): Promise<SampleFacts> {
  facts ??= runProgram(
    'ffprobe',
    ['-v', 'error', '-show_format', '-show_streams', '-show_data', '-show_packets', '-of', 'json', SAMPLE],
    60_000,
  ).then((r) => {
    expectSuccess(r, 'ffprobe of the sample');
    const j = JSON.parse(r.stdout) as ProbeJson;
    const v = j.streams.find((s) => s.codec_type === 'video')!;
    const a = j.streams.find((s) => s.codec_type === 'audio')!;
    const packetsOf = (index: number) =>
      j.packets.filter((p) => p.stream_index === index).map((p) => ({ pts: p.pts, dts: p.dts, key: p.flags.includes('K') }));
    const tb = (s: { time_base: string }) => Number(s.time_base.split('/')[1]);
    return {
      durationSec: Number(j.format.duration),
      video: {
        timescale: tb(v),
        width: v.width!,
        height: v.height!,
        packets: packetsOf(v.index),
        ...avccParameterSets(parseHexdump(v.extradata!)),
      },
      audio: { timescale: tb(a), sampleRate: Number(a.sample_rate), channels: a.channels!, packets: packetsOf(a.index) },
    };
  });
  return facts;
}
