/**
 * The ffmpeg command lines of the receiver's sink (pure): one MPEG-TS input on stdin as before;
 * G.711 as raw inputs on pipes 3, 4, … placed with -itsoffset under -copyts and the output moved
 * back by -output_ts_offset; an MP2T track as a second mpegts input; aac_adtstoasc only on the AAC
 * output streams and only for MP4/MOV. What the commands do with real data is in
 * test/receiver/gst-codecs.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ffmpegSinkArgs } from '../../src/media/ffmpeg/index.ts';

const HEAD = ['-hide_banner', '-nostdin', '-nostats', '-y'];

describe('ffmpegSinkArgs', () => {
  it('our TS alone: stdin, every stream copied; AAC stream 1 gets aac_adtstoasc in .mp4 only', () => {
    const ts = [{ format: 'mpegts' as const }];
    expect(ffmpegSinkArgs({ kind: 'record', file: 'o.mp4' }, ts, { aacOutputStreams: [1] })).toEqual([
      ...HEAD, '-fflags', '+genpts', '-f', 'mpegts', '-i', 'pipe:0', '-map', '0', '-c', 'copy', '-bsf:1', 'aac_adtstoasc', 'o.mp4',
    ]);
    expect(ffmpegSinkArgs({ kind: 'record', file: 'o.mkv' }, ts, { aacOutputStreams: [1] })).toEqual([
      ...HEAD, '-fflags', '+genpts', '-f', 'mpegts', '-i', 'pipe:0', '-map', '0', '-c', 'copy', 'o.mkv',
    ]);
  });

  it('TS + PCMU + PCMA: raw inputs on pipes 3 and 4 at their offsets, -copyts, output moved back', () => {
    const args = ffmpegSinkArgs(
      { kind: 'decode' },
      [
        { format: 'mpegts' },
        { format: 'mulaw', sampleRate: 8000, channels: 1, offsetSec: 2.04 },
        { format: 'alaw', sampleRate: 16000, channels: 2, offsetSec: 2 },
      ],
      { outputOffsetSec: -2 },
    );
    expect(args).toEqual([
      ...HEAD, '-copyts',
      '-fflags', '+genpts', '-f', 'mpegts', '-i', 'pipe:0',
      '-f', 'mulaw', '-ar', '8000', '-ac', '1', '-itsoffset', '2.040000', '-i', 'pipe:3',
      '-f', 'alaw', '-ar', '16000', '-ac', '2', '-itsoffset', '2.000000', '-i', 'pipe:4',
      '-map', '0', '-map', '1', '-map', '2', '-output_ts_offset', '-2.000000',
      '-f', 'framemd5', 'pipe:1',
    ]);
  });

  it('an MP2T track alone is one mpegts input on stdin, no -copyts', () => {
    expect(ffmpegSinkArgs({ kind: 'record', file: 'o.ts' }, [{ format: 'mpegts' }], { outputOffsetSec: -2 })).toEqual([
      ...HEAD, '-fflags', '+genpts', '-f', 'mpegts', '-i', 'pipe:0', '-map', '0', '-c', 'copy', 'o.ts',
    ]);
  });
});
