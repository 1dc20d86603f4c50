/**
 * GStreamer's rtspclientsink (publishing over UDP) takes our receiver reports into its RTP
 * session: its rtpsession/rtpsource debug log shows our RR + SDES (our CNAME), the report block
 * about its video SSRC with our LSR/DLSR, and the round-trip time it computes from them, which on
 * loopback must be small and positive (a wrong LSR or DLSR gives seconds or wraps around).
 * Over TCP, rtspclientsink does not feed interleaved RTCP from the server into its session (its
 * log shows no received RTCP at all), so only UDP is checked here; test/integration/publish-rtcp
 * covers TCP with our own client.
 */
import { expect, it } from 'vitest';
import { describeWithGstreamer, rtspclientsinkTestArgs } from '../helpers/gstreamer.ts';
import { expectSuccess, runProgram } from '../helpers/run-program.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { waitUntil } from '../helpers/wait.ts';
import type { ServerEvents } from '../../src/server/session/server-events.ts';

describeWithGstreamer(
  'GStreamer rtspclientsink receives our RTCP receiver reports',
  ['rtspclientsink', 'x264enc', 'videotestsrc', 'h264parse'],
  [],
  () => {
    const { server } = serverForSuite();

    it('over udp: RR + SDES processed, report blocks with our LSR/DLSR give a loopback round trip', async () => {
      const name = 'gst-rr';
      const url = `rtsp://127.0.0.1:${server.port}/live/${name}`;
      // Every receiver report the server sent the publisher, the last one (with its BYE) included.
      let reportsSent: number | undefined;
      const onEnded = (e: ServerEvents['session-ended'][0]): void => {
        if (e.kind === 'publisher' && e.media.endsWith(name)) reportsSent = e.traffic?.reportsSent;
      };
      server.events.on('session-ended', onEnded);
      const gst = await runProgram(
        'env',
        [
          'GST_DEBUG=rtpsession:5,rtpsource:5',
          'GST_DEBUG_NO_COLOR=1',
          'gst-launch-1.0',
          ...rtspclientsinkTestArgs(url, 375, ['protocols=udp']),
        ],
        60_000,
      );
      await waitUntil(
        () => reportsSent !== undefined,
        5_000,
        () => 'session-ended of the publisher',
      );
      server.events.off('session-ended', onEnded);
      expectSuccess(gst, 'gst-launch rtspclientsink udp');
      const log = gst.stderr;
      const rrFrom = [...log.matchAll(/got RR packet: SSRC ([0-9a-f]+)/g)].map((m) => m[1]);
      expect(rrFrom.length).toBeGreaterThanOrEqual(2);
      expect(new Set(rrFrom).size).toBe(1);
      expect(log).toMatch(/type 1, len \d+, data streamlab-/);
      // got RB packet: SSRC <reporter>, FL <fraction>, PL <lost>, HS <highest>, jitter <j>, LSR <hi:lo>, DLSR <hi:lo>
      const blocks = [
        ...log.matchAll(
          /got RB packet: SSRC ([0-9a-f]+), FL +(\d+), PL (-?\d+), HS (\d+), jitter (\d+), LSR ([0-9a-f]{4}):([0-9a-f]{4}), DLSR ([0-9a-f]{4}):([0-9a-f]{4})/g,
        ),
      ];
      expect(blocks.length).toBeGreaterThanOrEqual(2);
      for (const b of blocks) {
        expect(b[1]).toBe(rrFrom[0]);
        expect(Number(b[2])).toBe(0); // loopback: nothing lost
        expect(Number(b[3])).toBe(0);
      }
      // Highest sequence numbers grow from one report to the next.
      const hs = blocks.map((b) => Number(b[4]));
      expect(hs[hs.length - 1]).toBeGreaterThan(hs[0]!);
      // Once GStreamer sent an SR, our reports carry its LSR and a DLSR, and it derives a round trip.
      const withLsr = blocks.filter((b) => b[6] !== '0000' || b[7] !== '0000');
      expect(withLsr.length).toBeGreaterThanOrEqual(1);
      const rtts = [...log.matchAll(/round trip ([0-9a-f]{4}):([0-9a-f]{4})/g)].map(
        (m) => (parseInt(m[1]!, 16) * 65536 + parseInt(m[2]!, 16)) / 65536,
      );
      expect(rtts.length).toBeGreaterThanOrEqual(1);
      for (const rtt of rtts) expect(rtt).toBeLessThan(0.25);
      // GStreamer took in every report sent, except perhaps the last, sent as it tore down.
      expect(rrFrom.length).toBeLessThanOrEqual(reportsSent!);
      expect(rrFrom.length).toBeGreaterThanOrEqual(reportsSent! - 1);
    }, 90_000);
  },
);
