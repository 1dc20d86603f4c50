/**
 * Compares a parsed file with ffprobe, sample by sample.
 *
 * The relation: ffmpeg's mov demuxer gives each stream the track's mdhd timescale as its time
 * base (checked: time_base == 1/timescale), and applies the edit list the same way we do for
 * the common cases, so ffprobe pts/dts == our pts/dts exactly, in integer ticks:
 *     ffprobe_dts = stts_dts + shift,  ffprobe_pts = stts_dts + ctts + shift,
 *     shift = round(empty_edit * timescale / movie_timescale) - media_time
 * (sample.mp4: video shift -1024 = two 512-tick frames of B-frame delay, audio -1024 = AAC priming).
 * ffprobe's packet pos/size are the sample's file offset and size; K marks sync samples.
 */

import { expect } from 'vitest';
import type { MediaFile } from '../../src/media/index.ts';
import { probePackets, probeStreams } from './ffprobe.ts';
import { at } from '../../src/util/narrow.ts';

export function expectMatchesFfprobe(file: MediaFile, path: string, opts: { perPacket?: boolean } = {}): void {
  const streams = probeStreams(path);
  const packets = probePackets(path);
  expect(file.tracks.map((t) => t.id)).toEqual(streams.map((s) => s.id));
  for (const [i, s] of streams.entries()) {
    const t = at(file.tracks, i);
    expect(s.timeBase).toEqual([1, t.timescale]);
    expect(t.kind).toBe(s.codecType === 'video' ? 'video' : s.codecType === 'audio' ? 'audio' : 'other');
    expect(Math.abs(t.durationSec - s.durationSec)).toBeLessThanOrEqual(0.0011);
    if (s.width !== undefined) expect([t.width, t.height]).toEqual([s.width, s.height]);
    if (s.sampleRate !== undefined) expect(t.sampleRate).toBe(s.sampleRate);
    if (s.extradata && ['h264', 'h265', 'aac'].includes(t.codec)) {
      expect(t.codecConfig?.toString('hex')).toBe(s.extradata.toString('hex'));
    }
    if (opts.perPacket === false) continue;
    const theirs = (packets.get(i) ?? []).map((p) => [p.pos, p.size, p.dts, p.pts, p.key ? 1 : 0]);
    const ours: number[][] = [];
    const { offsets, sizes, dts, pts, keyframe } = t.samples;
    for (let k = 0; k < t.samples.count; k++) ours.push([at(offsets, k), at(sizes, k), at(dts, k), at(pts, k), at(keyframe, k)]);
    expect(ours.length).toBe(s.nbFrames);
    expect(ours).toEqual(theirs);
  }
}
