/**
 * Issue 5, trick play: "Scale 2 and -2: packet timestamps and the keyframe-only rule checked", with
 * our own client (test/helpers/rtsp-client.ts) over UDP and TCP, and ffmpeg as the decoder.
 *
 * The sample has a keyframe every second (pts 0, 1, ..., 19, from ffprobe). One session plays:
 *   1. `Range: npt=10-`, `Scale: 2`: keyframes 10, 11, 12, 13 ... one every half second, no audio;
 *   2. `Scale: 1` (no Range): normal play from the keyframe at or before where it stands;
 *   3. `Scale: -2` (no Range): keyframes backwards from where it stands.
 * Each segment is found by the RTP-Info seq of its PLAY answer (sequence numbers are continuous).
 * The position a receiver shows comes from RTP-Info (RFC 7826 Appendix C.1.4):
 *   npt = Range start + Scale × (timestamp − rtptime) / 90000,
 * and must land exactly on the keyframes' own times. What was sent at Scale 2 and -2, written out as
 * an H.264 elementary stream, decodes in ffmpeg to the same pictures as the file's keyframes.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseFramemd5 } from '../helpers/framemd5.ts';
import { nalsInPayload } from '../helpers/h264-inspect.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import type { ClientTrack, PlayInfo, ReceivedRtp } from '../helpers/rtsp-client.ts';
import { expectSuccess, ffmpegErrors, runProgram } from '../helpers/run-program.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { SAMPLE } from '../helpers/server.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';

/** a − b on 32-bit RTP timestamps, as a signed difference. */
const tsDiff = (a: number, b: number) => (a - b) | 0;
const VIDEO_RATE = 90_000;
/** NAL types allowed in a keyframe access unit: IDR slice, SEI, SPS, PPS, access unit delimiter. */
const KEYFRAME_NALS = new Set([5, 6, 7, 8, 9]);

interface AccessUnit {
  timestamp: number;
  packets: ReceivedRtp[];
  nalTypes: number[];
}

/** Video packets grouped into access units (timestamp change or marker ends one). */
function accessUnits(packets: readonly ReceivedRtp[]): AccessUnit[] {
  const out: AccessUnit[] = [];
  let open: AccessUnit | undefined;
  for (const p of packets) {
    if (!open || open.timestamp !== p.timestamp) {
      open = { timestamp: p.timestamp, packets: [], nalTypes: [] };
      out.push(open);
    }
    open.packets.push(p);
    open.nalTypes.push(...nalsInPayload(p.payload).map((n) => n.type));
    if (p.marker) open = undefined;
  }
  return out;
}

/** The packets of `track` from the one with sequence number `fromSeq` up to (not including) `toSeq`. */
function segment(track: ClientTrack, fromSeq: number, toSeq?: number): ReceivedRtp[] {
  const a = track.rtp.findIndex((p) => p.seq === fromSeq);
  if (a < 0) return [];
  const b = toSeq === undefined ? -1 : track.rtp.findIndex((p, i) => i > a && p.seq === toSeq);
  return track.rtp.slice(a, b < 0 ? undefined : b);
}

function info(play: PlayInfo, track: 1 | 2) {
  const e = play.rtpInfo.find((x) => x.url.endsWith(`/trackID=${track}`));
  if (!e || e.seq === undefined || e.rtptime === undefined) throw new Error(`no RTP-Info for track ${track}`);
  return { seq: e.seq, rtptime: e.rtptime };
}

/**
 * The checks every fast-forward/rewind segment must pass: keyframe access units only, timestamps
 * rising, each one mapping (RTP-Info + Scale) exactly onto a keyframe time in the Scale's
 * direction, and sent at the pace |Δnpt| / |Scale|. Returns the positions shown.
 */
