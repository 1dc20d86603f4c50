/**
 * Multicast SETUP of a live channel on the loopback interface: the server picks group, ports and
 * TTL; two viewers share ONE send (packets counted once on the server) and receive the same
 * packets; a client-chosen destination is refused; GStreamer (rtspsrc protocols=udp-mcast
 * multicast-iface=lo) decodes the group. ffmpeg's udp_multicast cannot pick the interface, so it
 * needs a multicast route to lo (`ip route add 239.255.0.0/16 dev lo`), which tests do not set up.
 */
import { beforeAll, expect, it } from 'vitest';
import { clipForSuite } from '../live/make-clip.ts';
import { describeWithGstreamer, expectRtspsrcPlayed, withoutRtspsrcShutdownRace } from '../helpers/gstreamer.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { runProgram } from '../helpers/run-program.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';
import { serializeRtcpCompound } from '../../src/rtcp/index.ts';

describeWithGstreamer('multicast live channel on lo', ['rtspsrc', 'rtph264depay', 'avdec_h264'], ['ffmpeg'], () => {
  let url: string;
  const clip = clipForSuite(4);

  const suite = serverForSuite(() => ({
    live: [{ name: 'mc', file: clip.file }],
    multicast: {
      range: '239.255.42.0/24',
      ports: { min: 46000, max: 46998 },
      ttl: 1,
      interfaceAddress: '127.0.0.1',
      allowClientDestination: false,
    },
  }));
  const { server } = suite;
  beforeAll(() => {
    url = suite.url('live/mc');
  });

  it('two viewers share one send and get the same packets', async () => {
    const viewers = [await RtspTestClient.connect(url), await RtspTestClient.connect(url)];
    for (const v of viewers) {
      await v.setup(`${url}/trackID=1`, 'multicast');
      await v.setup(`${url}/trackID=2`, 'multicast');
    }
    const [t1, t2] = viewers[0]!.tracks;
    for (const [i, t] of [t1!, t2!].entries()) {
      expect(t.transport.delivery).toBe('multicast');
      expect(t.transport.destination).toMatch(/^239\.255\.42\.\d+$/);
      expect(t.transport.ttl).toBe(1);
      expect(t.transport.port![0] % 2).toBe(0);
      // Both viewers were given the same group for the same track.
      expect(viewers[1]!.tracks[i]!.transport.destination).toBe(t.transport.destination);
      expect(viewers[1]!.tracks[i]!.transport.port).toEqual(t.transport.port);
    }
    expect(t1!.transport.destination).not.toBe(t2!.transport.destination);
    for (const v of viewers) expect((await v.play(url)).response.statusCode).toBe(200);
    await sleep(3000);
    const snap = server.snapshot().live.find((c) => c.name === 'mc')!;
    for (const [i, track] of snap.tracks.entries()) {
      // One sink on the track (the group), whatever the number of viewers.
      expect(track.sinks).toBe(1);
      expect(track.multicast?.members).toBe(2);
      const sent = track.multicast!.sent;
      const got = viewers.map((v) => v.tracks[i]!.rtp.length);
      // Each packet left once: each viewer got (about) every one, and the server did not send twice as many.
      for (const n of got) {
        expect(n).toBeGreaterThan(0);
        expect(n).toBeGreaterThanOrEqual(sent - 5);
        expect(n).toBeLessThanOrEqual(sent);
      }
      const a = viewers[0]!.tracks[i]!.rtp;
      const b = viewers[1]!.tracks[i]!.rtp;
      const n = Math.min(a.length, b.length);
      expect(a.slice(0, n).map((p) => `${p.seq}/${p.timestamp}`)).toEqual(b.slice(0, n).map((p) => `${p.seq}/${p.timestamp}`));
    }
    // Receiver reports sent to the group's RTCP port reach the server and become QoS records.
    const reports: { ssrc: number; reporterSsrc: number; media: string }[] = [];
    const off = server.events.on('receiver-report', (r) => reports.push(r));
    const rr = serializeRtcpCompound([
      {
        type: 'rr',
        ssrc: 0x11223344,
        reports: [
          { ssrc: t1!.ssrc!, fractionLost: 0, cumulativeLost: 0, extendedHighestSeq: t1!.rtp.at(-1)!.extSeq, jitter: 0, lsr: 0, dlsr: 0 },
        ],
      },
    ]);
    t1!.multicast!.rtcp.send(rr, t1!.transport.port![1], t1!.transport.destination);
    await waitUntil(() => reports.length > 0, 5000, 'receiver report from the group');
    off();
    expect(reports[0]).toMatchObject({
      ssrc: t1!.ssrc,
      reporterSsrc: 0x11223344,
      media: `multicast ${t1!.transport.destination}:${t1!.transport.port![0]}`,
    });
    for (const v of viewers) {
      await v.teardown(url);
      v.close();
    }
    const after = server.snapshot().live.find((c) => c.name === 'mc')!;
    expect(after.tracks.map((t) => [t.sinks, t.multicast?.members])).toEqual([
      [0, 0],
      [0, 0],
    ]);
  }, 30_000);

  it('refuses a group chosen by the client', async () => {
    const c = await RtspTestClient.connect(url);
    const r = await c.request('SETUP', `${url}/trackID=1`, { Transport: 'RTP/AVP;multicast;destination=239.255.42.200;port=47000-47001' });
    expect(r.statusCode).toBe(403);
    c.close();
  });

  it('GStreamer joins the group on lo and decodes without errors', async () => {
    const r = await runProgram(
      'gst-launch-1.0',
      [
        'rtspsrc',
        `location=${url}`,
        'protocols=udp-mcast',
        'multicast-iface=lo',
        'name=src',
        'src.',
        '!',
        'rtph264depay',
        '!',
        'h264parse',
        '!',
        'avdec_h264',
        '!',
        'fakesink',
        'num-buffers=75',
      ],
      60_000,
    );
    expectRtspsrcPlayed(r, 'gst-launch rtspsrc udp-mcast');
    expect(r.stdout).toContain('Got EOS');
    expect(withoutRtspsrcShutdownRace(`${r.stdout}\n${r.stderr}`).output).not.toMatch(/ERROR|WARNING/);
  }, 90_000);
});
