import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  findSdesCname,
  looksLikeRtcp,
  makeSdesCname,
  parseRtcpCompound,
  parseRtcpPackets,
  serializeRtcpCompound,
  type ReportBlock,
  type RtcpPacket,
} from '../../src/rtcp/index.ts';
import { at } from '../../src/util/narrow.ts';

const u32 = fc.nat({ max: 0xffffffff });
const bytesArb = (max: number, multipleOf4 = false) =>
  fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(multipleOf4 ? a.subarray(0, a.length & ~3) : a));

const blockArb: fc.Arbitrary<ReportBlock> = fc.record({
  ssrc: u32,
  fractionLost: fc.integer({ min: 0, max: 255 }),
  cumulativeLost: fc.integer({ min: -0x800000, max: 0x7fffff }),
  extendedHighestSeq: u32,
  jitter: u32,
  lsr: u32,
  dlsr: u32,
});

const withExt = <T extends object>(base: T, ext: Buffer): T => (ext.length > 0 ? { ...base, profileExtension: ext } : base);

const srArb: fc.Arbitrary<RtcpPacket> = fc
  .tuple(
    u32,
    fc.record({ ntpSeconds: u32, ntpFraction: u32, rtpTimestamp: u32, packetCount: u32, octetCount: u32 }),
    fc.array(blockArb, { maxLength: 31 }),
    bytesArb(16, true),
  )
  .map(([ssrc, senderInfo, reports, ext]) => withExt({ type: 'sr' as const, ssrc, senderInfo, reports }, ext));
const rrArb: fc.Arbitrary<RtcpPacket> = fc
  .tuple(u32, fc.array(blockArb, { maxLength: 31 }), bytesArb(16, true))
  .map(([ssrc, reports, ext]) => withExt({ type: 'rr' as const, ssrc, reports }, ext));
const sdesArb: fc.Arbitrary<RtcpPacket> = fc
  .array(
    fc.record({ ssrc: u32, items: fc.array(fc.record({ type: fc.integer({ min: 1, max: 255 }), value: bytesArb(40) }), { maxLength: 5 }) }),
    { maxLength: 31 },
  )
  .map((chunks) => ({ type: 'sdes' as const, chunks }));
const byeArb: fc.Arbitrary<RtcpPacket> = fc
  .tuple(fc.array(u32, { maxLength: 31 }), fc.option(fc.string({ minLength: 1, maxLength: 60 }), { nil: undefined }))
  .map(([ssrcs, reason]) => (reason === undefined ? { type: 'bye' as const, ssrcs } : { type: 'bye' as const, ssrcs, reason }));
const appArb: fc.Arbitrary<RtcpPacket> = fc
  .tuple(
    fc.integer({ min: 0, max: 31 }),
    u32,
    fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
    bytesArb(32, true),
  )
  .map(([subtype, ssrc, name, data]) => ({ type: 'app' as const, subtype, ssrc, name: String.fromCharCode(...name), data }));
const unknownArb: fc.Arbitrary<RtcpPacket> = fc
  .tuple(
    fc.integer({ min: 205, max: 255 }).filter((pt) => pt !== 207),
    fc.integer({ min: 0, max: 31 }),
    bytesArb(40, true),
  )
  .map(([packetType, count, body]) => ({ type: 'unknown' as const, packetType, count, body })); // 207 is XR: xr.test.ts
const anyArb = fc.oneof(srArb, rrArb, sdesArb, byeArb, appArb, unknownArb);

describe('RTCP property tests', () => {
  it('valid compound packets (SR/RR first) round-trip through the strict parser', () => {
    fc.assert(
      fc.property(fc.oneof(srArb, rrArb), fc.array(anyArb, { maxLength: 4 }), (first, rest) => {
        const packets = [first, ...rest];
        const bytes = serializeRtcpCompound(packets);
        expect(bytes.length % 4).toBe(0);
        expect(parseRtcpCompound(bytes)).toEqual({ ok: true, value: packets });
      }),
      { numRuns: 1000 },
    );
  });

  it('any single valid packet round-trips through the lenient parser', () => {
    fc.assert(
      fc.property(anyArb, (p) => {
        expect(parseRtcpPackets(serializeRtcpCompound([p]))).toEqual({ ok: true, value: [p] });
      }),
      { numRuns: 1000 },
    );
  });

  it('random bytes never throw; whatever parses re-serializes and re-parses to the same packets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 160 }), fc.integer({ min: 0, max: 3 }), (arr, mode) => {
        const bytes = Buffer.from(arr);
        // Make valid-looking headers likelier: version 2, a known packet type, a fitting length.
        if (mode > 0 && bytes.length >= 4) {
          bytes[0] = (at(bytes, 0) & 0x3f) | 0x80;
          if (mode > 1) bytes[1] = 200 + (at(bytes, 1) % 8);
          if (mode > 2) bytes.writeUInt16BE(Math.max(0, (bytes.length >> 2) - 1), 2);
        }
        for (const parse of [parseRtcpCompound, parseRtcpPackets]) {
          const r = parse(bytes);
          if (!r.ok) {
            expect(r.code).toMatch(/^RTCP_ERR_/);
            continue;
          }
          const again = parseRtcpPackets(serializeRtcpCompound(r.value));
          expect(again).toEqual({ ok: true, value: r.value });
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('valid compounds cut at every offset never throw and never parse as the whole', () => {
    const packets: RtcpPacket[] = [
      {
        type: 'rr',
        ssrc: 1,
        reports: [{ ssrc: 2, fractionLost: 1, cumulativeLost: -1, extendedHighestSeq: 3, jitter: 4, lsr: 5, dlsr: 6 }],
      },
      makeSdesCname(1, 'user@host'),
      { type: 'bye', ssrcs: [1], reason: 'done' },
    ];
    const bytes = serializeRtcpCompound(packets);
    for (let cut = 0; cut < bytes.length; cut++) {
      const r = parseRtcpCompound(bytes.subarray(0, cut));
      if (r.ok) expect(r.value.length).toBeLessThan(packets.length);
    }
  });
});

describe('RTCP helpers', () => {
  it('makeSdesCname / findSdesCname', () => {
    const p = makeSdesCname(0xabcdef01, 'streamlab@127.0.0.1');
    expect(findSdesCname(p)).toBe('streamlab@127.0.0.1');
    expect(findSdesCname(p, 0xabcdef01)).toBe('streamlab@127.0.0.1');
    expect(findSdesCname(p, 5)).toBeUndefined();
  });

  it('looksLikeRtcp (RFC 5761 demux)', () => {
    expect(looksLikeRtcp(Buffer.from('80c90001', 'hex'))).toBe(true); // RR
    expect(looksLikeRtcp(Buffer.from('81cb0001', 'hex'))).toBe(true); // BYE
    expect(looksLikeRtcp(Buffer.from('80e01234', 'hex'))).toBe(false); // RTP m=1 pt=96
    expect(looksLikeRtcp(Buffer.from('8060', 'hex'))).toBe(false); // RTP pt=96
    expect(looksLikeRtcp(Buffer.from('80', 'hex'))).toBe(false);
  });
});
