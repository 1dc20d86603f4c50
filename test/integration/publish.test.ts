/**
 * Publishing to `live/NAME` (ANNOUNCE + SETUP mode=record + RECORD) with real peers: ffmpeg over
 * UDP and TCP while ffmpeg watches at the same time and decodes; a second publisher refused; the
 * publisher leaving ends the stream with a BYE to viewers; and our own test client as a publisher
 * sending malformed packets among good ones, then a restarted publisher continuing the channel's
 * sequence numbers and timestamps.
 */
import { beforeAll, expect, it } from 'vitest';
import { serializeRtpPacket } from '../../src/rtp/index.ts';
import { clipForSuite } from '../live/make-clip.ts';
import { ffmpegPublish, ffmpegReadFrames } from '../helpers/ffmpeg.ts';
import type { RtspTransport } from '../helpers/ffmpeg.ts';
import { parseFramemd5 } from '../helpers/framemd5.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { expectSuccess, ffmpegErrors } from '../helpers/run-program.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';

describeWithPeers('publishing to live/NAME', ['ffmpeg'], () => {
  const { server, url } = serverForSuite();
  let base: string;
  const clip = clipForSuite(4);

  beforeAll(() => {
    base = url('live');
  });

  const channel = (name: string) => server.snapshot().live.find((c) => c.name === name);

  const publish = (name: string, transport: RtspTransport, loops = 2) =>
    ffmpegPublish(clip.file, `${base}/${name}`, { transport, loops, timeoutMs: 90_000 });

  it.each(['udp', 'tcp'] as const)(
    'ffmpeg publishes over %s while ffmpeg watches and decodes; a second publisher is refused',
    async (transport) => {
      const name = `ff-${transport}`;
      const publisher = publish(name, transport);
      await waitUntil(() => channel(name)?.live === true, 15_000, `${name} live`);
      // A second publisher on the same path: ANNOUNCE refused, ffmpeg fails.
      const second = await ffmpegPublish(clip.file, `${base}/${name}`, { seconds: 1, timeoutMs: 30_000 });
      expect(second.code).not.toBe(0);
      expect(second.stderr).toMatch(/403/);
      const watch = await ffmpegReadFrames(`${base}/${name}`, { transport, seconds: 4 });
      expectSuccess(watch, `ffmpeg watching ${name}`);
      expect(ffmpegErrors(watch.stderr)).toBe('');
      const frames = parseFramemd5(watch.stdout);
      // 4 s at 25 fps, less the wait for the first keyframe (one a second, so up to 25 frames)
      // and the watcher's start on a loaded machine: 75 is reached exactly when the join just
      // missed a keyframe, so the bound leaves a few frames of slack.
      const videoFrames = frames.filter((f) => f.stream === 0).length;
      expect(videoFrames).toBeGreaterThanOrEqual(70);
      expect(frames.filter((f) => f.stream === 1).length).toBeGreaterThan(100);
      const c = channel(name)!;
      expect(c.publisher?.malformed).toBe(0);
      // ffmpeg sends from the client_port pair it declared, with one SSRC per track.
      expect(c.publisher?.foreign).toBe(0);
      expect(c.publisher?.wrongSsrc).toBe(0);
      // Every video frame the watcher decoded came through the relay in at least one packet, and
      // audio packets came too. (A fixed count fails on a slow machine, where the publisher has
      // been on the air only a little longer than the watch.)
      expect(c.publisher?.relayed).toBeGreaterThan(videoFrames);
      expectSuccess(await publisher, `ffmpeg publishing over ${transport}`);
      // TEARDOWN from the publisher: the channel is off the air.
      await waitUntil(() => channel(name)?.live === false, 10_000, `${name} ended`);
    },
    120_000,
  );

  it('the publisher leaving ends the stream: the viewer gets a BYE for every track', async () => {
    const name = 'bye';
    const publisher = publish(name, 'tcp', 0);
    await waitUntil(() => channel(name)?.live === true, 15_000, `${name} live`);
    const viewer = await RtspTestClient.connect(`${base}/${name}`);
    await viewer.describe(`${base}/${name}`);
    await viewer.setup(`${base}/${name}/trackID=1`, 'tcp');
    await viewer.setup(`${base}/${name}/trackID=2`, 'tcp');
    await viewer.play(`${base}/${name}`);
    expectSuccess(await publisher, 'ffmpeg publishing');
    for (const t of viewer.tracks) {
      await waitUntil(() => t.rtcp.some((p) => p.type === 'bye'), 10_000, 'BYE');
      expect(t.rtp.length).toBeGreaterThan(10);
      const bye = t.rtcp.find((p) => p.type === 'bye');
      expect(bye?.type === 'bye' && bye.ssrcs).toEqual([t.ssrc]);
    }
    // Nothing to play now.
    const d = await viewer.describe(`${base}/${name}`);
    expect(d.response.statusCode).toBe(404);
    viewer.close();
  }, 60_000);

  it('counts and drops malformed RTP from a publisher; a restarted publisher continues seq and timestamps', async () => {
    const name = 'raw';
    const url = `${base}/${name}`;
    const sdp = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=test\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\na=control:streamid=0\r\n';

    async function startPublisher(): Promise<RtspTestClient> {
      const p = await RtspTestClient.connect(url);
      const a = await p.request('ANNOUNCE', url, { 'Content-Type': 'application/sdp' }, Buffer.from(sdp));
      expect(a.statusCode).toBe(200);
      const s = await p.request('SETUP', `${url}/streamid=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record' });
      expect(s.statusCode).toBe(200);
      expect(s.headers.get('Transport')).toContain('mode=record');
      p.session = s.headers.get('Session')!.split(';')[0];
      expect((await p.request('RECORD', url)).statusCode).toBe(200);
      return p;
    }
    const packet = (seq: number, ts: number, pt = 0) =>
      serializeRtpPacket({
        marker: false,
        payloadType: pt,
        sequenceNumber: seq & 0xffff,
        timestamp: ts >>> 0,
        ssrc: 0xabcdef01,
        csrcs: [],
        payload: Buffer.alloc(160, seq & 0xff),
        paddingSize: 0,
      });

    const pub1 = await startPublisher();
    // While it holds the path, nobody else may ANNOUNCE there, and nobody may publish outside live/.
    const intruder = await RtspTestClient.connect(url);
    expect((await intruder.request('ANNOUNCE', url, { 'Content-Type': 'application/sdp' }, Buffer.from(sdp))).statusCode).toBe(403);
    const outside = `rtsp://127.0.0.1:${server.port}/sample.mp4`;
    expect((await intruder.request('ANNOUNCE', outside, { 'Content-Type': 'application/sdp' }, Buffer.from(sdp))).statusCode).toBe(405);
    intruder.close();

    const viewer = await RtspTestClient.connect(url);
    await viewer.setup(`${url}/trackID=1`, 'udp');
    await viewer.play(url);
    const vt = viewer.tracks[0]!;
    const garbage = [
      Buffer.from([1, 2, 3]),
      Buffer.alloc(11),
      packet(0, 0, 8),
      Buffer.from('GET / HTTP/1.1'),
      (() => {
        const b = packet(1, 1);
        b[0] = 0x40;
        return b;
      })(),
    ];
    let g = 0;
    for (let i = 0; i < 20; i++) {
      pub1.sendInterleaved(0, packet(5000 + i, 1_000_000 + i * 160));
      if (i % 4 === 0) pub1.sendInterleaved(0, garbage[g++ % garbage.length]!);
    }
    await vt.waitForPackets(20);
    expect(channel(name)?.publisher?.malformed).toBe(5);
    expect(channel(name)?.publisher?.relayed).toBe(20);
    // Rewritten onto the channel's sender: its SSRC (the one SETUP named), consecutive seq, same spacing.
    expect(vt.rtp.every((p) => p.ssrc === vt.ssrc && p.ssrc !== 0xabcdef01)).toBe(true);
    expect(
      vt.rtp.every(
        (p, i) => i === 0 || (p.seq === ((vt.rtp[i - 1]!.seq + 1) & 0xffff) && (p.timestamp - vt.rtp[i - 1]!.timestamp) >>> 0 === 160),
      ),
    ).toBe(true);
    expect(vt.rtp.map((p) => p.payload[0])).toEqual(Array.from({ length: 20 }, (_, i) => (5000 + i) & 0xff));
    // The server is fine.
    expect((await viewer.request('OPTIONS', url)).statusCode).toBe(200);
    await pub1.teardown(url);
    await waitUntil(() => vt.rtcp.some((p) => p.type === 'bye'), 5000, 'BYE after the publisher left');
    pub1.close();
    viewer.close();

    // A new publisher (its own random seq/timestamps) continues where the channel stopped.
    const last = vt.rtp[vt.rtp.length - 1]!;
    await sleep(200);
    const pub2 = await startPublisher();
    const viewer2 = await RtspTestClient.connect(url);
    await viewer2.setup(`${url}/trackID=1`, 'tcp');
    await viewer2.play(url);
    for (let i = 0; i < 10; i++) pub2.sendInterleaved(0, packet(40000 + i, 7 + i * 160));
    const v2 = viewer2.tracks[0]!;
    await v2.waitForPackets(10);
    expect(v2.rtp[0]!.ssrc).toBe(last.ssrc);
    expect(v2.rtp[0]!.seq).toBe((last.seq + 1) & 0xffff);
    const dt = (v2.rtp[0]!.timestamp - last.timestamp) >>> 0;
    // About the 200+ ms that passed, at 8 kHz: later, never earlier.
    expect(dt).toBeGreaterThan(8000 * 0.2);
    expect(dt).toBeLessThan(8000 * 5);
    await pub2.teardown(url);
    pub2.close();
    viewer2.close();
  }, 60_000);
});