function checkKeyframeSegment(aus: AccessUnit[], startNpt: number, rtptime: number, scale: number): number[] {
  const npts: number[] = [];
  for (const [i, au] of aus.entries()) {
    for (const t of au.nalTypes) expect(KEYFRAME_NALS.has(t), `NAL type ${t} in a trick-play access unit`).toBe(true);
    expect(au.nalTypes).toContain(5);
    expect(au.nalTypes).toContain(7);
    expect(au.nalTypes).toContain(8);
    if (i > 0) expect(tsDiff(au.timestamp, aus[i - 1]!.timestamp)).toBeGreaterThan(0);
    const npt = startNpt + (scale * tsDiff(au.timestamp, rtptime)) / VIDEO_RATE;
    // Keyframes sit on whole seconds; one 90 kHz tick of rounding times |Scale| at most.
    expect(Math.abs(npt - Math.round(npt))).toBeLessThan(0.001);
    npts.push(Math.round(npt));
  }
  for (let i = 1; i < npts.length; i++) expect(npts[i]! - npts[i - 1]!).toBe(Math.sign(scale));
  if (aus.length >= 3) {
    // Pacing, loosely (real time on a shared machine): first to last keyframe.
    const wall = (aus[aus.length - 1]!.packets[0]!.arrivalMs - aus[0]!.packets[0]!.arrivalMs) / 1000;
    const expected = Math.abs(npts[npts.length - 1]! - npts[0]!) / Math.abs(scale);
    expect(Math.abs(wall - expected)).toBeLessThan(0.25 + 0.15 * expected);
  }
  return npts;
}

/** RFC 6184 payloads back to an Annex B stream (single NAL, STAP-A, FU-A), independent of src/codecs. */
function annexB(packets: readonly ReceivedRtp[]): Buffer {
  const start = Buffer.from([0, 0, 0, 1]);
  const out: Buffer[] = [];
  let fu: Buffer[] = [];
  for (const p of packets) {
    const type = p.payload[0]! & 0x1f;
    if (type >= 1 && type <= 23) out.push(start, p.payload);
    else if (type === 24) {
      for (let o = 1; o + 2 <= p.payload.length;) {
        const n = p.payload.readUInt16BE(o);
        out.push(start, p.payload.subarray(o + 2, o + 2 + n));
        o += 2 + n;
      }
    } else if (type === 28) {
      const fuHeader = p.payload[1]!;
      if (fuHeader & 0x80) fu = [Buffer.from([(p.payload[0]! & 0xe0) | (fuHeader & 0x1f)])];
      fu.push(p.payload.subarray(2));
      if (fuHeader & 0x40) out.push(start, Buffer.concat(fu));
    }
  }
  return Buffer.concat(out);
}

