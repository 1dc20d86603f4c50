import { describe, expect, it } from 'vitest';
import {
  parseRtcpCompound,
  parseRtcpPackets,
  rtcpPacketByteLength,
  serializeRtcpCompound,
  serializeRtcpPacketInto,
  type RtcpPacket,
} from '../../src/rtcp/index.ts';
import { at } from '../../src/util/narrow.ts';

/** Joins hex rows (spaces ignored) into a Buffer. */
const hex = (...rows: string[]): Buffer => Buffer.from(rows.join('').replace(/\s+/g, ''), 'hex');
const text = (s: string): Buffer => Buffer.from(s, 'utf8');

interface Case {
  name: string;
  bytes: Buffer;
  packet: RtcpPacket;
}

// One packet per row group; each is also a valid single packet for parseRtcpPackets.
const cases: Case[] = [
  {
    name: 'SR, no report blocks (RFC 3550 Figure 2 NTP time)',
    bytes: hex(
      '80 c8 00 06', // v=2 p=0 rc=0 | PT=200 SR | length=6 (28 bytes)
      '12 34 56 78', // SSRC of sender
      'b4 4d b7 05', // NTP seconds (10 Nov 1995 11:33:25 UTC)
      '20 00 00 00', // NTP fraction (.125 s)
      '00 01 e2 40', // RTP timestamp = 123456
      '00 00 00 64', // packet count = 100
      '00 00 fa 00', // octet count = 64000
    ),
    packet: {
      type: 'sr',
      ssrc: 0x12345678,
      senderInfo: { ntpSeconds: 0xb44db705, ntpFraction: 0x20000000, rtpTimestamp: 123456, packetCount: 100, octetCount: 64000 },
      reports: [],
    },
  },
  {
    name: 'SR with one report block',
    bytes: hex(
      '81 c8 00 0c', // v=2 p=0 rc=1 | PT=200 SR | length=12 (52 bytes)
      '00 00 00 01', // SSRC of sender
      'e0 00 00 00', // NTP seconds
      '80 00 00 00', // NTP fraction (.5 s)
      'ff ff ff ff', // RTP timestamp
      'ff ff ff ff', // packet count (wrapped)
      '00 00 00 00', // octet count
      '00 00 00 02', // block: SSRC_1
      'ff 7f ff ff', // fraction=255 | cumulative lost=+8388607 (max)
      '00 00 ff ff', // extended highest seq = 65535
      '00 00 00 00', // jitter
      '00 00 00 00', // LSR = 0 (no SR yet)
      '00 00 00 00', // DLSR
    ),
    packet: {
      type: 'sr',
      ssrc: 1,
      senderInfo: { ntpSeconds: 0xe0000000, ntpFraction: 0x80000000, rtpTimestamp: 0xffffffff, packetCount: 0xffffffff, octetCount: 0 },
      reports: [{ ssrc: 2, fractionLost: 255, cumulativeLost: 0x7fffff, extendedHighestSeq: 0xffff, jitter: 0, lsr: 0, dlsr: 0 }],
    },
  },
  {
    name: 'RR with one block: negative cumulative lost, LSR/DLSR of RFC Figure 2',
    bytes: hex(
      '81 c9 00 07', // v=2 p=0 rc=1 | PT=201 RR | length=7 (32 bytes)
      '90 2f 9e 2e', // SSRC of packet sender
      'bc 5e 9a 40', // block: SSRC_1
      '40 ff ff fe', // fraction=64 (25 %) | cumulative lost=-2 (0xfffffe, signed 24-bit)
      '00 01 00 05', // extended highest seq: 1 cycle, seq 5
      '00 00 01 23', // jitter = 291 timestamp units
      'b7 05 20 00', // LSR = 0xb705:2000 (46853.125 s)
      '00 05 40 00', // DLSR = 0x0005:4000 (5.25 s)
    ),
    packet: {
      type: 'rr',
      ssrc: 0x902f9e2e,
      reports: [
        {
          ssrc: 0xbc5e9a40,
          fractionLost: 64,
          cumulativeLost: -2,
          extendedHighestSeq: 0x00010005,
          jitter: 0x123,
          lsr: 0xb7052000,
          dlsr: 0x00054000,
        },
      ],
    },
  },
  {
    name: 'RR with the most negative cumulative lost',
    bytes: hex(
      '81 c9 00 07', // v=2 p=0 rc=1 | PT=201 RR | length=7
      '00 00 00 0a', // SSRC of packet sender
      '00 00 00 0b', // block: SSRC_1
      '00 80 00 00', // fraction=0 | cumulative lost=-8388608
      '00 00 00 00', // ext highest
      '00 00 00 00', // jitter
      '00 00 00 00', // LSR
      '00 00 00 00', // DLSR
    ),
    packet: {
      type: 'rr',
      ssrc: 10,
      reports: [{ ssrc: 11, fractionLost: 0, cumulativeLost: -0x800000, extendedHighestSeq: 0, jitter: 0, lsr: 0, dlsr: 0 }],
    },
  },
  {
    name: 'empty RR with a profile-specific extension',
    bytes: hex(
      '80 c9 00 02', // v=2 p=0 rc=0 | PT=201 RR | length=2 (12 bytes)
      '00 00 00 0a', // SSRC of packet sender
      'de ad be ef', // profile-specific extension
    ),
    packet: { type: 'rr', ssrc: 10, reports: [], profileExtension: hex('deadbeef') },
  },
  {
    name: 'SDES, one chunk, CNAME "a@b" (terminator + 2 padding nulls)',
    bytes: hex(
      '81 ca 00 03', // v=2 p=0 sc=1 | PT=202 SDES | length=3 (16 bytes)
      '90 2f 9e 2e', // chunk SSRC
      '01 03 61 40', // CNAME len=3 "a@"
      '62 00 00 00', // "b" | end | pad pad
    ),
    packet: { type: 'sdes', chunks: [{ ssrc: 0x902f9e2e, items: [{ type: 1, value: text('a@b') }] }] },
  },
  {
    name: 'SDES, items ending on a boundary still get four nulls; two chunks; PRIV kept raw',
    bytes: hex(
      '82 ca 00 07', // v=2 p=0 sc=2 | PT=202 SDES | length=7 (32 bytes)
      '00 00 00 01', // chunk 1 SSRC
      '01 02 61 62', // CNAME len=2 "ab" (items end on a boundary)
      '00 00 00 00', // end + 3 padding nulls
      '00 00 00 02', // chunk 2 SSRC
      '06 01 78 08', // TOOL len=1 "x" | PRIV
      '03 01 70 76', // len=3: prefix len=1 "p", value "v"
      '00 00 00 00', // end + pad
    ),
    packet: {
      type: 'sdes',
      chunks: [
        { ssrc: 1, items: [{ type: 1, value: text('ab') }] },
        {
          ssrc: 2,
          items: [
            { type: 6, value: text('x') },
            { type: 8, value: hex('017076') },
          ],
        },
      ],
    },
  },
  {
    name: 'SDES chunk with no items (just the terminator word)',
    bytes: hex(
      '81 ca 00 02', // v=2 p=0 sc=1 | PT=202 SDES | length=2
      '00 00 00 07', // chunk SSRC
      '00 00 00 00', // end + pad
    ),
    packet: { type: 'sdes', chunks: [{ ssrc: 7, items: [] }] },
  },
  {
    name: 'BYE without reason',
    bytes: hex(
      '81 cb 00 01', // v=2 p=0 sc=1 | PT=203 BYE | length=1
      '90 2f 9e 2e', // SSRC
    ),
    packet: { type: 'bye', ssrcs: [0x902f9e2e] },
  },
  {
    name: 'BYE with two SSRCs and reason "ciao!"',
    bytes: hex(
      '82 cb 00 04', // v=2 p=0 sc=2 | PT=203 BYE | length=4 (20 bytes)
      '00 00 00 01', // SSRC 1
      '00 00 00 02', // SSRC 2
      '05 63 69 61', // len=5 "cia"
      '6f 21 00 00', // "o!" + 2 padding nulls
    ),
    packet: { type: 'bye', ssrcs: [1, 2], reason: 'ciao!' },
  },
  {
    name: 'BYE with reason of 3 bytes (exactly one word)',
    bytes: hex(
      '81 cb 00 02', // v=2 p=0 sc=1 | PT=203 BYE | length=2
      '00 00 00 03', // SSRC
      '03 62 79 65', // len=3 "bye"
    ),
    packet: { type: 'bye', ssrcs: [3], reason: 'bye' },
  },
  {
    name: 'APP subtype 5 "QTSS" with 4 bytes of data',
    bytes: hex(
      '85 cc 00 03', // v=2 p=0 subtype=5 | PT=204 APP | length=3
      '00 00 00 09', // SSRC
      '51 54 53 53', // name "QTSS"
      '01 02 03 04', // data
    ),
    packet: { type: 'app', subtype: 5, ssrc: 9, name: 'QTSS', data: hex('01020304') },
  },
  {
    name: 'unknown type (PSFB PLI, FMT=1) kept opaque',
    bytes: hex(
      '81 ce 00 02', // v=2 p=0 fmt=1 | PT=206 PSFB | length=2
      '00 00 00 01', // sender SSRC
      '00 00 00 02', // media SSRC
    ),
    packet: { type: 'unknown', packetType: 206, count: 1, body: hex('00000001 00000002') },
  },
];

