/**
 * Issue 11: real clients over the server's one shared RTP/RTCP pair. Two ffmpeg clients and one
 * GStreamer rtspsrc play the sample over UDP at the same time: every SETUP answer names the same
 * server_port, both ffmpeg captures are bit-identical to the source, and the receiver reports each
 * client sends to the shared RTCP port reach its own session's tracks (the RR's report block names
 * the track's SSRC, which RtcpSession checks: a report routed to another session is not counted);
 * no client sent from a port it did not declare.
 */
import { beforeAll, expect, it } from 'vitest';
import { captureRtsp, compareAudio, compareVideo, sampleReference } from '../helpers/framemd5.ts';
import type { TrackHashes } from '../helpers/framemd5.ts';
import { describeWithGstreamer, expectRtspsrcPlayed, rtspsrcToFakesinks } from '../helpers/gstreamer.ts';
import type { ProgramResult } from '../helpers/run-program.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { waitUntil } from '../helpers/wait.ts';

const SECONDS = 8;

describeWithGstreamer('ffmpeg and GStreamer clients at once over the shared UDP pair', ['rtspsrc', 'fakesink'], ['ffmpeg'], () => {
  const { server, url } = serverForSuite({ udpPorts: 'shared' });
  let source: TrackHashes;
  let ffmpeg: Awaited<ReturnType<typeof captureRtsp>>[];
  let gst: ProgramResult;
  /** Receiver reports by session id and track. */
  const reports = new Map<string, Map<string, number>>();
  const serverPorts = new Set<string>();
  let maxRoutes = 0;

  beforeAll(async () => {
    source = await sampleReference();
    server.events.on('receiver-report', (r) => {
      const bySession = reports.get(r.sessionId) ?? new Map<string, number>();
      bySession.set(r.control, (bySession.get(r.control) ?? 0) + 1);
      reports.set(r.sessionId, bySession);
    });
    server.events.on('request', () => {
      const udp = server.snapshot().udp;
      if (udp.mode === 'shared') maxRoutes = Math.max(maxRoutes, udp.routes);
    });
    // The SETUP answers as sent: every UDP track's server_port.
    server.events.on('stream-started', (e) => {
      const s = server.sessions.get(e.id);
      for (const setup of s?.setups.values() ?? []) {
        const p = setup.transport.serverPort;
        if (p) serverPorts.add(p.join('-'));
      }
    });
    [ffmpeg, gst] = await Promise.all([
      Promise.all([captureRtsp(url(), 'udp', SECONDS), captureRtsp(url(), 'udp', SECONDS)]),
      rtspsrcToFakesinks(url(), [], { protocols: 'udp', buffers: 600, timeoutMs: 60_000 }),
    ]);
    await waitUntil(() => server.snapshot().sessions.length === 0, 10_000, 'every session torn down');
  }, 120_000);

  it('every UDP SETUP was answered with the one shared pair', () => {
    const shared = server.sharedUdpPorts!;
    expect([...serverPorts]).toEqual([`${shared.rtpPort}-${shared.rtcpPort}`]);
    // 3 clients × 2 tracks routed at once at some point (the ffmpeg clients and rtspsrc overlap).
    expect(maxRoutes).toBeGreaterThanOrEqual(4);
  });

  it('both ffmpeg clients receive bit-identical video and AAC, and GStreamer plays to its end', () => {
    for (const got of ffmpeg) {
      const v = compareVideo(got.video, source.video);
      expect(v.detail).toBe('identical prefix');
      expect(v.frames).toBeGreaterThanOrEqual(SECONDS * 25 - 25);
      const a = compareAudio(got.audio, source.audio);
      expect(a.detail).toBe('contiguous');
    }
    expectRtspsrcPlayed(gst, 'rtspsrc over the shared pair');
  });

  it("every client's receiver reports reached its own session's tracks, none came from an undeclared port", () => {
    expect(server.snapshot().counters.sessionsCreated).toBe(3);
    expect(reports.size).toBe(3);
    // ffmpeg reports a track once it received ~280 kB of it (RTCP_TX_RATIO): in 8 s its video,
    // not yet its audio; GStreamer reports both (rtpbin's interval, the first within ~4 s).
    for (const [id, byTrack] of reports) expect(byTrack.get('trackID=1') ?? 0, `session ${id}`).toBeGreaterThanOrEqual(1);
    expect([...reports.values()].filter((byTrack) => (byTrack.get('trackID=2') ?? 0) >= 1).length).toBeGreaterThanOrEqual(1);
    const udp = server.snapshot().udp;
    expect(udp).toMatchObject({ mode: 'shared', routes: 0, unknownSource: 0 });
  });
});
