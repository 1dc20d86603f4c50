/**
 * An edge pulling its origin over UDP (`--pull-transport udp`, or `sourceTransport: udp` in a
 * config rule), with real peers: origin = our server (or GStreamer's RTSP server), viewers =
 * ffmpeg on the edge.
 *
 * - Our origin → edge over UDP → ffmpeg decodes the sample's frames; the origin's session of the
 *   edge is UDP and receives the edge's RRs over UDP; SRs are forwarded as with TCP.
 * - A viewer that joins as the pull starts (over UDP or TCP) gets the origin's timing from the
 *   edge's very first SR: each track's mapping within 5 ms of the origin's, so the lip-sync too.
 * - An origin that sends no SR: the edge's viewers get RTP and RR + SDES, never a guessed SR.
 * - Loss on the origin → edge leg (the origin's netem) is counted by the edge.
 * - GStreamer's RTSP server pulled over UDP.
 * - An origin that accepts UDP but sends nothing over it: the edge falls back to TCP and plays.
 */
import { expect, it } from 'vitest';
import type { RtcpPacket } from '../../src/rtcp/index.ts';
import { impairmentFromArgs } from '../../src/server/index.ts';
import { ntpToUnixMs } from '../../src/util/ntp.ts';
import type { ClientTrack } from '../helpers/rtsp-client.ts';
import type { RtspServer, ServerOptions } from '../../src/server/index.ts';
import { FakeRtspServer } from '../helpers/fake-rtsp-server.ts';
import { captureRtsp, sampleReference } from '../helpers/framemd5.ts';
import { startGstRtspServer } from '../helpers/peer-servers.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { SAMPLE, startServer } from '../helpers/server.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';

const FAST_PULL = { retryMinMs: 200, retryMaxMs: 1000, downGraceMs: 6000, silenceMs: 3000, udpFallbackMs: 1500 };

async function origin(extra: Partial<ServerOptions> = {}): Promise<RtspServer> {
  return (await startServer({ live: [{ name: 'news', file: SAMPLE }], ...extra })).server;
}

async function udpEdge(originUrl: string): Promise<RtspServer> {
  return (await startServer({ live: [{ name: 'news', pull: originUrl }], pull: FAST_PULL, pullTransport: 'udp' })).server;
}

const pullOf = (s: RtspServer) => s.snapshot().live.find((c) => c.name === 'news')?.pull;

async function waitPlaying(s: RtspServer): Promise<void> {
  await waitUntil(
    () => pullOf(s)?.playing ?? false,
    20_000,
    () => `edge playing (${JSON.stringify(pullOf(s))})`,
  );
}

async function expectSampleFrames(url: string, seconds: number, minVideo: number): Promise<void> {
  const ref = await sampleReference();
  const got = await captureRtsp(url, 'tcp', seconds);
  const video = new Set(ref.video.map((f) => f.hash));
  const audio = new Set(ref.audio.map((f) => f.hash));
  expect(got.video.length).toBeGreaterThan(minVideo);
  expect(got.video.filter((f) => !video.has(f.hash))).toEqual([]);
  expect(got.audio.filter((f) => !audio.has(f.hash))).toEqual([]);
}

/** A viewer over TCP on `url` (our test client): both tracks set up and playing. */
async function watch(url: string): Promise<RtspTestClient> {
  const c = await RtspTestClient.connect(url);
  expect((await c.describe(url)).response.statusCode).toBe(200);
  await c.setup(`${url}/trackID=1`, 'tcp');
  await c.setup(`${url}/trackID=2`, 'tcp');
  expect((await c.play(url)).response.statusCode).toBe(200);
  return c;
}

type Sr = Extract<RtcpPacket, { type: 'sr' }>;

const srsOf = (track: ClientTrack): Sr[] => track.rtcp.filter((p): p is Sr => p.type === 'sr');

/** RTP timestamp → wall ms by one SR. */
function ntpBy(s: Sr, clockRate: number): (ts: number) => number {
  const ntpMs = ntpToUnixMs({ seconds: s.senderInfo.ntpSeconds, fraction: s.senderInfo.ntpFraction });
  return (ts) => ntpMs + (((ts - s.senderInfo.rtpTimestamp) | 0) * 1000) / clockRate;
}

/** A track's RTP timestamp → wall ms by its latest SR. */
function ntpOf(track: ClientTrack, clockRate: number): (ts: number) => number {
  const s = srsOf(track).at(-1);
  if (!s) throw new Error(`no SR on ${track.url}`);
  return ntpBy(s, clockRate);
}

