/**
 * An edge pulling a live channel from an origin (`--live NAME=rtsp://ORIGIN/PATH`), with real
 * peers: origin = our server playing the sample as a live channel (or GStreamer's RTSP server),
 * edge = our server pulling it, viewers = ffmpeg, GStreamer's rtspsrc and our test client on the
 * edge.
 *
 * - ffmpeg on the edge decodes frames identical to the sample's (every decoded frame and every
 *   AAC packet is one of the file's); rtspsrc plays both tracks.
 * - SR timing is forwarded: a packet's NTP time by the edge's SRs equals its NTP time by the
 *   origin's SRs (same payload bytes, seen by a viewer of each), for audio and video alike.
 * - The origin stops and comes back: the viewer stays, with one SSRC, no sequence gap and a
 *   timestamp step equal to the outage; ffmpeg watching across the outage decodes on. Away past
 *   the grace: the viewer gets a BYE, DESCRIBE answers 503 with Retry-After.
 * - Credentials in the origin URL (Digest); GStreamer's RTSP server as a foreign origin.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { digestHa1 } from '../../src/rtsp/index.ts';
import type { RtcpPacket } from '../../src/rtcp/index.ts';
import { ntpToUnixMs } from '../../src/util/ntp.ts';
import type { RtspServer, ServerOptions } from '../../src/server/index.ts';
import { captureRtsp, sampleReference } from '../helpers/framemd5.ts';
import { expectRtspsrcPlayed, missingForGstreamer, rtspsrcToFakesinks } from '../helpers/gstreamer.ts';
import { startGstRtspServer } from '../helpers/peer-servers.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import type { ClientTrack } from '../helpers/rtsp-client.ts';
import { SAMPLE, startServer } from '../helpers/server.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';

const FAST_PULL = { retryMinMs: 200, retryMaxMs: 1000, downGraceMs: 6000, silenceMs: 3000 };

async function origin(port = 0, extra: Partial<ServerOptions> = {}): Promise<RtspServer> {
  return (await startServer({ port, live: [{ name: 'news', file: SAMPLE }], ...extra })).server;
}

async function edge(originUrl: string, pull: Partial<ServerOptions['pull']> = FAST_PULL): Promise<RtspServer> {
  return (await startServer({ live: [{ name: 'news', pull: originUrl }], pull })).server;
}

function pullOf(s: RtspServer) {
  return s.snapshot().live.find((c) => c.name === 'news')?.pull;
}

async function waitPlaying(s: RtspServer, plays = 1): Promise<void> {
  await waitUntil(() => (pullOf(s)?.playing ?? false) && (pullOf(s)?.plays ?? 0) >= plays, 20_000, `edge playing (${plays})`);
}

/** A viewer over TCP on `url` (our test client): both tracks set up and playing. */
async function watch(url: string): Promise<RtspTestClient> {
  const c = await RtspTestClient.connect(url);
  const d = await c.describe(url);
  expect(d.response.statusCode).toBe(200);
  await c.setup(`${url}/trackID=1`, 'tcp');
  await c.setup(`${url}/trackID=2`, 'tcp');
  expect((await c.play(url)).response.statusCode).toBe(200);
  return c;
}

/** A track's RTP timestamp → wall ms by its latest SR (received before `beforeMs` arrivals, if given). */
function ntpOf(track: ClientTrack, clockRate: number, sr?: RtcpPacket): (ts: number) => number {
  const s = sr ?? [...track.rtcp].reverse().find((p) => p.type === 'sr');
  if (!s || s.type !== 'sr') throw new Error(`no SR on ${track.url}`);
  const ntpMs = ntpToUnixMs({ seconds: s.senderInfo.ntpSeconds, fraction: s.senderInfo.ntpFraction });
  return (ts) => ntpMs + (((ts - s.senderInfo.rtpTimestamp) | 0) * 1000) / clockRate;
}

