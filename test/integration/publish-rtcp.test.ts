/**
 * The server reports back to publishers (RFC 3550 §6.4.2): our own test client publishes over TCP
 * interleaved and over UDP, with a deliberate sequence gap and a sender report, and receives RR +
 * SDES CNAME compounds whose report block matches what it sent (loss = the gap, highest sequence
 * number, LSR = the middle 32 bits of its SR's NTP timestamp, DLSR = the time the server held it),
 * then an RR + SDES + BYE when it tears down.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { serializeRtcpCompound, parseRtcpPackets } from '../../src/rtcp/index.ts';
import type { RtcpPacket } from '../../src/rtcp/index.ts';
import { serializeRtpPacket } from '../../src/rtp/index.ts';
import { bindUdpPortPair } from '../../src/transport/index.ts';
import type { UdpPortPair } from '../../src/transport/index.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { waitUntil } from '../helpers/wait.ts';

const PUBLISHER_SSRC = 0x0badcafe;
const SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=test\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\nb=AS:64\r\na=control:streamid=0\r\n';
const FIRST_SEQ = 65500; // wraps during the run
const COUNT = 60;
const GAP = new Set([65530, 65531, 65532, 65533, 65534, 65535, 0]); // 7 lost across the wrap
const SR_NTP = { seconds: 0xe8a1b2c3, fraction: 0xd4e5f607 };
const SR_MIDDLE = 0xb2c3d4e5;

describe('RTCP receiver reports to publishers', () => {
  const { server, url } = serverForSuite();
  let base: string;

  beforeAll(() => {
    base = url('live');
  });

  const packet = (i: number) =>
    serializeRtpPacket({
      marker: false,
      payloadType: 0,
      sequenceNumber: (FIRST_SEQ + i) & 0xffff,
      timestamp: (1000 + i * 160) >>> 0,
      ssrc: PUBLISHER_SSRC,
      csrcs: [],
      payload: Buffer.alloc(160, i & 0xff),
      paddingSize: 0,
    });
  const senderReport = () =>
    serializeRtcpCompound([
      {
        type: 'sr',
        ssrc: PUBLISHER_SSRC,
        senderInfo: {
          ntpSeconds: SR_NTP.seconds,
          ntpFraction: SR_NTP.fraction,
          rtpTimestamp: 1000 + 30 * 160,
          packetCount: 30,
          octetCount: 4800,
        },
        reports: [],
      },
      { type: 'sdes', chunks: [{ ssrc: PUBLISHER_SSRC, items: [{ type: 1, value: Buffer.from('publisher@test') }] }] },
    ]);

  it.each(['tcp', 'udp'] as const)(
    'a publisher over %s gets RRs with its gap, highest seq, LSR/DLSR, then a BYE',
    async (lower) => {
      const name = `rr-${lower}`;
      const url = `${base}/${name}`;
      const p = await RtspTestClient.connect(url);
      const got: { at: number; packets: RtcpPacket[] }[] = [];
      const onRtcp = (buf: Buffer) => {
        const r = parseRtcpPackets(buf);
        expect(r.ok).toBe(true);
        if (r.ok) got.push({ at: performance.now(), packets: r.value });
      };
      let udp: UdpPortPair | undefined;
      let transport: string;
      if (lower === 'udp') {
        udp = await bindUdpPortPair('127.0.0.1', { min: 33000, max: 59998 });
        udp.rtcp.on('message', onRtcp);
        transport = `RTP/AVP;unicast;client_port=${udp.rtpPort}-${udp.rtcpPort};mode=record`;
      } else {
        p.onInterleaved = (ch, data) => {
          if (ch === 1) onRtcp(data);
        };
        transport = 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record';
      }
      expect((await p.request('ANNOUNCE', url, { 'Content-Type': 'application/sdp' }, Buffer.from(SDP))).statusCode).toBe(200);
      const s = await p.request('SETUP', `${url}/streamid=0`, { Transport: transport });
      expect(s.statusCode).toBe(200);
      p.session = s.headers.get('Session')!.split(';')[0];
      const serverPorts = /server_port=(\d+)-(\d+)/.exec(s.headers.get('Transport') ?? '');
      expect((await p.request('RECORD', url)).statusCode).toBe(200);
      const sendRtp = (b: Buffer) => (udp ? udp.rtp.send(b, Number(serverPorts![1]), '127.0.0.1') : p.sendInterleaved(0, b));
      const sendRtcp = (b: Buffer) => (udp ? udp.rtcp.send(b, Number(serverPorts![2]), '127.0.0.1') : p.sendInterleaved(1, b));

      let sent = 0;
      for (let i = 0; i < COUNT; i++) {
        if (GAP.has((FIRST_SEQ + i) & 0xffff)) continue;
        sendRtp(packet(i));
        sent++;
      }
      await waitUntil(
        () => server.snapshot().live.find((c) => c.name === name)?.publisher?.rtpReceived === sent,
        5000,
        'packets at the server',
      );
      sendRtcp(senderReport());
      const srSentAt = performance.now();
      await waitUntil(() => server.snapshot().live.find((c) => c.name === name)?.publisher?.senderReports === 1, 5000, 'SR at the server');

      // The first report comes 1..3.1 s after RECORD (A.7 initial interval with the halved 5 s minimum).
      const withBlock = (g: { at: number; packets: RtcpPacket[] }) =>
        g.at > srSentAt && g.packets[0]?.type === 'rr' && g.packets[0].reports.length > 0;
      await waitUntil(() => got.some(withBlock), 8000, 'an RR with a report block');
      const report = got.find(withBlock)!;
      expect(report.packets.map((x) => x.type)).toEqual(['rr', 'sdes']);
      const rr = report.packets[0]!;
      const sdes = report.packets[1]!;
      if (rr.type !== 'rr' || sdes.type !== 'sdes') throw new Error('unreachable');
      expect(sdes.chunks[0]!.ssrc).toBe(rr.ssrc);
      expect(sdes.chunks[0]!.items[0]!.type).toBe(1);
      expect(sdes.chunks[0]!.items[0]!.value.toString()).toMatch(/^streamlab-/);
      const b = rr.reports[0]!;
      // Probation takes the first packet; the counting starts at the second.
      const baseSeq = FIRST_SEQ + 1;
      const highest = 65536 + ((FIRST_SEQ + COUNT - 1) & 0xffff);
      const expected = highest - baseSeq + 1;
      expect(b.ssrc).toBe(PUBLISHER_SSRC);
      expect(b.extendedHighestSeq).toBe(highest);
      expect(b.cumulativeLost).toBe(GAP.size);
      expect(b.fractionLost).toBe(Math.floor((GAP.size * 256) / expected));
      expect(b.lsr).toBe(SR_MIDDLE);
      expect(b.lsr).toBe((((SR_NTP.seconds & 0xffff) << 16) | (SR_NTP.fraction >>> 16)) >>> 0);
      const heldMs = (b.dlsr * 1000) / 65536;
      expect(heldMs).toBeGreaterThan(0);
      expect(heldMs).toBeLessThanOrEqual(report.at - srSentAt + 5);
      expect(heldMs).toBeGreaterThan(report.at - srSentAt - 500);
      expect(server.snapshot().live.find((c) => c.name === name)?.publisher?.receiverReports).toBeGreaterThanOrEqual(1);

      // Leaving: RR + SDES + BYE from the same SSRC.
      expect((await p.teardown(url)).statusCode).toBe(200);
      await waitUntil(() => got.some((g) => g.packets.some((x) => x.type === 'bye')), 3000, 'BYE');
      const last = got[got.length - 1]!;
      expect(last.packets.map((x) => x.type)).toEqual(['rr', 'sdes', 'bye']);
      const bye = last.packets[2]!;
      expect(bye.type === 'bye' && bye.ssrcs).toEqual([rr.ssrc]);
      p.close();
      udp?.close();
    },
    30_000,
  );
});
