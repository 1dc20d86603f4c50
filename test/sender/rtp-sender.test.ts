/**
 * RtpSender: the one place an RTP source's header is written (RFC 3550 §5.1) and its SR statistics
 * are kept (§6.4.1). Byte-exact headers, sequence wrap, a relay's own sequence numbers, a new SSRC
 * after BYE, and one header shared by every receiver of a fan-out.
 */
import { describe, expect, it } from 'vitest';
import { RtpSender } from '../../src/sender/index.ts';
import type { RtpOutput } from '../../src/sender/index.ts';
import type { SendLane } from '../../src/transport/index.ts';
import { seededRandom } from '../../src/util/random.ts';

const format = { payloadType: 96, clockRate: 90000, bitrate: 1_000_000 };

interface Sent {
  header: Buffer;
  payload: Buffer;
  lane: SendLane;
  keyframeStart: boolean;
}

function collect(): RtpOutput & { sent: Sent[] } {
  const sent: Sent[] = [];
  return { sent, sendRtp: (header, payload, lane, keyframeStart) => sent.push({ header, payload, lane, keyframeStart }) };
}

describe('RtpSender', () => {
  it('writes the 12-byte fixed header of RFC 3550 §5.1 byte for byte', () => {
    const out = collect();
    const s = new RtpSender(format, out, seededRandom(7));
    s.ssrc = 0x11223344;
    s.seq = 0xabcd;
    s.send(true, 0x01020304, Buffer.from([9, 9]));
    s.send(false, 0xfffffffff, Buffer.from([1]), false);
    // V=2 P=0 X=0 CC=0 | M=1 PT=96 | seq | timestamp | SSRC
    expect(out.sent[0]!.header.toString('hex')).toBe('80e0abcd0102030411223344');
    // M=0; the timestamp is taken modulo 2^32; the next sequence number
    expect(out.sent[1]!.header.toString('hex')).toBe('8060abceffffffff11223344');
    expect(out.sent.map((p) => p.keyframeStart)).toEqual([true, false]);
  });

  it('counts packets and payload octets (headers excluded) for the SR, wraps the sequence number', () => {
    const out = collect();
    const s = new RtpSender(format, out, seededRandom(1));
    s.seq = 0xfffe;
    for (let i = 0; i < 4; i++) s.send(false, 0, Buffer.alloc(100 + i));
    expect(out.sent.map((p) => p.header.readUInt16BE(2))).toEqual([0xfffe, 0xffff, 0, 1]);
    expect(s.seq).toBe(2);
    expect(s.stats).toMatchObject({ packets: 4, octets: 406 });
    const info = s.stats.senderInfo(Date.UTC(2026, 0, 1), 1234);
    expect(info).toMatchObject({ rtpTimestamp: 1234, packetCount: 4, octetCount: 406 });
  });

  it("a relay's sequence numbers are kept, gaps and all; the next one follows the highest sent", () => {
    const out = collect();
    const s = new RtpSender(format, out, seededRandom(2));
    s.seq = 100;
    s.send(false, 0, Buffer.alloc(1), true, 100);
    s.send(false, 0, Buffer.alloc(1), true, 105); // a gap from the publisher stays a gap
    s.send(false, 0, Buffer.alloc(1), true, 103); // late and reordered: sent as is
    expect(out.sent.map((p) => p.header.readUInt16BE(2))).toEqual([100, 105, 103]);
    expect(s.seq).toBe(106);
  });

  it('renewSsrc: a different SSRC, counts restart, sequence numbers and timestamp base continue', () => {
    const s = new RtpSender(format, collect(), seededRandom(3));
    s.send(false, 0, Buffer.alloc(10));
    const before = { ssrc: s.ssrc, seq: s.seq, base: s.timestampBase };
    s.renewSsrc();
    expect(s.ssrc).not.toBe(before.ssrc);
    expect(s.seq).toBe(before.seq);
    expect(s.timestampBase).toBe(before.base);
    expect(s.stats).toMatchObject({ packets: 0, octets: 0 });
  });

  it("audio's packets go in the urgent lane, video's and a format without media in the bulk lane", () => {
    const lanes = (f: object) => {
      const out = collect();
      new RtpSender({ ...format, ...f }, out, seededRandom(5)).send(false, 0, Buffer.alloc(1));
      return out.sent[0]!.lane;
    };
    expect([lanes({ media: 'audio' }), lanes({ media: 'video' }), lanes({})]).toEqual(['urgent', 'bulk', 'bulk']);
  });

  it('draws SSRC, first sequence number and timestamp base from the injected Random', () => {
    const a = new RtpSender(format, collect(), seededRandom(42));
    const b = new RtpSender(format, collect(), seededRandom(42));
    const c = new RtpSender(format, collect(), seededRandom(43));
    expect([a.ssrc, a.seq, a.timestampBase]).toEqual([b.ssrc, b.seq, b.timestampBase]);
    expect([a.ssrc, a.seq, a.timestampBase]).not.toEqual([c.ssrc, c.seq, c.timestampBase]);
  });
});