describeWithPeers('edge: a live channel pulled from our origin', ['ffmpeg'], () => {
  let o: RtspServer;
  let e: RtspServer;
  let edgeUrl: string;
  let originUrl: string;

  beforeAll(async () => {
    o = await origin();
    originUrl = `rtsp://127.0.0.1:${o.port}/live/news`;
    e = await edge(originUrl);
    edgeUrl = `rtsp://127.0.0.1:${e.port}/live/news`;
    await waitPlaying(e);
  }, 60_000);
  afterAll(async () => {
    await e?.close();
    await o?.close();
  });

  it.each(['tcp', 'udp'] as const)(
    'ffmpeg over %s on the edge decodes the frames of the origin',
    async (transport) => {
      const ref = await sampleReference();
      const got = await captureRtsp(edgeUrl, transport, 4);
      const video = new Set(ref.video.map((f) => f.hash));
      const audio = new Set(ref.audio.map((f) => f.hash));
      expect(got.video.length).toBeGreaterThan(60);
      expect(got.audio.length).toBeGreaterThan(100);
      expect(got.video.filter((f) => !video.has(f.hash))).toEqual([]);
      expect(got.audio.filter((f) => !audio.has(f.hash))).toEqual([]);
    },
    90_000,
  );

  it.runIf(missingForGstreamer(['rtspsrc', 'fakesink']).length === 0)(
    'GStreamer rtspsrc plays both tracks from the edge',
    async () => {
      expectRtspsrcPlayed(await rtspsrcToFakesinks(edgeUrl), 'rtspsrc on the edge');
    },
    60_000,
  );

  it("the edge's SRs carry the origin's timing: a packet has the same NTP time through either", async () => {
    const direct = await watch(originUrl);
    const viaEdge = await watch(edgeUrl);
    await sleep(4000);
    for (const c of [direct, viaEdge]) {
      await c.teardown(c === direct ? originUrl : edgeUrl);
      c.close();
    }
    for (const [t, rate] of [
      [0, 90000],
      [1, 48000],
    ] as const) {
      const a = direct.tracks[t]!;
      const b = viaEdge.tracks[t]!;
      // The edge rewrote SSRC, sequence numbers and timestamps...
      expect(b.ssrc).not.toBe(a.ssrc);
      const ntpA = ntpOf(a, rate);
      const ntpB = ntpOf(b, rate);
      // Payloads seen once (SPS/PPS repeat before every keyframe with other timestamps).
      const key = (p: { payload: Buffer }) => p.payload.toString('base64');
      const seen = new Map<string, number>();
      for (const p of a.rtp) seen.set(key(p), (seen.get(key(p)) ?? 0) + 1);
      const byPayload = new Map(a.rtp.filter((p) => seen.get(key(p)) === 1).map((p) => [key(p), p]));
      const deltas = b.rtp.flatMap((p) => {
        const q = byPayload.get(key(p));
        return q ? [ntpB(p.timestamp) - ntpA(q.timestamp)] : [];
      });
      // ...but the same packets reach both viewers, at the same NTP time.
      expect(deltas.length).toBeGreaterThan(50);
      expect(Math.max(...deltas.map(Math.abs))).toBeLessThan(5);
    }
  }, 60_000);
});

