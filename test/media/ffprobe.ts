/**
 * ffmpeg/ffprobe helpers for the media tests: make small files, and read ffprobe's view of
 * packets and streams as the independent oracle.
 */

import { spawnSync } from 'node:child_process';

export interface ProbePacket {
  stream: number;
  pts: number;
  dts: number;
  size: number;
  pos: number;
  key: boolean;
}

export interface ProbeStream {
  index: number;
  /** tkhd track_ID as ffprobe prints it ("0x1"), parsed. */
  id: number;
  codecType: string;
  codecName: string;
  /** [num, den] of the stream time base. */
  timeBase: [number, number];
  durationSec: number;
  nbFrames: number;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  extradata?: Buffer;
}

function run(bin: string, args: string[]): string {
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Runs ffmpeg quietly with -y; throws with its stderr on failure. */
export function ffmpeg(args: string[]): void {
  run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args]);
}

export function probePackets(path: string): Map<number, ProbePacket[]> {
  const json = JSON.parse(run('ffprobe', ['-v', 'error', '-show_packets', '-of', 'json', path])) as {
    packets: { stream_index: number; pts: number; dts: number; size: string; pos: string; flags: string }[];
  };
  const out = new Map<number, ProbePacket[]>();
  for (const p of json.packets) {
    let list = out.get(p.stream_index);
    if (!list) out.set(p.stream_index, (list = []));
    list.push({ stream: p.stream_index, pts: p.pts, dts: p.dts, size: Number(p.size), pos: Number(p.pos), key: p.flags.includes('K') });
  }
  return out;
}

/** ffprobe's -show_data hexdump ("00000000: 014d 401e ...  .M@.") back to bytes. */
export function parseHexdump(dump: string): Buffer {
  const hex = dump
    .split('\n')
    .map((line) => /^[0-9a-f]{8}: ((?:[0-9a-f]{2,4} ?)+)/.exec(line)?.[1] ?? '')
    .join('')
    .replace(/ /g, '');
  return Buffer.from(hex, 'hex');
}

export function probeStreams(path: string): ProbeStream[] {
  const json = JSON.parse(run('ffprobe', ['-v', 'error', '-show_streams', '-show_data', '-of', 'json', path])) as {
    streams: Record<string, string | number | undefined>[];
  };
  return json.streams.map((s) => {
    const [num, den] = String(s.time_base).split('/').map(Number);
    const out: ProbeStream = {
      index: Number(s.index),
      id: parseInt(String(s.id), 16),
      codecType: String(s.codec_type),
      codecName: String(s.codec_name),
      timeBase: [num!, den!],
      durationSec: Number(s.duration),
      nbFrames: Number(s.nb_frames),
    };
    if (s.width !== undefined) out.width = Number(s.width);
    if (s.height !== undefined) out.height = Number(s.height);
    if (s.sample_rate !== undefined) out.sampleRate = Number(s.sample_rate);
    if (s.channels !== undefined) out.channels = Number(s.channels);
    if (typeof s.extradata === 'string') out.extradata = parseHexdump(s.extradata);
    return out;
  });
}