describe('RTCP single packets (shared case table)', () => {
  it.each(cases)('parse: $name', ({ bytes, packet }) => {
    const copy = Buffer.from(bytes);
    expect(parseRtcpPackets(bytes)).toEqual({ ok: true, value: [packet] });
    expect(bytes.equals(copy)).toBe(true);
  });

  it.each(cases)('serialize: $name', ({ bytes, packet }) => {
    expect(rtcpPacketByteLength(packet)).toBe(bytes.length);
    expect(serializeRtcpCompound([packet]).toString('hex')).toBe(bytes.toString('hex'));
    const buf = Buffer.alloc(bytes.length + 8, 0xee);
    expect(serializeRtcpPacketInto(packet, buf, 4)).toBe(bytes.length);
    expect(buf.subarray(4, 4 + bytes.length).equals(bytes)).toBe(true);
    expect(buf.subarray(0, 4).toString('hex')).toBe('eeeeeeee');
  });
});

describe('RTCP compound', () => {
  const rr = at(cases, 2);
  const sdes = at(cases, 5);
  const bye = at(cases, 8);

  it('RR + SDES + BYE parses strictly and serializes back byte-exact', () => {
    const bytes = Buffer.concat([rr.bytes, sdes.bytes, bye.bytes]);
    const r = parseRtcpCompound(bytes);
    expect(r).toEqual({ ok: true, value: [rr.packet, sdes.packet, bye.packet] });
    expect(serializeRtcpCompound([rr.packet, sdes.packet, bye.packet]).equals(bytes)).toBe(true);
  });

  it('report-block and SDES values are views into the datagram', () => {
    const bytes = Buffer.concat([rr.bytes, sdes.bytes]);
    const r = parseRtcpCompound(bytes);
    if (!r.ok) throw new Error(r.code);
    const s = at(r.value, 1);
    if (s.type !== 'sdes') throw new Error('not sdes');
    expect(at(at(s.chunks, 0).items, 0).value.buffer).toBe(bytes.buffer);
  });

  it('padding on the last packet is removed and accepted', () => {
    const bytes = hex(
      rr.bytes.toString('hex'), // the RR above (32 bytes)
      'a1 cb 00 02', // v=2 p=1 sc=1 | PT=203 BYE | length=2 (12 bytes incl. padding)
      '00 00 00 05', // SSRC
      '00 00 00 04', // padding, count 4
    );
    const r = parseRtcpCompound(bytes);
    expect(r).toEqual({ ok: true, value: [rr.packet, { type: 'bye', ssrcs: [5] }] });
  });

  it('a Wireshark-decoded transport-cc packet with 1 byte of padding parses leniently and re-serializes exactly', () => {
    // Wireshark: P=1, FMT=15 (transport-cc), PT=205, length 7 (32 bytes), last octet = 1.
    const bytes = hex(
      'af cd 00 07', // v=2 p=1 fmt=15 | PT=205 RTPFB | length=7
      '00 00 00 01', // sender SSRC
      'dd 58 6e b6', // media SSRC
      '00 01 00 09 5e 91 10 00 20 09 1c 0c 2c 38 00 04 00 08 18', // feedback (19 bytes)
      '01', //          padding count 1
    );
    expect(parseRtcpCompound(bytes)).toMatchObject({ ok: false, code: 'RTCP_ERR_FIRST_NOT_REPORT' });
    const r = parseRtcpPackets(bytes);
    if (!r.ok) throw new Error(r.code);
    expect(r.value).toHaveLength(1);
    const p = at(r.value, 0);
    expect(p).toMatchObject({ type: 'unknown', packetType: 205, count: 15 });
    if (p.type === 'unknown') expect(p.body.length).toBe(27);
    expect(serializeRtcpCompound(r.value).equals(bytes)).toBe(true);
  });

  it('a bare BYE is rejected by the strict parser and accepted by the lenient one', () => {
    expect(parseRtcpCompound(bye.bytes)).toMatchObject({ ok: false, code: 'RTCP_ERR_FIRST_NOT_REPORT', packetType: 203 });
    expect(parseRtcpPackets(bye.bytes)).toEqual({ ok: true, value: [bye.packet] });
  });

  it('padding on a packet that is not last: strict error, lenient accepts', () => {
    const bytes = hex(
      'a0 c9 00 02', // v=2 p=1 rc=0 | PT=201 RR | length=2 (12 bytes)
      '00 00 00 0a', // SSRC
      '00 00 00 04', // padding, count 4
      '81 cb 00 01', // BYE sc=1
      '00 00 00 0a', // SSRC
    );
    expect(parseRtcpCompound(bytes)).toMatchObject({ ok: false, code: 'RTCP_ERR_PADDING_NOT_LAST', offset: 0 });
    expect(parseRtcpPackets(bytes)).toEqual({
      ok: true,
      value: [
        { type: 'rr', ssrc: 10, reports: [] },
        { type: 'bye', ssrcs: [10] },
      ],
    });
  });
});

