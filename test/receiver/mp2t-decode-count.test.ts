/**
 * --null on an MP2T track (issue 9): a transport stream with video and audio decodes through the
 * real ffmpeg, and each stream's frames count under its own kind (before: all as the track's video).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { decodedText } from '../../src/cli/play.ts';
import { TsOutputSink } from '../../src/receiver/index.ts';
import type { SdpTrack } from '../../src/receiver/index.ts';
import { ffmpegMake } from '../helpers/ffmpeg.ts';
import { describeWithPeers } from '../helpers/peers.ts';

describeWithPeers('MP2T decode count', ['ffmpeg'], () => {
  it('counts the video and the audio frames of one MP2T track apart', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-mp2t-'));
    try {
      const ts = path.join(dir, 'av.ts');
      // 2 s: 50 video frames at 25 fps, MP2 audio at 48 kHz (1152 samples a frame: 84 frames).
      await ffmpegMake(ts, [
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=160x120:rate=25',
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=440:sample_rate=48000',
        '-t',
        '2',
        '-c:v',
        'libx264',
        '-g',
        '25',
        '-c:a',
        'mp2',
        '-f',
        'mpegts',
      ]);
      const probe = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', ts, '-map', '0', '-f', 'framemd5', '-'], {
        encoding: 'utf8',
      });
      const lines = probe.stdout.split('\n').filter((l) => /^\d/.test(l));
      const want = { video: lines.filter((l) => l.startsWith('0,')).length, audio: lines.filter((l) => l.startsWith('1,')).length };
      expect(want.video).toBe(50);
      expect(want.audio).toBeGreaterThan(80);

      const track: SdpTrack = {
        index: 0,
        media: 'video',
        controlUrl: 'x',
        payloadType: 33,
        encodingName: 'MP2T',
        clockRate: 90000,
        fmtp: new Map(),
        codec: 'mp2t',
      };
      const sink = new TsOutputSink({ kind: 'decode' });
      sink.open([track]);
      const bytes = await readFile(ts);
      // RTP MP2T payloads: 7 TS packets each (RFC 2250).
      for (let off = 0; off < bytes.length; off += 7 * 188) {
        sink.write({
          track: 0,
          codec: 'mp2t',
          timestamp: off,
          ptsSec: 0,
          data: [bytes.subarray(off, off + 7 * 188)],
          keyframe: false,
          complete: true,
        });
      }
      const r = await sink.close({ cut: false });
      expect(r.decodeErrors).toBe(0);
      expect(r.decodedByKind).toEqual({ 0: want });
      expect(r.decodedFrames).toEqual({ 0: 50 });
      expect(decodedText(r, 0)).toBe(`50 video + ${want.audio} audio frames`);

      // A stop in the middle of a picture (--duration): the sink ends on whole PES packets.
      for (const cutAt of [0.37, 0.61, 0.83]) {
        const cut = new TsOutputSink({ kind: 'decode' });
        cut.open([track]);
        // Not on a PES boundary: mid-way through a 7-packet payload.
        const end = Math.floor((bytes.length * cutAt) / 188) * 188 + 3 * 188;
        for (let off = 0; off < end; off += 7 * 188) {
          cut.write({
            track: 0,
            codec: 'mp2t',
            timestamp: off,
            ptsSec: 0,
            data: [bytes.subarray(off, Math.min(end, off + 7 * 188))],
            keyframe: false,
            complete: true,
          });
        }
        const c = await cut.close({ cut: true });
        expect(c.decodeErrors, `${cutAt}: ${c.messages.join(' | ')}`).toBe(0);
        expect(c.decodedFrames![0]).toBeGreaterThan(10);
        expect(c.decodedFrames![0]).toBeLessThan(50);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
