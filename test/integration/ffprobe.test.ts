/**
 * Issue 2, test 1: ffprobe, a real client, sees both tracks of the sample over RTSP with the
 * right codecs and parameters: H.264 640x360, AAC 48 kHz stereo. Over UDP and TCP interleaved.
 */

import { expect, it } from 'vitest';
import { ffprobeStreams } from '../helpers/ffmpeg.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { expectSuccess } from '../helpers/run-program.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';

interface ProbedStream {
  codec_type: string;
  codec_name: string;
  profile?: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
}

describeWithPeers('ffprobe sees both tracks', ['ffprobe'], () => {
  const { url } = serverForSuite();

  for (const transport of ['udp', 'tcp'] as const) {
    it.concurrent(`over ${transport}: h264 640x360 and aac 48000 Hz stereo`, async () => {
      const r = await ffprobeStreams(url(), { transport });
      expectSuccess(r, `ffprobe -rtsp_transport ${transport}`);
      const streams = (JSON.parse(r.stdout) as { streams: ProbedStream[] }).streams;
      expect(streams.map((s) => s.codec_type)).toEqual(['video', 'audio']);
      const [v, a] = streams;
      expect(v).toMatchObject({ codec_name: 'h264', profile: 'Main', width: 640, height: 360 });
      expect(a).toMatchObject({ codec_name: 'aac', profile: 'LC', sample_rate: '48000', channels: 2 });
    });
  }
});