describe('RTCP malformed input', () => {
  const errors: Array<[string, Buffer, string, number]> = [
    // name, bytes, code, offset
    ['empty datagram', hex(''), 'RTCP_ERR_EMPTY', 0],
    ['3 bytes', hex('80 c9 00'), 'RTCP_ERR_SHORT_HEADER', 0],
    ['version 1', hex('40 c9 00 01', '00 00 00 01'), 'RTCP_ERR_BAD_VERSION', 0],
    ['version 3 in the second packet', hex('80 c9 00 01', '00 00 00 01', 'c0 cb 00 00'), 'RTCP_ERR_BAD_VERSION', 8],
    ['first packet SDES', hex('80 ca 00 00'), 'RTCP_ERR_FIRST_NOT_REPORT', 0],
    ['length beyond datagram', hex('81 c9 00 07', '00 00 00 01'), 'RTCP_ERR_LENGTH_OVERFLOW', 0],
    ['2 trailing bytes', hex('80 c9 00 01', '00 00 00 01', '81 cb'), 'RTCP_ERR_SHORT_HEADER', 8],
    ['padding count 0', hex('a0 c9 00 02', '00 00 00 01', '00 00 00 00'), 'RTCP_ERR_BAD_PADDING', 11],
    ['padding count beyond body', hex('a0 c9 00 01', '00 00 00 09'), 'RTCP_ERR_BAD_PADDING', 7],
    ['SR shorter than sender info', hex('80 c8 00 01', '00 00 00 01'), 'RTCP_ERR_SHORT_BODY', 0],
    ['RR rc=1 without the block', hex('81 c9 00 01', '00 00 00 01'), 'RTCP_ERR_SHORT_BODY', 0],
    // RR + SDES whose CNAME claims 9 bytes where 2 remain
    [
      'SDES item overflow',
      hex('80 c9 00 01', '00 00 00 01', '81 ca 00 02', '00 00 00 01', '01 09 61 62'),
      'RTCP_ERR_SDES_ITEM_OVERFLOW',
      16,
    ],
    // RR + SDES whose items end at the packet end with no null octet
    [
      'SDES without terminator',
      hex('80 c9 00 01', '00 00 00 01', '81 ca 00 02', '00 00 00 01', '01 02 61 62'),
      'RTCP_ERR_SDES_NO_TERMINATOR',
      12,
    ],
    ['SDES sc=2 with one chunk', hex('80 c9 00 01', '00 00 00 01', '82 ca 00 02', '00 00 00 01', '00 00 00 00'), 'RTCP_ERR_SHORT_BODY', 8],
    [
      'BYE reason overflow',
      hex('80 c9 00 01', '00 00 00 01', '81 cb 00 02', '00 00 00 01', '09 61 62 63'),
      'RTCP_ERR_BYE_REASON_OVERFLOW',
      16,
    ],
    ['BYE sc=2 with one SSRC', hex('80 c9 00 01', '00 00 00 01', '82 cb 00 01', '00 00 00 01'), 'RTCP_ERR_SHORT_BODY', 8],
    ['APP without name', hex('80 c9 00 01', '00 00 00 01', '80 cc 00 01', '00 00 00 01'), 'RTCP_ERR_SHORT_BODY', 8],
  ];
  it.each(errors)('%s -> %s', (_name, bytes, code, offset) => {
    const r = parseRtcpCompound(bytes);
    expect(r).toMatchObject({ ok: false, code, offset });
  });

  it('the lenient parser applies the same per-packet checks', () => {
    expect(parseRtcpPackets(hex('81 cb 00 02', '00 00 00 01', '09 61 62 63'))).toMatchObject({
      ok: false,
      code: 'RTCP_ERR_BYE_REASON_OVERFLOW',
    });
    expect(parseRtcpPackets(hex('40 cb 00 00'))).toMatchObject({ ok: false, code: 'RTCP_ERR_BAD_VERSION' });
  });

  it('BYE reason with invalid UTF-8 becomes "?" per byte', () => {
    const r = parseRtcpPackets(hex('81 cb 00 02', '00 00 00 01', '03 61 ff 62'));
    expect(r).toEqual({ ok: true, value: [{ type: 'bye', ssrcs: [1], reason: 'a?b' }] });
  });
});