describeWithPeers('edge: the origin stops and comes back', ['ffmpeg'], () => {
  let o: RtspServer | undefined;
  let e: RtspServer;
  let port: number;
  let edgeUrl: string;

  beforeAll(async () => {
    o = await origin();
    port = o.port;
    e = await edge(`rtsp://127.0.0.1:${port}/live/news`);
    edgeUrl = `rtsp://127.0.0.1:${e.port}/live/news`;
    await waitPlaying(e);
  }, 60_000);
  afterAll(async () => {
    await e?.close();
    await o?.close();
  });

  it('viewers stay through a restart with one SSRC, no sequence gap, timestamps stepping by the outage', async () => {
    const viewer = await watch(edgeUrl);
    // ffmpeg watches across the outage too, and must decode on.
    const ffmpeg = captureRtsp(edgeUrl, 'tcp', 12);
    await sleep(3000);
    const before = viewer.tracks.map((t) => t.rtp.length);
    await o!.close();
    const downAt = performance.now();
    await sleep(1500);
    o = await origin(port);
    await waitPlaying(e, 2);
    const upAt = performance.now();
    await sleep(3000);
    await viewer.teardown(edgeUrl);
    viewer.close();
    expect(pullOf(e)?.channelEnds).toBe(0);
    for (const [t, rate] of [
      [0, 90000],
      [1, 48000],
    ] as const) {
      const track = viewer.tracks[t]!;
      expect(new Set(track.rtp.map((p) => p.ssrc))).toEqual(new Set([track.ssrc]));
      const gaps = track.rtp.filter((p, i) => i > 0 && p.extSeq !== track.rtp[i - 1]!.extSeq + 1);
      expect(gaps).toEqual([]);
      expect(track.rtp.length).toBeGreaterThan(before[t]! + 50);
      // The longest silence is the outage; the timestamps step by about its length.
      let widest = 1;
      for (let i = 2; i < track.rtp.length; i++) {
        const gap = track.rtp[i]!.arrivalMs - track.rtp[i - 1]!.arrivalMs;
        if (gap > track.rtp[widest]!.arrivalMs - track.rtp[widest - 1]!.arrivalMs) widest = i;
      }
      const silenceMs = track.rtp[widest]!.arrivalMs - track.rtp[widest - 1]!.arrivalMs;
      expect(silenceMs).toBeGreaterThan(1000);
      expect(silenceMs).toBeLessThan(upAt - downAt + 2000);
      const stepMs = ((((track.rtp[widest]!.timestamp - track.rtp[widest - 1]!.timestamp) | 0) * 1000) / rate) | 0;
      // Video timestamps are presentation times (B-frames): allow a few frames either way.
      expect(Math.abs(stepMs - silenceMs)).toBeLessThan(t === 0 ? 400 : 150);
    }
    const got = await ffmpeg;
    const ref = await sampleReference();
    const video = new Set(ref.video.map((f) => f.hash));
    expect(got.video.length).toBeGreaterThan(150);
    expect(got.video.filter((f) => !video.has(f.hash))).toEqual([]);
  }, 90_000);

  it('away past the grace: viewers get a BYE, DESCRIBE answers 503 with Retry-After', async () => {
    const viewer = await watch(edgeUrl);
    await sleep(1000);
    await o!.close();
    o = undefined;
    await waitUntil(
      () => viewer.tracks.every((t) => t.rtcp.some((p) => p.type === 'bye' && p.ssrcs.includes(t.ssrc!))),
      FAST_PULL.downGraceMs + 5000,
      'BYE on every track',
    );
    expect(pullOf(e)?.channelEnds).toBe(1);
    viewer.close();
    const c = await RtspTestClient.connect(edgeUrl);
    const d = await c.request('DESCRIBE', edgeUrl, { Accept: 'application/sdp' });
    c.close();
    expect(d.statusCode).toBe(503);
    expect(Number(d.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
  }, 30_000);
});

describeWithPeers('edge: credentials and a foreign origin', ['ffmpeg'], () => {
  const REALM = 'streamlab';
  const PASSWORD = 'edge-secret.7';
  const users = new Map([['edge', new Map([['MD5', digestHa1('MD5', 'edge', REALM, PASSWORD)] as const])]]);

  it('the origin asks for Digest: the URL credentials get the edge in, none get 503', async () => {
    const o = await origin(0, { auth: { users, rule: 'all' } });
    const good = await edge(`rtsp://edge:${PASSWORD}@127.0.0.1:${o.port}/live/news`);
    const bad = await edge(`rtsp://127.0.0.1:${o.port}/live/news`);
    try {
      await waitPlaying(good);
      const ref = await sampleReference();
      const got = await captureRtsp(`rtsp://127.0.0.1:${good.port}/live/news`, 'tcp', 2);
      expect(got.video.length).toBeGreaterThan(10);
      expect(got.video.every((f) => ref.video.some((r) => r.hash === f.hash))).toBe(true);
      expect(o.snapshot().auth?.accepted).toBeGreaterThan(0);
      const c = await RtspTestClient.connect(`rtsp://127.0.0.1:${bad.port}/live/news`);
      const d = await c.request('DESCRIBE', `rtsp://127.0.0.1:${bad.port}/live/news`, { Accept: 'application/sdp' });
      c.close();
      expect(d.statusCode).toBe(503);
      expect(pullOf(bad)?.plays).toBe(0);
    } finally {
      await good.close();
      await bad.close();
      await o.close();
    }
  }, 60_000);

  it("GStreamer's RTSP server as the origin: ffmpeg on the edge decodes the file's frames", async () => {
    const gst = await startGstRtspServer(SAMPLE);
    const e = await edge(gst.url);
    try {
      await waitPlaying(e);
      const ref = await sampleReference();
      const got = await captureRtsp(`rtsp://127.0.0.1:${e.port}/live/news`, 'tcp', 3);
      const video = new Set(ref.video.map((f) => f.hash));
      expect(got.video.length).toBeGreaterThan(40);
      expect(got.video.filter((f) => !video.has(f.hash))).toEqual([]);
      expect(pullOf(e)?.senderReports).toBeGreaterThan(0);
    } finally {
      await e.close();
      await gst.stop();
    }
  }, 90_000);
});
