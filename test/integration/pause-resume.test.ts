/**
 * Issue 2, test 5: PAUSE then PLAY resumes where it stopped. Over the whole session (play about
 * 2 s, pause about 1.5 s, play about 1.5 s more) each track's RTP sequence numbers run on without a
 * gap or a repeat, and the RTP timestamps stay on the media timeline: access unit k carries
 * rtptime(npt 0) + the pts of the file's k-th sample (decode order, from ffprobe), plus, after the
 * resume, the time the pause lasted: the RTP clock runs with wall time across PLAYs (issue 9: a
 * client timing media by the last SR mapping sees no jump), and the resuming PLAY's RTP-Info maps
 * the new timestamps to the paused position. So the resume neither skips nor repeats a sample. The
 * PAUSE answer has a Range, and the resuming PLAY's Range and RTP-Info continue from it.
 */

import { beforeAll, expect, it } from 'vitest';
import { accessUnitTimestamps } from '../helpers/h264-inspect.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import type { ClientTrack } from '../helpers/rtsp-client.ts';
import { sampleFacts } from '../helpers/sample-facts.ts';
import type { SampleFacts } from '../helpers/sample-facts.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { sleep } from '../helpers/wait.ts';

const tsDiff = (a: number, b: number) => (a - b) | 0;
const PAUSE_MS = 1500;

describeWithPeers('PAUSE then PLAY continues sequence numbers and the media timeline', ['ffprobe'], () => {
  const { url } = serverForSuite();
  let facts: SampleFacts;

  beforeAll(async () => {
    facts = await sampleFacts();
  });

  for (const lower of ['udp', 'tcp'] as const) {
    it.concurrent(`over ${lower}`, async () => {
      const client = await RtspTestClient.connect(url());
      try {
        const video = (await client.setup(url('sample.mp4/trackID=1'), lower)).track;
        const audio = (await client.setup(url('sample.mp4/trackID=2'), lower)).track;
        const play1 = await client.play(url());
        expect(play1.response.statusCode).toBe(200);
        expect(play1.range?.start).toBe(0);
        await sleep(2000);

        const pause = await client.pause(url());
        const pausedMs = performance.now();
        expect(pause.response.statusCode).toBe(200);
        expect(pause.range).toBeDefined();
        const pausedAt = pause.range!.start as number;
        expect(pausedAt).toBeTypeOf('number');
        expect(pause.range!.end).toBe(facts.durationSec);
        // ~2 s were played; the bound is loose on purpose (slow machine), the timeline check below is exact.
        expect(pausedAt).toBeGreaterThan(0.5);
        expect(pausedAt).toBeLessThan(10);

        // Nothing flows while paused (after a moment for packets already on their way).
        await sleep(300);
        const counts = [video.rtp.length, audio.rtp.length];
        await sleep(PAUSE_MS - 300);
        expect([video.rtp.length, audio.rtp.length]).toEqual(counts);
        const lastBefore = [video.rtp[video.rtp.length - 1]!, audio.rtp[audio.rtp.length - 1]!];

        const resumeSentMs = performance.now();
        const play2 = await client.play(url());
        expect(play2.response.statusCode).toBe(200);
        const resumedMs = performance.now();
        // Resumes at the paused position (the header has ms precision, like the PAUSE answer's).
        expect(play2.response.headers.get('Range')).toBe(pause.response.headers.get('Range'));
        const byTrack = (p: typeof play2, suffix: string) => p.rtpInfo.find((e) => e.url.endsWith(suffix))!;
        /** Per track: how far the RTP clock ran on beyond the media timeline while paused, in ticks. */
        const pauseTicks: number[] = [];
        for (const [i, suffix] of ['/trackID=1', '/trackID=2'].entries()) {
          const before = byTrack(play1, suffix);
          const after = byTrack(play2, suffix);
          const rate = i === 0 ? 90000 : facts.audio.sampleRate;
          // seq: the next one after the last packet sent before the pause.
          expect(after.seq! & 0xffff).toBe((lastBefore[i]!.seq + 1) & 0xffff);
          // rtptime: the paused position on the old mapping, moved on by the pause's wall time
          // (between our PAUSE answer and our PLAY request, give or take the round trips).
          const ran = (tsDiff(after.rtptime!, before.rtptime!) - pausedAt * rate) / rate;
          expect(ran).toBeGreaterThan((resumeSentMs - pausedMs - 50) / 1000);
          expect(ran).toBeLessThan((resumedMs - pausedMs + 50) / 1000);
          pauseTicks.push(Math.round(ran * rate));
        }
        await sleep(1500);
        expect((await client.teardown(url())).statusCode).toBe(200);

        const sent = video.rtp.length;
        expect(sent).toBeGreaterThan(counts[0]!);
        expectContinuousSeq(video);
        expectContinuousSeq(audio);

        // Video: access unit k (in sending order = decode order) has pts of the file's sample k.
        // After the resume the same, plus the ticks the clock ran on while paused: measured from
        // the first resumed access unit, equal to RTP-Info's within 1 ms (the Range header's
        // precision), then exact for every later one.
        const resumePacket = video.rtp.indexOf(lastBefore[0]!) + 1;
        const onTimeline = (ts: number[], want: number[], firstAfter: number, track: number) => {
          const offset = ts[firstAfter]! - want[firstAfter]!;
          expect(Math.abs(offset - pauseTicks[track]!)).toBeLessThanOrEqual((track === 0 ? 90000 : facts.audio.sampleRate) / 1000);
          return ts.map((t, k) => (k < firstAfter ? t : t - offset));
        };
        const v = facts.video;
        const vTs = accessUnitTimestamps(video.rtp).map((t) => tsDiff(t, byTrack(play1, '/trackID=1').rtptime!));
        const vWant = v.packets.slice(0, vTs.length).map((p) => Math.round((p.pts * 90000) / v.timescale));
        expect(onTimeline(vTs, vWant, accessUnitTimestamps(video.rtp.slice(0, resumePacket)).length, 0)).toEqual(vWant);
        // Audio: one AAC frame per packet here; the first is the frame at pts 0 (the priming frame
        // at pts -1024 precedes npt 0 and is not sent, see test/helpers/framemd5.ts).
        const a = facts.audio;
        const first = a.packets.findIndex((p) => p.pts >= 0);
        const aTs = accessUnitTimestamps(audio.rtp).map((t) => tsDiff(t, byTrack(play1, '/trackID=2').rtptime!));
        const aWant = a.packets.slice(first, first + aTs.length).map((p) => Math.round((p.pts * a.sampleRate) / a.timescale));
        expect(onTimeline(aTs, aWant, audio.rtp.indexOf(lastBefore[1]!) + 1, 1)).toEqual(aWant);
      } finally {
        client.close();
      }
    });
  }
});

function expectContinuousSeq(track: ClientTrack): void {
  const bad: string[] = [];
  for (let i = 1; i < track.rtp.length; i++) {
    const want = (track.rtp[i - 1]!.seq + 1) & 0xffff;
    if (track.rtp[i]!.seq !== want) bad.push(`#${i}: ${track.rtp[i - 1]!.seq} -> ${track.rtp[i]!.seq}`);
  }
  expect(bad).toEqual([]);
}