describe('RTCP serializer programmer errors', () => {
  const block = { ssrc: 1, fractionLost: 0, cumulativeLost: 0, extendedHighestSeq: 0, jitter: 0, lsr: 0, dlsr: 0 };
  it.each<[string, RtcpPacket]>([
    ['32 report blocks', { type: 'rr', ssrc: 1, reports: new Array(32).fill(block) }],
    ['cumulativeLost beyond 24 bits', { type: 'rr', ssrc: 1, reports: [{ ...block, cumulativeLost: 0x800000 }] }],
    ['fractionLost 256', { type: 'rr', ssrc: 1, reports: [{ ...block, fractionLost: 256 }] }],
    ['SDES item of 256 bytes', { type: 'sdes', chunks: [{ ssrc: 1, items: [{ type: 1, value: Buffer.alloc(256) }] }] }],
    ['SDES item type 0', { type: 'sdes', chunks: [{ ssrc: 1, items: [{ type: 0, value: Buffer.alloc(1) }] }] }],
    ['BYE reason of 256 bytes', { type: 'bye', ssrcs: [1], reason: 'x'.repeat(256) }],
    ['APP name of 3 chars', { type: 'app', subtype: 0, ssrc: 1, name: 'abc', data: Buffer.alloc(0) }],
    ['APP subtype 32', { type: 'app', subtype: 32, ssrc: 1, name: 'abcd', data: Buffer.alloc(0) }],
  ])('%s throws RangeError', (_n, p) => {
    expect(() => serializeRtcpCompound([p])).toThrow(RangeError);
  });
});
