/**
 * Simulated live (`serve --live NAME=FILE`) with real peers: two of our test clients joining 5 s
 * apart get byte-identical packets from the point the second joined, with sequence numbers and
 * timestamps continuous across the loop boundaries of a 4 s clip; ffmpeg watches over UDP and TCP
 * and decodes without errors.
 */
import { beforeAll, expect, it } from 'vitest';
import { clipForSuite } from '../live/make-clip.ts';
import { ffmpegReadFrames } from '../helpers/ffmpeg.ts';
import { parseFramemd5 } from '../helpers/framemd5.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import type { ClientTrack, ReceivedRtp } from '../helpers/rtsp-client.ts';
import { expectSuccess, ffmpegErrors } from '../helpers/run-program.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { sleep } from '../helpers/wait.ts';
import { nativeSenderError, udpBatchStats } from '../../src/transport/index.ts';

describeWithPeers('simulated live channel (--live NAME=FILE)', ['ffmpeg'], () => {
  let url: string;
  const clip = clipForSuite(4);

  const suite = serverForSuite(() => ({ live: [{ name: 'clip', file: clip.file }] }));
  const { server } = suite;
  beforeAll(() => {
    url = suite.url('live/clip');
  });

  async function join(lower: 'udp' | 'tcp', range?: string) {
    const c = await RtspTestClient.connect(url);
    const d = await c.describe(url);
    expect(d.response.statusCode).toBe(200);
    expect(d.sdp).toContain('a=range:npt=now-');
    await c.setup(`${url}/trackID=1`, lower);
    await c.setup(`${url}/trackID=2`, lower);
    const play = await c.play(url, range);
    expect(play.response.statusCode).toBe(200);
    expect(play.response.headers.get('Range')).toBe('npt=now-');
    return { c, play };
  }

  const key = (p: ReceivedRtp) => `${p.seq}/${p.timestamp}/${p.marker}/${p.ssrc}/${p.payloadType}/${p.payload.toString('base64')}`;

  it('two clients 5 s apart get the same packets from the point the second joined, continuous across loops', async () => {
    // The first asks to seek: a live channel answers as live and does not seek.
    const first = await join('udp', 'npt=3-');
    await sleep(5000);
    const second = await join('tcp');
    // Receiver reports from a viewer become QoS records, as for files.
    const reports: { media: string; ssrc: number; sessionId: string; fractionLost: number }[] = [];
    const off = server.events.on('receiver-report', (r) => reports.push(r));
    first.c.sendReceiverReport(first.c.tracks[0]!, { fractionLost: 64 });
    // ... over UDP and interleaved in the RTSP connection.
    second.c.sendReceiverReport(second.c.tracks[1]!, { fractionLost: 128 });
    await sleep(5000);
    off();
    expect(reports).toHaveLength(2);
    expect(reports).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ media: 'live/clip', ssrc: first.c.tracks[0]!.ssrc, sessionId: first.c.session, fractionLost: 0.25 }),
        expect.objectContaining({ media: 'live/clip', ssrc: second.c.tracks[1]!.ssrc, sessionId: second.c.session, fractionLost: 0.5 }),
      ]),
    );
    // Our SRs carry the channel's SSRC, to every viewer.
    for (const t of [...first.c.tracks, ...second.c.tracks]) expect(t.rtcp.some((p) => p.type === 'sr' && p.ssrc === t.ssrc)).toBe(true);
    await first.c.teardown(url);
    await second.c.teardown(url);
    first.c.close();
    second.c.close();

    for (let t = 0; t < 2; t++) {
      const a: ClientTrack = first.c.tracks[t]!;
      const b: ClientTrack = second.c.tracks[t]!;
      expect(b.rtp.length).toBeGreaterThan(50);
      // Same SSRC as announced in SETUP, for both viewers: one sender per channel track.
      expect(new Set([...a.rtp, ...b.rtp].map((p) => p.ssrc))).toEqual(new Set([a.ssrc]));
      expect(b.ssrc).toBe(a.ssrc);
      // The second's RTP-Info names the sequence number it got first (audio joins at once; video
      // waits for the next keyframe, so it is at or after it).
      const info = second.play.rtpInfo.find((x) => x.url?.endsWith(`trackID=${t + 1}`));
      expect(info?.seq).toBeDefined();
      const lead = (b.rtp[0]!.seq - info!.seq!) & 0xffff;
      if (t === 1) expect(lead).toBe(0);
      else expect(lead).toBeLessThan(26 * 30);
      // Byte-identical packets from where the second joined until it left.
      const start = a.rtp.findIndex((p) => p.seq === b.rtp[0]!.seq);
      expect(start).toBeGreaterThan(0);
      const overlap = Math.min(b.rtp.length, a.rtp.length - start) - 5;
      expect(overlap).toBeGreaterThan(40);
      const differ = b.rtp.slice(0, overlap).findIndex((p, i) => key(p) !== key(a.rtp[start + i]!));
      expect(differ).toBe(-1);
      // Continuous over ~10 s of a 4 s clip (two or more loop boundaries): no sequence gaps, and
      // presentation never goes back: audio +1024 per packet, or a larger step at a boundary.
      for (const track of [a, b]) {
        const gaps = track.rtp.filter((p, i) => i > 0 && p.extSeq !== track.rtp[i - 1]!.extSeq + 1);
        expect(gaps.length).toBe(0);
      }
      if (t === 1) {
        const steps = a.rtp.slice(1).map((p, i) => (p.timestamp - a.rtp[i]!.timestamp) >>> 0);
        expect(steps.every((d) => d >= 1024 && d < 48000)).toBe(true);
      } else {
        // Video: the first frame (lowest presentation time) of each loop is 4 s (+ rounding) after the previous loop's.
        const frames = a.rtp.filter((p) => p.marker).map((p) => (p.timestamp - a.rtp[0]!.timestamp) | 0);
        const byLoop = new Map<number, number[]>();
        const period = 4 * 90000;
        for (const f of frames) {
          const k = Math.floor((f + 0.5 * period) / period);
          byLoop.set(k, [...(byLoop.get(k) ?? []), f]);
        }
        expect(byLoop.size).toBeGreaterThanOrEqual(2);
        const loops = [...byLoop.keys()].sort((x, y) => x - y);
        for (let i = 1; i < loops.length; i++) {
          expect(Math.max(...byLoop.get(loops[i - 1]!)!)).toBeLessThan(Math.min(...byLoop.get(loops[i]!)!));
        }
      }
    }
  }, 60_000);

  it("three UDP viewers: a frame's fan-out is regrouped viewer by viewer (for UDP GSO), and each gets every packet once, in order", async () => {
    const grouped = () => udpBatchStats()?.grouped ?? 0;
    const before = grouped();
    const viewers = [await join('udp'), await join('udp'), await join('udp')];
    await sleep(3000);
    for (const { c } of viewers) {
      await c.teardown(url);
      c.close();
    }
    // The native sender regrouped wakes whose datagrams went packet by packet to every viewer (a
    // frame's fragments: 3 or more a frame, each to the three). Without the addon, no batch at all.
    if (nativeSenderError() === undefined) expect(grouped() - before).toBeGreaterThan(10);
    else expect(udpBatchStats()).toBeUndefined();
    for (let t = 0; t < 2; t++) {
      const tracks = viewers.map((v) => v.c.tracks[t]!);
      for (const track of tracks) {
        expect(track.rtp.length).toBeGreaterThan(50);
        const gaps = track.rtp.filter((p, i) => i > 0 && p.extSeq !== track.rtp[i - 1]!.extSeq + 1);
        expect(gaps).toEqual([]);
      }
      // Byte-identical from the last joiner's first packet on, for as long as all three got packets.
      const from = Math.max(...tracks.map((x) => x.rtp[0]!.extSeq));
      const to = Math.min(...tracks.map((x) => x.rtp[x.rtp.length - 1]!.extSeq));
      expect(to - from).toBeGreaterThan(40);
      const span = tracks.map((x) => x.rtp.filter((p) => p.extSeq >= from && p.extSeq <= to).map(key));
      expect(span[1]).toEqual(span[0]);
      expect(span[2]).toEqual(span[0]);
    }
  }, 30_000);

  it('PAUSE stops sending to that viewer only; PLAY joins again at the current point', async () => {
    const { c } = await join('tcp');
    const other = await join('tcp');
    await sleep(1500);
    const p = await c.pause(url);
    expect(p.response.statusCode).toBe(200);
    expect(p.response.headers.get('Range')).toBe('npt=now-');
    await sleep(200);
    const audio = c.tracks[1]!;
    const held = audio.rtp.length;
    const otherBefore = other.c.tracks[1]!.rtp.length;
    await sleep(1500);
    expect(audio.rtp.length).toBe(held);
    expect(other.c.tracks[1]!.rtp.length).toBeGreaterThan(otherBefore + 40);
    const again = await c.play(url);
    const info = again.rtpInfo.find((x) => x.url?.endsWith('trackID=2'));
    await audio.waitForPackets(held + 20);
    // Resumed at the channel's current point: the packets sent meanwhile are skipped, not queued.
    const resumed = audio.rtp[held]!;
    expect(resumed.seq).toBe(info!.seq);
    expect((resumed.seq - audio.rtp[held - 1]!.seq) & 0xffff).toBeGreaterThan(40);
    await c.teardown(url);
    await other.c.teardown(url);
    c.close();
    other.c.close();
  }, 30_000);

  it.each(['udp', 'tcp'] as const)(
    'ffmpeg watches over %s and decodes without errors',
    async (transport) => {
      const r = await ffmpegReadFrames(url, { transport, seconds: 6 });
      expectSuccess(r, `ffmpeg ${transport}`);
      expect(ffmpegErrors(r.stderr)).toBe('');
      const frames = parseFramemd5(r.stdout);
      // 6 s across at least one loop boundary: ~150 video frames and ~280 AAC frames, decoded.
      expect(frames.filter((f) => f.stream === 0).length).toBeGreaterThan(120);
      expect(frames.filter((f) => f.stream === 1).length).toBeGreaterThan(200);
      const pts = frames.filter((f) => f.stream === 0).map((f) => f.pts);
      expect(pts.every((p, i) => i === 0 || p > pts[i - 1]!)).toBe(true);
    },
    90_000,
  );
});
