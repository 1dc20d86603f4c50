/**
 * A UDP publisher's channel cannot be injected into: the server takes RTP and RTCP only from the
 * publisher's own address and the ports its Transport declared (client_port), and RTP only from
 * one SSRC per track (Transport ssrc=, else the first packet's). ffmpeg publishes over UDP while
 * another socket of the same host sends 50 well-formed RTP packets (and an RTCP SR) to the
 * server's ports; a viewer gets none of them, and the publisher's counters show the drops.
 */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { serializeRtcpCompound } from '../../src/rtcp/index.ts';
import { serializeRtpPacket } from '../../src/rtp/index.ts';
import type { PublisherSession } from '../../src/server/live/record-target.ts';
import { bindUdpPortPair } from '../../src/transport/index.ts';
import type { UdpPortPair } from '../../src/transport/index.ts';
import { clipForSuite } from '../live/make-clip.ts';
import { ffmpegPublish } from '../helpers/ffmpeg.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';

const MARK = Buffer.from('STREAMLAB-INJECTED');
const INJECTED = 50;

/** An RTP packet whose payload carries MARK, so a viewer can tell it from the publisher's. */
function forged(seq: number, ssrc: number, payloadType: number): Buffer {
  return serializeRtpPacket({
    marker: true,
    payloadType,
    sequenceNumber: seq & 0xffff,
    timestamp: (seq * 3600) >>> 0,
    ssrc,
    csrcs: [],
    // A type-1 NAL unit (non-IDR slice) whose bytes spell the mark.
    payload: Buffer.concat([Buffer.from([0x41]), MARK]),
    paddingSize: 0,
  });
}

const carriesMark = (payload: Buffer) => payload.includes(MARK);

function publisherOf(server: { registry: { values(): IterableIterator<{ kind: string }> } }, name: string): PublisherSession {
  for (const s of server.registry.values()) {
    if (s.kind === 'publisher' && (s as PublisherSession).presentation.channel.name === name) return s as PublisherSession;
  }
  throw new Error(`no publisher on live/${name}`);
}

describeWithPeers('publisher injection over UDP (ffmpeg publishes)', ['ffmpeg'], () => {
  const { server, url } = serverForSuite();
  const clip = clipForSuite(6);

  it('50 RTP packets and an SR from another port of the same address reach no viewer', async () => {
    const name = 'inject-ff';
    const channelUrl = url(`live/${name}`);
    const channel = () => server.snapshot().live.find((c) => c.name === name);
    const ffmpeg = ffmpegPublish(clip.file, channelUrl, { transport: 'udp' });
    const viewer = await (async () => {
      await waitUntil(() => channel()?.live === true, 15_000, `${name} live`);
      const v = await RtspTestClient.connect(channelUrl);
      await v.setup(`${channelUrl}/trackID=1`, 'tcp');
      await v.play(channelUrl);
      return v;
    })();
    const injector = dgram.createSocket('udp4');
    try {
      await new Promise<void>((resolve) => injector.bind(0, '127.0.0.1', resolve));
      const vt = viewer.tracks[0]!;
      await vt.waitForPackets(20);
      const publisher = publisherOf(server, name);
      const track = publisher.presentation.tracks[0]!;
      const serverRtp = publisher.setups.get('0')!.udp!.rtpPort;
      const serverRtcp = publisher.setups.get('0')!.udp!.rtcpPort;
      const pt = track.announced.format.payloadType;
      // The forger knows the publisher's SSRC too (it is in every packet on the wire).
      const ssrc = track.ssrc ?? 0x5eed5eed;
      for (let i = 0; i < INJECTED; i++) {
        injector.send(forged(40_000 + i, ssrc, pt), serverRtp, '127.0.0.1');
        await sleep(2);
      }
      const sr = serializeRtcpCompound([
        {
          type: 'sr',
          ssrc,
          senderInfo: { ntpSeconds: 1, ntpFraction: 0, rtpTimestamp: 0, packetCount: 1, octetCount: 1 },
          reports: [],
        },
      ]);
      injector.send(sr, serverRtcp, '127.0.0.1');
      // Give the relay time to pass on anything it let in: the publisher's packets sent after ours arrive.
      const seen = vt.rtp.length;
      await waitUntil(() => vt.rtp.length > seen + 25, 10_000, 'more of the publisher relayed');
      expect(vt.rtp.filter((x) => carriesMark(x.payload))).toHaveLength(0);
      await waitUntil(() => (channel()?.publisher?.foreign ?? 0) >= INJECTED + 1, 5000, 'the forged datagrams counted');
      const p = channel()!.publisher!;
      expect(track.ssrc).toBeDefined();
      expect(p.foreign).toBe(INJECTED + 1);
      expect(p.wrongSsrc).toBe(0);
      expect(p.relayed).toBe(p.rtpReceived - p.malformed);
    } finally {
      injector.close();
      viewer.close();
      await ffmpeg;
    }
  }, 90_000);
});