/**
 * For each SR the edge's viewer got on track t, in order: how far (ms) that SR puts the packets
 * from where the origin's latest SR puts the same packets (same payload bytes, seen once).
 */
function srErrors(direct: RtspTestClient, viaEdge: RtspTestClient, t: number, rate: number): number[] {
  const a = direct.tracks[t]!;
  const b = viaEdge.tracks[t]!;
  const ntpA = ntpOf(a, rate);
  const key = (p: { payload: Buffer }) => p.payload.toString('base64');
  const seen = new Map<string, number>();
  for (const p of a.rtp) seen.set(key(p), (seen.get(key(p)) ?? 0) + 1);
  const byPayload = new Map(a.rtp.filter((p) => seen.get(key(p)) === 1).map((p) => [key(p), p]));
  return srsOf(b).map((s) => {
    const ntpB = ntpBy(s, rate);
    const deltas = b.rtp.flatMap((p) => {
      const q = byPayload.get(key(p));
      return q ? [ntpB(p.timestamp) - ntpA(q.timestamp)] : [];
    });
    expect(deltas.length).toBeGreaterThan(50);
    // One SR, one mapping: the same offset for every packet (the same source clock on both sides).
    expect(Math.max(...deltas) - Math.min(...deltas)).toBeLessThan(1);
    return deltas[0]!;
  });
}

