/**
 * The demuxer whitelist preparation gives ffprobe/ffmpeg (pure parts of input-guard.ts), from
 * listings as ffmpeg 5 and ffmpeg 6+ print them.
 */
import { describe, expect, it } from 'vitest';
import { formatWhitelist, parseDemuxerList, refusedFormatIn } from '../../src/media/prepare/input-guard.ts';

// ffmpeg 5.1 `-demuxers` (abridged): flags D/E, then the names.
const FFMPEG5_DEMUXERS = `File formats:
 D. = Demuxing supported
 .E = Muxing supported
 --
 D  aac             raw ADTS AAC (Advanced Audio Coding)
 D  concat          Virtual concatenation script
 D  hls             Apple HTTP Live Streaming
 D  lavfi           Libavfilter virtual input device
 D  matroska,webm   Matroska / WebM
 D  mov,mp4,m4a,3gp,3g2,mj2 QuickTime / MOV
 D  webm_dash_manifest WebM DASH Manifest
 D  x11grab         X11 screen capture, using XCB
`;
const FFMPEG5_DEVICES = `Devices:
 D. = Demuxing supported
 .E = Muxing supported
 --
 DE alsa            ALSA audio output
  E caca            caca (color ASCII art) output device
 D  lavfi           Libavfilter virtual input device
 D  x11grab         X11 screen capture, using XCB
 DE video4linux2,v4l2 Video4Linux2 output device
`;
// ffmpeg 6+: a third flag column marks devices.
const FFMPEG7_DEMUXERS = `File formats:
 D.. = Demuxing supported
 .E. = Muxing supported
 ..d = Is a device
 ---
 D   aac             raw ADTS AAC (Advanced Audio Coding)
 D   dash            Dynamic Adaptive Streaming over HTTP
 D d fbdev           Linux framebuffer
 D   mpegts          MPEG-TS (MPEG-2 Transport Stream)
`;

describe('input guard', () => {
  it('keeps ordinary containers, drops playlists, scripts and devices (ffmpeg 5 listing)', () => {
    const w = formatWhitelist(parseDemuxerList(FFMPEG5_DEMUXERS), parseDemuxerList(FFMPEG5_DEVICES));
    expect(w.split(',')).toEqual(['aac', 'matroska', 'webm', 'mov', 'mp4', 'm4a', '3gp', '3g2', 'mj2']);
  });

  it('reads the device column of ffmpeg 6+', () => {
    const list = parseDemuxerList(FFMPEG7_DEMUXERS);
    expect(list).toEqual([
      { names: 'aac', device: false },
      { names: 'dash', device: false },
      { names: 'fbdev', device: true },
      { names: 'mpegts', device: false },
    ]);
    expect(formatWhitelist(list, [])).toBe('aac,mpegts');
  });

  it('names the refused demuxer from ffprobe/ffmpeg stderr', () => {
    expect(refusedFormatIn("[hls @ 0x559fde5fa280] Format not on whitelist 'aac,mov'\nm/evil.m3u8: Invalid argument")).toBe('hls');
    expect(refusedFormatIn('Format not on whitelist')).toBe('unknown');
    expect(refusedFormatIn('m/a.mkv: Invalid data found when processing input')).toBeUndefined();
  });
});