describe('publisher SSRC lock over UDP (our own publisher)', () => {
  const { server, url } = serverForSuite();
  const SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=test\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\na=control:streamid=0\r\n';
  const packet = (seq: number, ssrc: number, mark = false) =>
    serializeRtpPacket({
      marker: false,
      payloadType: 0,
      sequenceNumber: seq & 0xffff,
      timestamp: (seq * 160) >>> 0,
      ssrc,
      csrcs: [],
      payload: mark ? Buffer.concat([MARK, Buffer.alloc(160 - MARK.length)]) : Buffer.alloc(160, seq & 0xff),
      paddingSize: 0,
    });

  async function publish(name: string, transportExtra: string) {
    const u = url(`live/${name}`);
    const udp: UdpPortPair = await bindUdpPortPair('127.0.0.1', { min: 33000, max: 59998 });
    const p = await RtspTestClient.connect(u);
    expect((await p.request('ANNOUNCE', u, { 'Content-Type': 'application/sdp' }, Buffer.from(SDP))).statusCode).toBe(200);
    const s = await p.request('SETUP', `${u}/streamid=0`, {
      Transport: `RTP/AVP;unicast;client_port=${udp.rtpPort}-${udp.rtcpPort};mode=record${transportExtra}`,
    });
    expect(s.statusCode).toBe(200);
    p.session = s.headers.get('Session')!.split(';')[0];
    const serverRtp = Number(/server_port=(\d+)-/.exec(s.headers.get('Transport') ?? '')![1]);
    expect((await p.request('RECORD', u)).statusCode).toBe(200);
    const viewer = await RtspTestClient.connect(u);
    await viewer.setup(`${u}/trackID=1`, 'tcp');
    await viewer.play(u);
    return { u, udp, p, viewer, send: (b: Buffer) => udp.rtp.send(b, serverRtp, '127.0.0.1') };
  }

  const counters = (name: string) => server.snapshot().live.find((c) => c.name === name)!.publisher!;

  it('locks on the first SSRC: another SSRC from the publisher’s own ports is dropped and counted', async () => {
    const { udp, p, viewer, send } = await publish('lock-first', '');
    try {
      for (let i = 0; i < 10; i++) send(packet(100 + i, 0x11111111));
      await viewer.tracks[0]!.waitForPackets(10);
      for (let i = 0; i < 20; i++) send(packet(200 + i, 0x22222222, true));
      for (let i = 10; i < 20; i++) send(packet(100 + i, 0x11111111));
      await viewer.tracks[0]!.waitForPackets(20);
      await waitUntil(() => counters('lock-first').wrongSsrc === 20, 5000, '20 packets of the other SSRC dropped');
      expect(counters('lock-first').relayed).toBe(20);
      expect(viewer.tracks[0]!.rtp.filter((x) => carriesMark(x.payload))).toHaveLength(0);
    } finally {
      viewer.close();
      p.close();
      udp.close();
    }
  });

  it('with Transport ssrc=, only that SSRC is relayed, even first', async () => {
    const { udp, p, viewer, send } = await publish('lock-declared', ';ssrc=0BADCAFE');
    try {
      for (let i = 0; i < 5; i++) send(packet(300 + i, 0x33333333, true));
      for (let i = 0; i < 10; i++) send(packet(100 + i, 0x0badcafe));
      await viewer.tracks[0]!.waitForPackets(10);
      await waitUntil(() => counters('lock-declared').wrongSsrc === 5, 5000, '5 packets of the undeclared SSRC dropped');
      expect(counters('lock-declared').relayed).toBe(10);
      expect(viewer.tracks[0]!.rtp.filter((x) => carriesMark(x.payload))).toHaveLength(0);
    } finally {
      viewer.close();
      p.close();
      udp.close();
    }
  });
});
