/**
 * Issue 2, test 4: PLAY with a Range starts at the right keyframe, checked with our own scriptable
 * client (test/helpers/rtsp-client.ts) over UDP and over TCP interleaved.
 *
 * `Range: npt=5.5-` must start at the keyframe at or before 5.5 s. The sample has a keyframe every
 * 25 frames (1 s), so that is the one at 5.0 s; the answer says `Range: npt=5.000-20.000` and its
 * RTP-Info gives, per track, the first sequence number and the RTP time of npt 5.0. The first video
 * packet carries exactly that seq and timestamp (the keyframe's pts is the start time), and the
 * first access unit is an IDR with SPS and PPS in front. Audio starts with the last AAC frame that
 * begins at or before 5.0 s, so its first timestamp is rtptime minus the part of that frame before
 * 5.0 s. All expectations come from ffprobe, not from the server's code.
 */

import { beforeAll, expect, it } from 'vitest';
import { firstAccessUnit, nalsInPayload } from '../helpers/h264-inspect.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import type { ClientTrack } from '../helpers/rtsp-client.ts';
import { sampleFacts } from '../helpers/sample-facts.ts';
import type { SampleFacts } from '../helpers/sample-facts.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { waitUntil } from '../helpers/wait.ts';

const REQUESTED = 5.5;

/** a − b on 32-bit RTP timestamps, as a signed difference. */
const tsDiff = (a: number, b: number) => (a - b) | 0;

describeWithPeers('PLAY with Range starts at the keyframe at or before the start', ['ffprobe'], () => {
  const { url } = serverForSuite();
  let facts: SampleFacts;
  /** Expected from ffprobe: the keyframe at or before 5.5 s, and the audio frame at or before it. */
  let keyframe: { pts: number };
  let audioStart: { pts: number };
  let startSec: number;

  beforeAll(async () => {
    facts = await sampleFacts();
    const v = facts.video;
    const keys = v.packets.filter((p) => p.key && p.pts <= REQUESTED * v.timescale);
    keyframe = keys.reduce((a, b) => (b.pts > a.pts ? b : a));
    startSec = keyframe.pts / v.timescale;
    const a = facts.audio;
    audioStart = a.packets.filter((p) => p.pts <= startSec * a.timescale).reduce((x, y) => (y.pts > x.pts ? y : x));
    // The sample's own numbers, for the reader: keyframe at 5.0 s; audio frame at 239616/48000 s.
    expect(startSec).toBe(5);
    expect(audioStart.pts).toBe(239616);
  });

  for (const lower of ['udp', 'tcp'] as const) {
    it.concurrent(`over ${lower}: Range, RTP-Info, first packets and the first access unit`, async () => {
      const client = await RtspTestClient.connect(url());
      try {
        const { response: d } = await client.describe(url());
        expect(d.statusCode).toBe(200);
        const base = d.headers.get('Content-Base')!;
        expect(base).toBe(`${url()}/`);
        const video = (await client.setup(`${base}trackID=1`, lower)).track;
        const audio = (await client.setup(`${base}trackID=2`, lower)).track;

        const play = await client.play(url(), `npt=${REQUESTED}-`);
        expect(play.response.statusCode).toBe(200);
        const durationText = facts.durationSec.toFixed(3);
        expect(play.response.headers.get('Range')).toBe(`npt=${startSec.toFixed(3)}-${durationText}`);
        expect(play.response.headers.get('Range')).toBe('npt=5.000-20.000');

        expect(play.rtpInfo).toHaveLength(2);
        const infoV = play.rtpInfo.find((e) => e.url.endsWith('/trackID=1'));
        const infoA = play.rtpInfo.find((e) => e.url.endsWith('/trackID=2'));
        for (const e of [infoV, infoA]) {
          expect(e).toBeDefined();
          expect(e!.url.startsWith(url())).toBe(true);
          expect(e!.seq).toBeTypeOf('number');
          expect(e!.rtptime).toBeTypeOf('number');
        }

        // The first access unit is complete once a packet with the marker bit has arrived.
        await waitUntil(
          () => video.rtp.some((p) => p.marker) && audio.rtp.length > 0,
          10_000,
          'the first video access unit and an audio packet',
        );

        checkVideoStart(video, infoV!.seq!, infoV!.rtptime!);

        const a0 = audio.rtp[0]!;
        expect(a0.seq).toBe(infoA!.seq! & 0xffff);
        expect(a0.ssrc).toBe(audio.ssrc);
        // rtptime is npt 5.0 on the audio clock; the first frame began (240000 - 239616) ticks earlier.
        const rate = facts.audio.sampleRate;
        expect(tsDiff(a0.timestamp, infoA!.rtptime!)).toBe(audioStart.pts - startSec * rate);
        expect(tsDiff(a0.timestamp, infoA!.rtptime!)).toBe(-384);

        const td = await client.teardown(url());
        expect(td.statusCode).toBe(200);
      } finally {
        client.close();
      }
    });
  }

  function checkVideoStart(video: ClientTrack, seq: number, rtptime: number): void {
    const first = video.rtp[0]!;
    // Nothing was sent before the packet RTP-Info names, and it carries the keyframe's pts.
    expect(first.seq).toBe(seq & 0xffff);
    expect(first.timestamp).toBe(rtptime >>> 0);
    expect(first.ssrc).toBe(video.ssrc);
    expect(first.payloadType).toBe(96);

    const au = firstAccessUnit(video.rtp);
    // One access unit: one timestamp, consecutive sequence numbers, marker only on the last packet.
    expect(new Set(au.map((p) => p.timestamp)).size).toBe(1);
    au.forEach((p, i) => expect(p.seq).toBe((first.seq + i) & 0xffff));
    const nals = au.flatMap((p) => nalsInPayload(p.payload));
    const types = nals.map((n) => n.type);
    // SPS, PPS, then the IDR slice(s); nothing else (no non-IDR slice) in the unit.
    expect(types.slice(0, 2)).toEqual([7, 8]);
    expect(types.slice(2).length).toBeGreaterThan(0);
    expect(types.slice(2).every((t) => t === 5)).toBe(true);
    // Either one STAP-A carries SPS+PPS, or they come as single NAL unit packets.
    expect([
      ['stap-a', 'stap-a'],
      ['single', 'single'],
    ]).toContainEqual(nals.slice(0, 2).map((n) => n.via));
    // In-band parameter sets are the file's (avcC, read by ffprobe).
    expect(nals[0]!.nal!.toString('hex')).toBe(facts.video.sps.toString('hex'));
    expect(nals[1]!.nal!.toString('hex')).toBe(facts.video.pps.toString('hex'));
  }
});
