/**
 * A PLAY's tracks start TRACK_START_STAGGER_MS apart (file-presentation.ts), on the ManualClock:
 * both SRs at PLAY, the first track's first RTP packet at once (the timeline starts on the file's
 * send lattice, up to a period back), the second track's not before the stagger, then everything
 * it had due meanwhile at once, from RTP-Info's seq and rtptime with no gap. Sent in one wake, the two first packets reach the client together, and GStreamer 1.22's
 * rtspsrc then exposes both pads at once from two threads (a race that hung gst-launch pipelines
 * with caps-filtered links; see test/helpers/gstreamer.ts).
 *
 * Over TCP the client sees the server's send order: packets sent in one wake arrive in one write,
 * so "none of track 2 yet" once track 1's first packet is in is not a matter of waiting long
 * enough.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RtspServer } from '../../../src/server/index.ts';
import { TRACK_START_STAGGER_MS } from '../../../src/server/file-presentation.ts';
import { latticeStartMs } from '../../../src/sender/send-grid.ts';
import { ManualClock } from '../../../src/util/clock.ts';
import { RtspTestClient } from '../../helpers/rtsp-client.ts';
import { startServer } from '../../helpers/server.ts';
import { sleep, waitUntil } from '../../helpers/wait.ts';

/** The sample's audio frame (1024 samples at 48 kHz): its send lattice's period. */
const AUDIO_FRAME_MS = (1024 / 48000) * 1000;

describe('the tracks of a PLAY start one after the other', () => {
  let server: RtspServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('track 2 starts TRACK_START_STAGGER_MS after track 1, with what was due meanwhile', async () => {
    expect(TRACK_START_STAGGER_MS).toBeGreaterThan(AUDIO_FRAME_MS);
    const clock = new ManualClock();
    ({ server } = await startServer({ clock }));
    const base = `rtsp://127.0.0.1:${server.port}/sample.mp4`;
    const c = await RtspTestClient.connect(base);
    try {
      await c.setup(`${base}/trackID=1`, 'tcp');
      await c.setup(`${base}/trackID=2`, 'tcp');
      const [video, audio] = c.tracks;
      // PLAY between two lattice instants.
      clock.advance(5);
      const playedAt = clock.now();
      const play = await c.play(`${base}/`);
      expect(play.response.statusCode).toBe(200);
      // Both SRs left at PLAY.
      await waitUntil(() => video!.rtcp.length > 0 && audio!.rtcp.length > 0, 10_000, 'both SRs');

      // The timeline started at the lattice instant before the PLAY: the first video packet, due
      // then, leaves at once.
      const start = latticeStartMs(playedAt, 0, AUDIO_FRAME_MS / 1000);
      expect(start).toBe(0);
      clock.advance(0.1);
      await waitUntil(() => video!.rtp.length > 0, 10_000, 'the first video packet');
      // In the same write as track 1's first packet, had it been sent with it.
      expect(audio!.rtp).toEqual([]);

      // Up to a few ms before the stagger (a wake may run tasks due within 0.5 ms early): nothing.
      clock.advance(TRACK_START_STAGGER_MS - 3);
      await sleep(100);
      expect(audio!.rtp).toEqual([]);

      clock.advance(3);
      const due = Math.floor((playedAt + TRACK_START_STAGGER_MS - start) / AUDIO_FRAME_MS) + 1;
      await waitUntil(() => audio!.rtp.length >= due, 10_000, `${due} audio packets`);
      const info = play.rtpInfo.find((e) => e.url.endsWith('trackID=2'))!;
      expect(audio!.rtp[0]!.seq).toBe(info.seq);
      expect(audio!.rtp[0]!.timestamp).toBe(info.rtptime);
      // What was due during the stagger, in order, one frame of RTP time apart.
      for (let k = 1; k < due; k++) {
        expect(audio!.rtp[k]!.extSeq).toBe(audio!.rtp[0]!.extSeq + k);
        expect((audio!.rtp[k]!.timestamp - info.rtptime!) >>> 0).toBe(1024 * k);
      }
    } finally {
      c.close();
    }
  });
});