describeWithPeers('edge: pulling the origin over UDP', ['ffmpeg'], () => {
  it('our origin → edge over UDP → ffmpeg decodes the frames; RRs reach the origin over UDP, SRs are forwarded', async () => {
    const o = await origin();
    const e = await udpEdge(`rtsp://127.0.0.1:${o.port}/live/news`);
    try {
      await waitPlaying(e);
      await expectSampleFrames(`rtsp://127.0.0.1:${e.port}/live/news`, 4, 60);
      // The origin serves the edge over UDP, and hears its receiver reports there.
      const viewers = () => o.sessionList().filter((x) => x.kind === 'live-viewer');
      expect(viewers()).toHaveLength(1);
      expect(viewers()[0]!.transport).toMatch(/udp/i);
      // Both tracks' reports came back (the edge reports every few seconds; one at PLAY).
      await waitUntil(
        () => viewers()[0]!.reports.length === 2,
        10_000,
        () => `RRs at the origin: ${JSON.stringify(viewers())}`,
      );
      const p = pullOf(e)!;
      expect(p.transport).toBe('udp');
      expect(p.udpFallbacks).toBe(0);
      expect(p.senderReports).toBeGreaterThan(0);
      expect(p.relayed).toBeGreaterThan(200);
      expect(p.lost).toBe(0);
      expect(p.foreignPackets).toBe(0);
    } finally {
      await e.close();
      await o.close();
    }
  }, 90_000);

  for (const transport of ['udp', 'tcp'] as const) {
    it(`over ${transport}, a viewer that joins as the pull starts gets the origin's timing from the edge's first SR on`, async () => {
      const o = await origin();
      const originUrl = `rtsp://127.0.0.1:${o.port}/live/news`;
      const direct = await watch(originUrl);
      const e = (await startServer({ live: [{ name: 'news', pull: originUrl }], pull: FAST_PULL, pullTransport: transport })).server;
      const edgeUrl = `rtsp://127.0.0.1:${e.port}/live/news`;
      try {
        // At once, before the origin's first periodic SR (and, mostly, before the first RTP packet):
        // an SR guessed from packet arrival put video 30-90 ms off the origin's, audio otherwise.
        await waitPlaying(e);
        const viaEdge = await watch(edgeUrl);
        await sleep(6000);
        direct.close();
        viaEdge.close();
        const video = srErrors(direct, viaEdge, 0, 90000);
        const audio = srErrors(direct, viaEdge, 1, 48000);
        expect(video.length).toBeGreaterThan(0);
        expect(audio.length).toBeGreaterThan(0);
        // Every SR, the first included, names the origin's instant for a packet within a few ms...
        expect(Math.max(...[...video, ...audio].map(Math.abs))).toBeLessThan(5);
        // ...so the lip-sync the edge's first SRs imply is the origin's.
        expect(Math.abs(video[0]! - audio[0]!)).toBeLessThan(5);
        expect(pullOf(e)!.transport).toBe(transport);
      } finally {
        direct.close();
        await e.close();
        await o.close();
      }
    }, 60_000);
  }

  it("an origin that sends no SR: the edge's viewer gets RTP and no SR (no timing it does not have)", async () => {
    const fake = await FakeRtspServer.start();
    const e = await udpEdge(fake.url());
    const url = `rtsp://127.0.0.1:${e.port}/live/news`;
    try {
      await waitPlaying(e);
      const c = await RtspTestClient.connect(url);
      expect((await c.describe(url)).response.statusCode).toBe(200);
      await c.setup(`${url}/trackID=1`, 'udp');
      await c.setup(`${url}/trackID=2`, 'udp');
      expect((await c.play(url)).response.statusCode).toBe(200);
      // Past the first periodic report (A.7: at most a few seconds with the initial halving).
      await sleep(5000);
      c.close();
      for (const t of c.tracks) {
        expect(t.rtp.length).toBeGreaterThan(20);
        expect(srsOf(t)).toEqual([]);
        // The edge still reports (an empty RR + SDES with its CNAME): the viewer knows it is there.
        expect(t.rtcp.some((p) => p.type === 'rr')).toBe(true);
        expect(t.rtcp.some((p) => p.type === 'sdes')).toBe(true);
      }
      expect(pullOf(e)!.senderReports).toBe(0);
    } finally {
      await e.close();
      await fake.close();
    }
  }, 60_000);

  it('an edge channel stopped by the operator leaves its origin (TEARDOWN) and does not come back', async () => {
    const o = await origin();
    const e = await udpEdge(`rtsp://127.0.0.1:${o.port}/live/news`);
    const atOrigin = () => o.sessionList().filter((x) => x.kind === 'live-viewer').length;
    try {
      await waitPlaying(e);
      expect(atOrigin()).toBe(1);
      expect(await e.live.removeChannel('news')).toBe(true);
      await waitUntil(() => atOrigin() === 0, 5000, 'the edge gone from the origin');
      await sleep(1500);
      expect(atOrigin()).toBe(0);
      expect(e.snapshot().live).toEqual([]);
    } finally {
      await e.close();
      await o.close();
    }
  }, 60_000);

  it('loss on the origin → edge leg is counted by the edge', async () => {
    const o = await origin({ impairment: impairmentFromArgs('loss 5%', 7) });
    const e = await udpEdge(`rtsp://127.0.0.1:${o.port}/live/news`);
    try {
      await waitPlaying(e);
      await sleep(4000);
      const p = pullOf(e)!;
      // 5 % of a few hundred packets: well above zero, well below a quarter.
      expect(p.lost).toBeGreaterThan(0.01 * p.relayed);
      expect(p.lost).toBeLessThan(0.25 * p.relayed);
      expect(p.transport).toBe('udp');
    } finally {
      await e.close();
      await o.close();
    }
  }, 60_000);

  it("GStreamer's RTSP server pulled over UDP: ffmpeg on the edge decodes the file's frames", async () => {
    const gst = await startGstRtspServer(SAMPLE);
    const e = await udpEdge(gst.url);
    try {
      await waitPlaying(e);
      await expectSampleFrames(`rtsp://127.0.0.1:${e.port}/live/news`, 3, 40);
      const p = pullOf(e)!;
      expect(p.transport).toBe('udp');
      expect(p.udpFallbacks).toBe(0);
      expect(p.senderReports).toBeGreaterThan(0);
    } finally {
      await e.close();
      await gst.stop();
    }
  }, 90_000);

  it('an origin that sends nothing over UDP: the edge falls back to TCP and its viewers get media', async () => {
    const fake = await FakeRtspServer.start({ udp: 'silent' });
    const e = await udpEdge(fake.url());
    try {
      await waitUntil(() => (pullOf(e)?.udpFallbacks ?? 0) === 1 && (pullOf(e)?.playing ?? false), 20_000, 'fallback to TCP');
      const p = pullOf(e)!;
      expect(p.transport).toBe('tcp');
      const setups = fake.requests.filter((r) => r.method === 'SETUP').map((r) => r.headers.get('Transport') ?? '');
      expect(setups[0]).toMatch(/^RTP\/AVP;unicast;client_port=\d+-\d+$/);
      expect(setups.at(-1)).toMatch(/^RTP\/AVP\/TCP;unicast;interleaved=/);
      // A viewer of the edge gets the fake origin's frames, now carried over TCP.
      const url = `rtsp://127.0.0.1:${e.port}/live/news`;
      const c = await RtspTestClient.connect(url);
      expect((await c.describe(url)).response.statusCode).toBe(200);
      await c.setup(`${url}/trackID=1`, 'tcp');
      expect((await c.play(url)).response.statusCode).toBe(200);
      await waitUntil(() => c.tracks[0]!.rtp.length > 10, 5000, 'viewer packets');
      c.close();
    } finally {
      await e.close();
      await fake.close();
    }
  }, 60_000);
});
