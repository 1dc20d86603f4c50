/**
 * Issue 9: an SR + SDES for every track before its first RTP packet of every PLAY (start, seek,
 * resume). live555 clients (VLC) time a track by their own clock until its first SR arrives, then
 * switch to SR time and drop pictures up to the next keyframe, so the SR must come first. Seen on
 * the wire in the order frames arrive on one interleaved connection (TCP keeps the server's send
 * order): on each PLAY, each track's first frame is RTCP (SR + SDES, the track's SSRC), and the SR's
 * RTP timestamp is the rtptime RTP-Info announced for the start (within a few ms of clock).
 * And the RTP clock runs with wall time across PLAYs: the first SR of a seek or a resume maps its
 * NTP time to the RTP time the previous PLAY's SR mapping extrapolates to (a live555 client keeps
 * timing by that mapping; a jump of the seek's or the pause's length made VLC show nothing for
 * seconds).
 * Also: live555's 4-byte 0xFEEDFACE NAT keep-alives to the RTCP port are not malformed RTCP.
 */
import { describe, expect, it } from 'vitest';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import type { PlayInfo } from '../helpers/rtsp-client.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';

interface Frame {
  phase: number;
  channel: number;
  data: Buffer;
}

describe('sender report before the first RTP packet of every PLAY', () => {
  const { server, url } = serverForSuite();

  it('start, seek and resume: RTCP SR first on each track, its rtptime the RTP-Info one', async () => {
    const client = await RtspTestClient.connect(url());
    const frames: Frame[] = [];
    let phase = 0;
    client.onInterleaved = (channel, data) => frames.push({ phase, channel, data });
    try {
      await client.setup(url('sample.mp4/trackID=1'), 'tcp');
      await client.setup(url('sample.mp4/trackID=2'), 'tcp');
      const plays: PlayInfo[] = [];
      const rates = [90000, 48000];
      /** The first SR of each PLAY, per track. */
      const firstSrs: { rtpTimestamp: number; ntpSec: number }[][] = [];
      const check = async (p: number, play: PlayInfo) => {
        expect(play.response.statusCode).toBe(200);
        // Both tracks' first RTP packets of this PLAY have arrived.
        await waitUntil(() => [0, 2].every((ch) => frames.some((f) => f.phase === p && f.channel === ch)), 10_000, `RTP of PLAY ${p}`);
        client.tracks.forEach((t, i) => {
          const [rtpCh, rtcpCh] = t.transport.interleaved!;
          const mine = frames.filter((f) => f.phase === p && (f.channel === rtpCh || f.channel === rtcpCh));
          expect(mine[0]?.channel, `PLAY ${p}, track ${i + 1}: first frame`).toBe(rtcpCh);
          const sr = parseSr(mine[0]!.data);
          expect(sr.ssrc).toBe(t.ssrc);
          (firstSrs[p] ??= [])[i] = sr;
          const info = play.rtpInfo[i]!;
          expect(info.rtptime).toBeDefined();
          const drift = ((sr.rtpTimestamp - info.rtptime!) | 0) / rates[i]!;
          expect(Math.abs(drift), `PLAY ${p}, track ${i + 1}: SR rtptime − RTP-Info rtptime, s`).toBeLessThan(0.05);
        });
      };
      plays.push(await client.play(url()));
      await check(0, plays[0]!);
      await sleep(500);

      await client.pause(url());
      await sleep(1000);
      phase = 1;
      plays.push(await client.play(url(), 'npt=5-'));
      await check(1, plays[1]!);
      await sleep(300);

      await client.pause(url());
      await sleep(1000);
      phase = 2;
      plays.push(await client.play(url()));
      await check(2, plays[2]!);

      // Seek (phase 1) and resume (phase 2), each after a 1 s pause: RTP time moved on with NTP time.
      for (const p of [1, 2]) {
        rates.forEach((rate, i) => {
          const before = firstSrs[p - 1]![i]!;
          const now = firstSrs[p]![i]!;
          const rtpSec = ((now.rtpTimestamp - before.rtpTimestamp) | 0) / rate;
          const ntpSec = now.ntpSec - before.ntpSec;
          expect(ntpSec).toBeGreaterThan(1);
          expect(Math.abs(rtpSec - ntpSec), `PLAY ${p}, track ${i + 1}: RTP time ${rtpSec} s vs NTP time ${ntpSec} s`).toBeLessThan(0.05);
        });
      }
    } finally {
      client.close();
    }
  });

  it('a 0xFEEDFACE NAT keep-alive on the RTCP port is counted as such, not as malformed RTCP', async () => {
    const client = await RtspTestClient.connect(url());
    try {
      const { track } = await client.setup(url('sample.mp4/trackID=2'), 'udp');
      const before = server.snapshot().counters;
      client.sendRtcp(track, Buffer.from([0xfe, 0xed, 0xfa, 0xce]));
      await waitUntil(() => server.snapshot().counters.natKeepAlives > before.natKeepAlives, 5000, 'keep-alive counted');
      const after = server.snapshot().counters;
      expect(after.natKeepAlives - before.natKeepAlives).toBe(1);
      expect(after.rtcpMalformed).toBe(before.rtcpMalformed);
    } finally {
      client.close();
    }
  });
});

function parseSr(data: Buffer): { ssrc: number; rtpTimestamp: number; ntpSec: number } {
  // RFC 3550 §6.4.1: V=2, PT=200, SSRC at 4, NTP at 8..15, RTP timestamp at 16.
  expect(data.length).toBeGreaterThanOrEqual(28);
  expect(data[1]).toBe(200);
  return {
    ssrc: data.readUInt32BE(4),
    rtpTimestamp: data.readUInt32BE(16),
    ntpSec: data.readUInt32BE(8) + data.readUInt32BE(12) / 2 ** 32,
  };
}
