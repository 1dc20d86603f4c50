import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SenderReportTemplate, makeSdesCname, parseRtcpCompound, serializeRtcpCompound } from '../../src/rtcp/index.ts';

const hex = (...rows: string[]): Buffer => Buffer.from(rows.join('').replace(/\s+/g, ''), 'hex');

describe('SenderReportTemplate', () => {
  it('writes the SR + SDES compound byte for byte (RFC 3550 §6.4.1, §6.5.1)', () => {
    const t = new SenderReportTemplate(0x12345678, 'ab');
    const info = { ntpSeconds: 0xb44db705, ntpFraction: 0x20000000, rtpTimestamp: 123456, packetCount: 100, octetCount: 64000 };
    expect(t.make(info)).toEqual(
      hex(
        '80 c8 00 06 12 34 56 78', // SR, RC=0, length 6; SSRC
        'b4 4d b7 05 20 00 00 00', // NTP seconds, fraction
        '00 01 e2 40 00 00 00 64 00 00 fa 00', // RTP timestamp, packets, octets
        '81 ca 00 03 12 34 56 78', // SDES, SC=1, length 3; chunk SSRC
        '01 02 61 62 00 00 00 00', // CNAME "ab", END, padding to 32 bits
      ),
    );
  });

  it('equals the generic serializer for any SSRC, CNAME and sender info', () => {
    const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
    fc.assert(
      fc.property(u32, fc.string({ minLength: 1, maxLength: 60 }), u32, u32, u32, u32, u32, (ssrc, cname, s, f, rtp, p, o) => {
        const info = { ntpSeconds: s, ntpFraction: f, rtpTimestamp: rtp, packetCount: p, octetCount: o };
        const t = new SenderReportTemplate(ssrc, cname);
        const made = t.make(info);
        expect(made).toEqual(serializeRtcpCompound([{ type: 'sr', ssrc, senderInfo: info, reports: [] }, makeSdesCname(ssrc, cname)]));
        expect(parseRtcpCompound(made).ok).toBe(true);
      }),
    );
  });

  it('hands out a new buffer each time: a queued report is not rewritten by the next', () => {
    const t = new SenderReportTemplate(1, 'x');
    const a = t.make({ ntpSeconds: 1, ntpFraction: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 });
    const copy = Buffer.from(a);
    t.make({ ntpSeconds: 9, ntpFraction: 9, rtpTimestamp: 9, packetCount: 9, octetCount: 9 });
    expect(a).toEqual(copy);
  });
});