describeWithPeers('trick play (Scale 2 and -2) with our client', ['ffmpeg'], () => {
  const { url } = serverForSuite();
  let dir: string;
  /** framemd5 of each keyframe of the file, decoded alone, by its time in seconds. */
  const keyframeHash = new Map<number, string>();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'streamlab-trick-'));
    const r = await runProgram(
      'ffmpeg',
      ['-v', 'error', '-skip_frame', 'nokey', '-i', SAMPLE, '-map', '0:v', '-f', 'framemd5', '-'],
      60_000,
    );
    expectSuccess(r, 'ffmpeg framemd5 of the keyframes');
    for (const f of parseFramemd5(r.stdout)) keyframeHash.set(Math.round(f.pts / 25), f.hash); // framemd5 time base 1/25;
    expect(keyframeHash.size).toBe(20);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Decodes the access units with ffmpeg and checks each picture is the file's keyframe at that time. */
  async function expectDecodesToKeyframes(aus: AccessUnit[], npts: number[], name: string): Promise<void> {
    const file = path.join(dir, `${name}.h264`);
    await writeFile(file, annexB(aus.flatMap((a) => a.packets)));
    const r = await runProgram('ffmpeg', ['-v', 'error', '-xerror', '-f', 'h264', '-i', file, '-f', 'framemd5', '-'], 60_000);
    expectSuccess(r, `ffmpeg decoding ${name}`);
    expect(ffmpegErrors(r.stderr)).toBe('');
    expect(parseFramemd5(r.stdout).map((f) => f.hash)).toEqual(npts.map((n) => keyframeHash.get(n)));
  }

  for (const lower of ['udp', 'tcp'] as const) {
    it.concurrent(`over ${lower}: Scale 2 from 10 s, back to Scale 1, then Scale -2 from where it stands`, async () => {
      const client = await RtspTestClient.connect(url());
      try {
        const base = (await client.describe(url())).response.headers.get('Content-Base')!;
        const video = (await client.setup(`${base}trackID=1`, lower)).track;
        const audio = (await client.setup(`${base}trackID=2`, lower)).track;

        // 1. Fast forward from 10 s.
        const ff = await client.play(url(), 'npt=10-', { Scale: '2' });
        expect(ff.response.statusCode).toBe(200);
        expect(ff.response.headers.get('Scale')).toBe('2');
        expect(ff.response.headers.get('Range')).toBe('npt=10.000-20.000');
        const ffV = info(ff, 1);
        const ffA = info(ff, 2);
        await waitUntil(() => accessUnits(segment(video, ffV.seq)).length >= 4, 10_000, 'four keyframes at Scale 2');

        // 2. Back to Scale 1 from where it stands.
        const normal = await client.play(url(), undefined, { Scale: '1' });
        expect(normal.response.statusCode).toBe(200);
        expect(normal.response.headers.get('Scale')).toBe('1');
        const s1 = normal.range!.start as number;
        const nV = info(normal, 1);
        const nA = info(normal, 2);
        await waitUntil(
          () => segment(audio, nA.seq).length >= 40 && accessUnits(segment(video, nV.seq)).length >= 25,
          10_000,
          'a second of normal play',
        );

        // 3. Rewind from where it stands.
        const rw = await client.play(url(), undefined, { Scale: '-2' });
        expect(rw.response.statusCode).toBe(200);
        expect(rw.response.headers.get('Scale')).toBe('-2');
        const s3 = rw.range!.start as number;
        expect(rw.response.headers.get('Range')).toBe(`npt=${s3.toFixed(3)}-`);
        const rwV = info(rw, 1);
        const rwA = info(rw, 2);
        await waitUntil(() => accessUnits(segment(video, rwV.seq)).length >= 3, 10_000, 'three keyframes at Scale -2');
        await client.teardown(url());
        await sleep(100);

        // Segment 1: keyframes 10, 11, 12, 13, ... and no audio at all.
        const ffAus = accessUnits(segment(video, ffV.seq, nV.seq));
        const ffNpts = checkKeyframeSegment(ffAus, 10, ffV.rtptime, 2);
        expect(ffNpts.slice(0, 4)).toEqual([10, 11, 12, 13]);
        expect(nA.seq).toBe(ffA.seq); // nothing was sent on the audio stream meanwhile
        expect(audio.rtp[0]!.seq).toBe(nA.seq);

        // Segment 2: the keyframe at or before the position reached, then every frame, audio again.
        expect(Number.isInteger(s1)).toBe(true);
        expect(s1).toBeGreaterThanOrEqual(ffNpts[ffNpts.length - 1]!);
        expect(s1).toBeLessThanOrEqual(ffNpts[ffNpts.length - 1]! + 1);
        const nAus = accessUnits(segment(video, nV.seq, rwV.seq));
        expect(nAus[0]!.nalTypes).toContain(5);
        expect(tsDiff(nAus[0]!.timestamp, nV.rtptime)).toBe(0); // the IDR at s1 is the Range start
        expect(tsDiff(nAus[0]!.timestamp, ffAus[ffAus.length - 1]!.timestamp)).toBeGreaterThan(0);
        expect(nAus.some((a) => a.nalTypes.includes(1))).toBe(true); // non-key frames again
        const nAudio = segment(audio, nA.seq, rwA.seq);
        expect(nAudio.length).toBeGreaterThanOrEqual(40);
        // The audio frame at or before s1: RTP-Info maps s1 to rtptime on both tracks.
        const lead = tsDiff(nAudio[0]!.timestamp, nA.rtptime);
        expect(lead).toBeLessThanOrEqual(0);
        expect(lead).toBeGreaterThan(-1024);

        // Segment 3: backwards from the keyframe at or before s3, no audio.
        const rwAus = accessUnits(segment(video, rwV.seq));
        const first = startOfRewind(rwAus[0]!, s3, rwV.rtptime);
        expect(first).toBe(Math.floor(s3 + 1e-6));
        const rwNpts = checkKeyframeSegment(rwAus, s3, rwV.rtptime, -2);
        expect(rwNpts[0]).toBe(first);
        expect(tsDiff(rwAus[0]!.timestamp, nAus[nAus.length - 1]!.timestamp)).toBeGreaterThan(0);
        expect(segment(audio, rwA.seq)).toEqual([]);

        // Sequence numbers continuous through all three segments (no loss on loopback).
        for (let i = 1; i < video.rtp.length; i++) expect(video.rtp[i]!.seq).toBe((video.rtp[i - 1]!.seq + 1) & 0xffff);

        await expectDecodesToKeyframes(ffAus, ffNpts, `ff-${lower}`);
        await expectDecodesToKeyframes(rwAus, rwNpts, `rw-${lower}`);
      } finally {
        client.close();
      }
    });
  }

  /** The position the first rewind access unit shows (RTP-Info mapping), rounded to a keyframe. */
  function startOfRewind(au: AccessUnit, s3: number, rtptime: number): number {
    return Math.round(s3 - (2 * tsDiff(au.timestamp, rtptime)) / VIDEO_RATE);
  }

  it.concurrent('the ends: rewind stops at 0 and fast forward at the end, each with BYE', async () => {
    const bye = (t: ClientTrack) => t.rtcp.some((p) => p.type === 'bye');
    const run = async (range: string, scale: string) => {
      const client = await RtspTestClient.connect(url());
      const base = (await client.describe(url())).response.headers.get('Content-Base')!;
      const video = (await client.setup(`${base}trackID=1`, 'tcp')).track;
      const audio = (await client.setup(`${base}trackID=2`, 'tcp')).track;
      const play = await client.play(url(), range, { Scale: scale });
      try {
        await waitUntil(() => bye(video) && bye(audio), 10_000, `BYE on both tracks after ${range} at Scale ${scale}`);
      } finally {
        client.close();
      }
      expect(audio.rtp).toEqual([]);
      return { play, video };
    };
    const [rw, ff] = await Promise.all([run('npt=3-', '-4'), run('npt=17-', '4')]);
    expect(rw.play.response.headers.get('Range')).toBe('npt=3.000-');
    expect(rw.play.response.headers.get('Scale')).toBe('-4');
    expect(checkKeyframeSegment(accessUnits(rw.video.rtp), 3, info(rw.play, 1).rtptime, -4)).toEqual([3, 2, 1, 0]);
    expect(ff.play.response.headers.get('Range')).toBe('npt=17.000-20.000');
    expect(checkKeyframeSegment(accessUnits(ff.video.rtp), 17, info(ff.play, 1).rtptime, 4)).toEqual([17, 18, 19]);
  });

  it.concurrent('RTCP sender reports during fast forward run on the same clock as the packets', async () => {
    const client = await RtspTestClient.connect(url());
    try {
      const base = (await client.describe(url())).response.headers.get('Content-Base')!;
      const video = (await client.setup(`${base}trackID=1`, 'tcp')).track;
      await client.setup(`${base}trackID=2`, 'tcp');
      await client.play(url(), 'npt=0-', { Scale: '4' });
      // Note when each SR arrives (polling every 10 ms) until the stream ends (BYE).
      const srs: { rtp: number; at: number }[] = [];
      let seen = 0;
      await waitUntil(
        () => {
          for (; seen < video.rtcp.length; seen++) {
            const p = video.rtcp[seen]!;
            if (p.type === 'sr') srs.push({ rtp: p.senderInfo.rtpTimestamp, at: performance.now() });
          }
          return video.rtcp.some((p) => p.type === 'bye');
        },
        15_000,
        'the end of a Scale 4 run',
        10,
      );
      expect(srs.length).toBeGreaterThanOrEqual(1);
      const aus = accessUnits(video.rtp);
      let checked = 0;
      for (const sr of srs) {
        // The RTP time due at the SR's arrival, from the last keyframe that arrived before it:
        // 90 000 ticks per second of wall time, whatever the Scale. The SR that precedes the first
        // packet of the PLAY has no keyframe before it (sr-first.test.ts checks it against RTP-Info).
        const au = aus.filter((a) => a.packets[0]!.arrivalMs <= sr.at).pop();
        if (!au) continue;
        checked++;
        const expected = au.timestamp + ((sr.at - au.packets[0]!.arrivalMs) / 1000) * VIDEO_RATE;
        expect(Math.abs(tsDiff(sr.rtp, Math.round(expected) >>> 0))).toBeLessThan(0.1 * VIDEO_RATE);
      }
      // At least the SR of the final compound (with the BYE) comes after packets.
      expect(checked).toBeGreaterThanOrEqual(1);
    } finally {
      client.close();
    }
  });

  it.concurrent('PAUSE during fast forward, resume at Scale 2; slow motion (Scale 0.5) sends every frame and no audio', async () => {
    const client = await RtspTestClient.connect(url());
    try {
      const base = (await client.describe(url())).response.headers.get('Content-Base')!;
      const video = (await client.setup(`${base}trackID=1`, 'tcp')).track;
      const audio = (await client.setup(`${base}trackID=2`, 'tcp')).track;
      const ff = await client.play(url(), 'npt=4-', { Scale: '2' });
      const ffV = info(ff, 1);
      await waitUntil(() => accessUnits(segment(video, ffV.seq)).length >= 3, 10_000, 'three keyframes');
      const paused = await client.pause(url());
      const at = paused.range!.start as number;
      expect(at).toBeGreaterThanOrEqual(6); // keyframes 4, 5, 6 were due by then
      expect(at).toBeLessThan(8);
      const before = accessUnits(segment(video, ffV.seq));

      // Resume without Range: from the paused position, the next keyframe it reaches comes first.
      const again = await client.play(url(), undefined, { Scale: '2' });
      expect(again.response.headers.get('Range')).toBe(`npt=${at.toFixed(3)}-20.000`);
      const aV = info(again, 1);
      await waitUntil(() => accessUnits(segment(video, aV.seq)).length >= 2, 10_000, 'two keyframes after resuming');
      const resumed = accessUnits(segment(video, aV.seq));
      const npts = checkKeyframeSegment(resumed, at, aV.rtptime, 2);
      expect(npts[0]).toBe(Math.floor(at) + 1);
      expect(tsDiff(resumed[0]!.timestamp, before[before.length - 1]!.timestamp)).toBeGreaterThan(0);

      // Slow motion from 12 s: every frame, stamped in playback time (0.04 s of media = 0.08 s).
      const slow = await client.play(url(), 'npt=12-', { Scale: '0.5' });
      expect(slow.response.headers.get('Scale')).toBe('0.5');
      const sV = info(slow, 1);
      await waitUntil(() => accessUnits(segment(video, sV.seq)).length >= 12, 10_000, '12 frames in slow motion');
      const aus = accessUnits(segment(video, sV.seq));
      expect(aus.some((a) => a.nalTypes.includes(1))).toBe(true);
      const shown = aus.map((a) => 12 + (0.5 * tsDiff(a.timestamp, sV.rtptime)) / VIDEO_RATE);
      for (const n of shown) expect(Math.abs(n * 25 - Math.round(n * 25))).toBeLessThan(0.01); // on a frame time
      expect(shown[0]).toBeCloseTo(12, 6);
      // 12 frames in decode order span about 0.44 s of media: 0.88 s of wall time at Scale 0.5.
      const wall = (aus[11]!.packets[0]!.arrivalMs - aus[0]!.packets[0]!.arrivalMs) / 1000;
      expect(wall).toBeGreaterThan(0.6);
      expect(wall).toBeLessThan(1.4);
      expect(audio.rtp).toEqual([]);
    } finally {
      client.close();
    }
  });

  it.concurrent('Scale and Speed answers: clamped, refused when invalid, Speed leaves timestamps alone', async () => {
    const client = await RtspTestClient.connect(url());
    try {
      const base = (await client.describe(url())).response.headers.get('Content-Base')!;
      const video = (await client.setup(`${base}trackID=1`, 'tcp')).track;
      await client.setup(`${base}trackID=2`, 'tcp');
      for (const [headers, status] of [
        [{ Scale: '0' }, 400],
        [{ Scale: 'fast' }, 400],
        [{ Speed: '0' }, 400],
        [{ Speed: '-1' }, 400],
      ] as const) {
        expect((await client.play(url(), 'npt=0-', headers)).response.statusCode).toBe(status);
      }
      // Odd but well-formed numbers are served within limits; anything else is a 400, never a 500.
      for (const [value, answer] of [
        ['.0000001', '0.0625'],
        ['99999999999999999999', '16'],
        ['+2', '2'],
        ['2.', '2'],
        [' -3.5 ', '-3.5'],
      ]) {
        const r = await client.play(url(), 'npt=0-', { Scale: value! });
        expect(r.response.statusCode).toBe(200);
        expect(r.response.headers.get('Scale')).toBe(answer);
      }
      for (const value of ['-0', 'NaN', '1e5', '', '2,5', '--1', 'Infinity']) {
        expect((await client.play(url(), 'npt=0-', { Scale: value })).response.statusCode).toBe(400);
        expect((await client.play(url(), 'npt=0-', { Speed: value })).response.statusCode).toBe(400);
      }
      expect((await client.play(url(), 'npt=5-10', { Scale: '-2' })).response.statusCode).toBe(457);
      // A reversed range (what GStreamer sends to rewind) is read as from 10 down to 5.
      const back = await client.play(url(), 'npt=10-5', { Scale: '-2' });
      expect(back.response.statusCode).toBe(200);
      expect(back.response.headers.get('Range')).toBe('npt=10.000-5.000');
      await client.pause(url());
      const big = await client.play(url(), 'npt=0-', { Scale: '100' });
      expect(big.response.headers.get('Scale')).toBe('16');
      await client.pause(url());

      // Speed 2: every frame and the audio, delivered twice as fast, with their normal timestamps.
      const fast = await client.play(url(), 'npt=2-', { Scale: '1', Speed: '2' });
      expect(fast.response.headers.get('Speed')).toBe('2');
      expect(fast.response.headers.get('Scale')).toBe('1');
      const v = info(fast, 1);
      await waitUntil(() => accessUnits(segment(video, v.seq)).length >= 60, 10_000, '60 frames at Speed 2');
      const aus = accessUnits(segment(video, v.seq));
      expect(tsDiff(aus[0]!.timestamp, v.rtptime)).toBe(0);
      const last = aus[aus.length - 1]!;
      const media = tsDiff(last.timestamp, aus[0]!.timestamp) / VIDEO_RATE;
      const wall = (last.packets[0]!.arrivalMs - aus[0]!.packets[0]!.arrivalMs) / 1000;
      expect(media / wall).toBeGreaterThan(1.5);
      expect(media / wall).toBeLessThan(2.6);
      expect(aus.some((a) => a.nalTypes.includes(1))).toBe(true);
      expect(aus.length).toBeGreaterThan(media * 25 - 5); // all frames, not keyframes
    } finally {
      client.close();
    }
  });
});
