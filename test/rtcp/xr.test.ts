/**
 * RTCP XR (RFC 3611): byte-exact RRTR and DLRR packets written from the RFC's layouts (§2, §4.4,
 * §4.5), an opaque block kept as it is, XR inside strictly parsed compounds (RR + SDES + XR, the
 * receiver's; SR + SDES + XR, the server's answer), error codes for blocks that do not fit, the
 * RTT arithmetic against an independent computation, and seeded round trips and junk.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeSdesCname, parseRtcpCompound, parseRtcpPackets, rttFromDlrr, serializeRtcpCompound } from '../../src/rtcp/index.ts';
import type { RtcpPacket, RtcpXr, XrBlock } from '../../src/rtcp/index.ts';
import { voipSample } from '../helpers/xr-fixtures.ts';

const hex = (...rows: string[]): Buffer => Buffer.from(rows.join('').replace(/\s+/g, ''), 'hex');

const cases: { name: string; bytes: Buffer; packet: RtcpXr }[] = [
  {
    name: 'XR with one RRTR block (§4.4)',
    bytes: hex(
      '80 cf 00 04', // v=2 p=0 reserved=0 | PT=207 XR | length=4 (20 bytes)
      '11 22 33 44', // SSRC of the receiver
      '04 00 00 02', // BT=4 RRTR | reserved | block length=2
      'e9 4b 1a 2c', // NTP timestamp, most significant word
      '80 00 00 00', // least significant word (.5 s)
    ),
    packet: { type: 'xr', ssrc: 0x11223344, blocks: [{ type: 'rrtr', ntpSeconds: 0xe94b1a2c, ntpFraction: 0x80000000 }] },
  },
  {
    name: 'XR with a DLRR block of two sub-blocks (§4.5)',
    bytes: hex(
      '80 cf 00 08', // v=2 | PT=207 | length=8 (36 bytes)
      'aa bb cc dd', // SSRC of the sender
      '05 00 00 06', // BT=5 DLRR | reserved | block length=6 (two sub-blocks)
      '11 22 33 44', // SSRC_1
      '1a 2c 80 00', // last RR: middle 32 bits of the RRTR above
      '00 01 80 00', // DLRR: 1.5 s in 1/65536 s
      '55 66 77 88', // SSRC_2
      '00 00 00 00', // last RR 0: no RRTR from it yet
      '00 00 00 00', // DLRR 0
    ),
    packet: {
      type: 'xr',
      ssrc: 0xaabbccdd,
      blocks: [
        {
          type: 'dlrr',
          items: [
            { ssrc: 0x11223344, lastRr: 0x1a2c8000, delaySinceLastRr: 0x00018000 },
            { ssrc: 0x55667788, lastRr: 0, delaySinceLastRr: 0 },
          ],
        },
      ],
    },
  },
  {
    name: 'XR with an unknown block (BT=6 statistics summary) kept opaque, then an RRTR',
    bytes: hex(
      '80 cf 00 06', // v=2 | PT=207 | length=6 (28 bytes)
      '01 02 03 04', // SSRC
      '06 e0 00 01', // BT=6 | type-specific 0xe0 | block length=1
      'de ad be ef', // its body
      '04 00 00 02', // BT=4 RRTR | block length=2
      '00 00 00 01', // NTP MSW
      '00 00 00 02', // NTP LSW
    ),
    packet: {
      type: 'xr',
      ssrc: 0x01020304,
      blocks: [
        { type: 'opaque', blockType: 6, typeSpecific: 0xe0, body: hex('deadbeef') },
        { type: 'rrtr', ntpSeconds: 1, ntpFraction: 2 },
      ],
    },
  },
  { name: 'XR without blocks', bytes: hex('80 cf 00 01', '00 00 00 07'), packet: { type: 'xr', ssrc: 7, blocks: [] } },
  {
    name: 'XR with a VoIP Metrics block (§4.7)',
    bytes: hex(
      '80 cf 00 0a', // v=2 | PT=207 | length=10 (44 bytes)
      '11 22 33 44', // SSRC of the receiver
      '07 00 00 08', // BT=7 VoIP metrics | reserved | block length=8 (36 bytes)
      'aa bb cc dd', // SSRC of source
      '0d 02 40 05', // loss rate 13/256 (5 %) | discard rate 2/256 | burst density 64/256 | gap density 5/256
      '00 78 05 dc', // burst duration 120 ms | gap duration 1500 ms
      '00 2a 00 c8', // round trip delay 42 ms | end system delay 200 ms
      '7f 7f 7f 10', // signal level, noise level, RERL unavailable (127) | Gmin 16
      '4c 7f 26 7f', // R factor 76 | ext. R factor unavailable | MOS-LQ 3.8 | MOS-CQ unavailable
      '70 00 00 96', // RX config: PLC disabled (01), JBA adaptive (11), rate 0 | reserved | JB nominal 150 ms
      '01 2c 03 e8', // JB maximum 300 ms | JB abs max 1000 ms
    ),
    packet: {
      type: 'xr',
      ssrc: 0x11223344,
      blocks: [voipSample(0xaabbccdd)],
    },
  },
];

describe('RTCP XR packets', () => {
  it.each(cases)('$name: parses and serializes byte for byte', ({ bytes, packet }) => {
    const copy = Buffer.from(bytes);
    const parsed = parseRtcpPackets(bytes);
    expect(parsed).toEqual({ ok: true, value: [packet] });
    expect(bytes).toEqual(copy); // input unchanged
    expect(serializeRtcpCompound([packet])).toEqual(bytes);
  });

  it("the receiver's RR + SDES + XR and the server's SR + SDES + XR pass the strict compound checks", () => {
    const rr: RtcpPacket[] = [{ type: 'rr', ssrc: 0x11223344, reports: [] }, makeSdesCname(0x11223344, 'r@h'), cases[0]!.packet];
    const sr: RtcpPacket[] = [
      {
        type: 'sr',
        ssrc: 0xaabbccdd,
        senderInfo: { ntpSeconds: 1, ntpFraction: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 },
        reports: [],
      },
      makeSdesCname(0xaabbccdd, 's@h'),
      cases[1]!.packet,
    ];
    for (const c of [rr, sr]) {
      const r = parseRtcpCompound(serializeRtcpCompound(c));
      expect(r).toEqual({ ok: true, value: c });
    }
  });

  it.each([
    ['no SSRC', hex('80 cf 00 00'), 'RTCP_ERR_SHORT_BODY'],
    ['a block longer than the packet', hex('80 cf 00 02', '00 00 00 01', '04 00 00 02'), 'RTCP_ERR_XR_BLOCK_OVERFLOW'],
    ['an RRTR of 8 bytes', hex('80 cf 00 03', '00 00 00 01', '04 00 00 01', '00 00 00 00'), 'RTCP_ERR_XR_BAD_BLOCK'],
    ['a DLRR of 8 bytes', hex('80 cf 00 03', '00 00 00 01', '05 00 00 01', '00 00 00 00'), 'RTCP_ERR_XR_BAD_BLOCK'],
    ['a VoIP metrics block of 8 bytes', hex('80 cf 00 03', '00 00 00 01', '07 00 00 01', '00 00 00 00'), 'RTCP_ERR_XR_BAD_BLOCK'],
  ])('%s: %s', (_n, bytes, code) => {
    const r = parseRtcpPackets(bytes);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe(code);
  });

  it('RTT = A − LRR − DLRR in compact NTP (§4.5), computed independently in seconds', () => {
    // RRTR sent at NTP 0x1a2c.8000 (middle 32 bits) = 6700.5 s; the sender held it 1.5 s; the
    // answer arrived at 6702.0123 s: RTT = 6702.0123 − 6700.5 − 1.5 = 12.3 ms (to 1/65536 s).
    const arrival = Math.round(6702.0123 * 65536);
    const rtt = rttFromDlrr({ ssrc: 1, lastRr: 0x1a2c8000, delaySinceLastRr: 0x00018000 }, arrival);
    expect(rtt).toBeCloseTo(12.3, 1);
    expect(rttFromDlrr({ ssrc: 1, lastRr: 0, delaySinceLastRr: 0 }, arrival)).toBeUndefined(); // no RRTR yet
    expect(rttFromDlrr({ ssrc: 1, lastRr: arrival, delaySinceLastRr: 10 }, arrival)).toBeUndefined(); // negative
    // across the 2^32 wrap of the compact NTP clock: LRR just below, A just above
    expect(rttFromDlrr({ ssrc: 1, lastRr: 0xffff_ff00, delaySinceLastRr: 0x80 }, 0x40)).toBeCloseTo(
      (0x40 + 0x100 - 0x80) * (1000 / 65536),
      9,
    );
  });

  const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
  const u16 = fc.integer({ min: 0, max: 0xffff });
  const u8 = fc.integer({ min: 0, max: 255 });
  const block: fc.Arbitrary<XrBlock> = fc.oneof(
    fc.record({ type: fc.constant('rrtr' as const), ntpSeconds: u32, ntpFraction: u32 }),
    fc.record({
      type: fc.constant('dlrr' as const),
      items: fc.array(fc.record({ ssrc: u32, lastRr: u32, delaySinceLastRr: u32 }), { maxLength: 4 }),
    }),
    fc.record({
      type: fc.constant('voip-metrics' as const),
      ssrc: u32,
      lossRate: u8,
      discardRate: u8,
      burstDensity: u8,
      gapDensity: u8,
      burstDurationMs: u16,
      gapDurationMs: u16,
      roundTripDelayMs: u16,
      endSystemDelayMs: u16,
      signalLevel: fc.integer({ min: -128, max: 127 }),
      noiseLevel: fc.integer({ min: -128, max: 127 }),
      rerl: u8,
      gmin: u8,
      rFactor: u8,
      extRFactor: u8,
      mosLq: u8,
      mosCq: u8,
      rxConfig: u8,
      jbNominalMs: u16,
      jbMaximumMs: u16,
      jbAbsMaxMs: u16,
    }),
    fc.record({
      type: fc.constant('opaque' as const),
      blockType: fc.integer({ min: 0, max: 255 }).filter((b) => b !== 4 && b !== 5 && b !== 7),
      typeSpecific: fc.integer({ min: 0, max: 255 }),
      body: fc
        .integer({ min: 0, max: 6 })
        .chain((w) => fc.uint8Array({ minLength: 4 * w, maxLength: 4 * w }))
        .map((a) => Buffer.from(a)),
    }),
  );

  it('any XR packet round-trips, alone and after an RR', () => {
    fc.assert(
      fc.property(u32, fc.array(block, { maxLength: 5 }), (ssrc, blocks) => {
        const xr: RtcpXr = { type: 'xr', ssrc, blocks };
        const bytes = serializeRtcpCompound([{ type: 'rr', ssrc: 1, reports: [] }, xr]);
        expect(parseRtcpCompound(bytes)).toEqual({ ok: true, value: [{ type: 'rr', ssrc: 1, reports: [] }, xr] });
      }),
      { numRuns: 500 },
    );
  });

  it('random bytes after an XR header never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (tail) => {
        const body = Buffer.from(tail.subarray(0, tail.length - (tail.length % 4)));
        const bytes = Buffer.concat([hex('80 cf'), Buffer.from([0, 1 + body.length / 4]), hex('00 00 00 01'), body]);
        const r = parseRtcpPackets(bytes);
        if (r.ok) expect(r.value[0]!.type).toBe('xr');
        else expect(r.code).toMatch(/^RTCP_ERR_XR_|^RTCP_ERR_SHORT_BODY$/);
      }),
      { numRuns: 1000 },
    );
  });
});
