import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AacDepacketizer, packetizeAac, type DepacketizedUnit, type RtpPayload, type RtpPayloadInput } from '../../src/codecs/index.ts';
import { GST_AAC_PACKETS, MP4_AAC_AUS } from './gstreamer-vectors.ts';
import { fromRtp, hex } from './helpers.ts';

const hexOf = (ps: RtpPayload[]): [string, boolean][] => ps.map((p) => [p.payload.toString('hex'), p.marker]);
const summary = (us: DepacketizedUnit[]): [number, string[], boolean][] =>
  us.map((u) => [u.timestamp, u.data.map((b) => b.toString('hex')), u.complete]);
const pkt = (sequence: number, timestamp: number, payload: string, marker = true): RtpPayloadInput => ({
  sequence,
  timestamp,
  marker,
  payload: hex(payload),
});

describe('packetizeAac: AU headers (RFC 3640 §3.2.1, §3.3.6 AAC-hbr)', () => {
  const a = hex('a1 a2 a3'); // 3 bytes
  const b = hex('b1 b2 b3 b4'); // 4 bytes
  const c = hex('c1 c2 c3 c4 c5'); // 5 bytes

  it('packs one AU', () => {
    expect(hexOf(packetizeAac([a], { maxPayloadSize: 1400 }))).toEqual([
      // AU-headers-length=16 bits | AU-size=3 index=0: 0000000000011 000 | AU
      ['0010' + '0018' + 'a1a2a3', true],
    ]);
  });

  it('packs two and three AUs: all headers first, then the AUs in order', () => {
    expect(hexOf(packetizeAac([a, b], { maxPayloadSize: 1400 }))).toEqual([
      // 32 bits | size=3 idx=0 | size=4 delta=0 (0000000000100 000) | AUs
      ['0020' + '0018' + '0020' + 'a1a2a3' + 'b1b2b3b4', true],
    ]);
    expect(hexOf(packetizeAac([a, b, c], { maxPayloadSize: 1400 }))).toEqual([
      // 48 bits | 3 | 4 | 5 (0000000000101 000 = 0x0028) | AUs
      ['0030' + '0018' + '0020' + '0028' + 'a1a2a3' + 'b1b2b3b4' + 'c1c2c3c4c5', true],
    ]);
  });

  it('starts a new packet when the next AU does not fit', () => {
    // a + b together: 2 + 4 + 7 = 13 bytes; with c: 2 + 6 + 12 = 20
    expect(hexOf(packetizeAac([a, b, c], { maxPayloadSize: 19 }))).toEqual([
      ['0020' + '0018' + '0020' + 'a1a2a3b1b2b3b4', true],
      ['0010' + '0028' + 'c1c2c3c4c5', true],
    ]);
  });

  it('fragments an AU larger than a packet: each fragment has the FULL AU size, marker only on the last', () => {
    const au = Buffer.alloc(300, 0x5a);
    const out = packetizeAac([au], { maxPayloadSize: 104 }); // 100 data bytes per fragment
    // AU-size=300: 0000100101100 000 = 0x0960
    expect(hexOf(out)).toEqual([
      ['0010' + '0960' + '5a'.repeat(100), false],
      ['0010' + '0960' + '5a'.repeat(100), false],
      ['0010' + '0960' + '5a'.repeat(100), true],
    ]);
  });

  it('sends the AUs before a fragmented one in their own packet', () => {
    const out = packetizeAac([a, Buffer.alloc(10, 0xee)], { maxPayloadSize: 10 }); // 6 data bytes per fragment
    expect(hexOf(out)).toEqual([
      ['0010' + '0018' + 'a1a2a3', true],
      ['0010' + '0050' + 'ee'.repeat(6), false], // size 10 = 0000000001010 000
      ['0010' + '0050' + 'ee'.repeat(4), true],
    ]);
  });

  it('rejects AUs AAC-hbr cannot describe and a too small payload limit', () => {
    expect(() => packetizeAac([Buffer.alloc(8192)], { maxPayloadSize: 1400 })).toThrow(RangeError);
    expect(() => packetizeAac([Buffer.alloc(0)], { maxPayloadSize: 1400 })).toThrow(RangeError);
    expect(() => packetizeAac([a], { maxPayloadSize: 4 })).toThrow(RangeError);
    expect(
      packetizeAac([Buffer.alloc(8191, 1)], { maxPayloadSize: 9000 })[0]!
        .payload.subarray(0, 4)
        .toString('hex'),
    ).toBe('0010fff8');
  });
});

describe('AacDepacketizer on GStreamer rtpmp4gpay output', () => {
  it('gives back the AUs of the file at the packet timestamps', () => {
    const d = new AacDepacketizer({ sizeLength: 13, indexLength: 3, indexDeltaLength: 3 });
    const packets = GST_AAC_PACKETS.map(fromRtp);
    const units = [...packets.flatMap((p) => d.push(p)), ...d.flush()];
    expect(units.map((u) => u.data.map((b) => b.toString('hex')))).toEqual(MP4_AAC_AUS.map((h) => [h]));
    expect(units.map((u) => u.timestamp)).toEqual([...new Set(packets.map((p) => p.timestamp))]);
    expect(units.every((u) => u.complete && u.keyframe)).toBe(true);
    expect(d.stats).toMatchObject({ lostPackets: 0, malformed: 0, incompleteUnits: 0, units: 10 });
  });
});

describe('AacDepacketizer', () => {
  it('times the i-th AU of a packet at timestamp + i × frameLength, wrapping at 2^32', () => {
    const d = new AacDepacketizer();
    expect(summary(d.push(pkt(1, 0xfffffc00, '0030 0018 0020 0028 | a1a2a3 b1b2b3b4 c1c2c3c4c5')))).toEqual([
      [0xfffffc00, ['a1a2a3'], true],
      [0, ['b1b2b3b4'], true],
      [1024, ['c1c2c3c4c5'], true],
    ]);
    const e = new AacDepacketizer({ frameLength: 960 });
    expect(e.push(pkt(1, 100, '0020 0018 0020 | a1a2a3 b1b2b3b4')).map((u) => u.timestamp)).toEqual([100, 1060]);
  });

  it('reads AAC-lbr AU headers (sizelength=6, indexlength=2, indexdeltalength=2)', () => {
    const d = new AacDepacketizer({ sizeLength: 6, indexLength: 2, indexDeltaLength: 2 });
    // 16 bits of headers: 000011 00 (size 3) | 000100 00 (size 4)
    expect(summary(d.push(pkt(1, 0, '0010 0c10 | a1a2a3 b1b2b3b4')))).toEqual([
      [0, ['a1a2a3'], true],
      [1024, ['b1b2b3b4'], true],
    ]);
  });

  it('reassembles a fragmented AU', () => {
    const d = new AacDepacketizer();
    expect(d.push(pkt(1, 500, '0010 0028 | c1c2', false))).toEqual([]);
    expect(d.push(pkt(2, 500, '0010 0028 | c3c4', false))).toEqual([]);
    expect(summary(d.push(pkt(3, 500, '0010 0028 | c5')))).toEqual([[500, ['c1c2c3c4c5'], true]]);
  });

  it('hands on a fragmented AU with a missing middle fragment as one empty, incomplete unit', () => {
    const d = new AacDepacketizer();
    d.push(pkt(1, 500, '0010 0028 | c1c2', false));
    // seq 2 lost
    expect(summary(d.push(pkt(3, 500, '0010 0028 | c5')))).toEqual([[500, [], false]]);
    expect(summary(d.push(pkt(4, 1524, '0010 0018 | a1a2a3')))).toEqual([[1524, ['a1a2a3'], true]]);
    expect(d.stats).toMatchObject({ lostPackets: 1, incompleteUnits: 1, units: 2 });
  });

  it('detects a missing first fragment by the byte count', () => {
    const d = new AacDepacketizer();
    d.push(pkt(1, 0, '0010 0018 | a1a2a3'));
    // seq 2 (c1c2, first fragment of the AU at 1024) lost
    d.push(pkt(3, 1024, '0010 0028 | c3c4', false));
    expect(summary(d.push(pkt(4, 1024, '0010 0028 | c5')))).toEqual([[1024, [], false]]);
  });

  it('detects a missing last fragment when the next AU arrives', () => {
    const d = new AacDepacketizer();
    d.push(pkt(1, 0, '0010 0028 | c1c2', false));
    d.push(pkt(2, 0, '0010 0028 | c3c4', false));
    // seq 3 (c5, marker) lost
    expect(summary(d.push(pkt(4, 1024, '0010 0018 | a1a2a3')))).toEqual([
      [0, [], false],
      [1024, ['a1a2a3'], true],
    ]);
  });

  it('detects a missing last fragment at flush, and a new AU without a gap', () => {
    const d = new AacDepacketizer();
    d.push(pkt(1, 0, '0010 0028 | c1c2', false));
    expect(summary(d.flush())).toEqual([[0, [], false]]);
    d.push(pkt(2, 0, '0010 0028 | c1c2', false));
    expect(summary(d.push(pkt(3, 1024, '0010 0028 | c1c2', false)))).toEqual([[0, [], false]]);
  });

  it('ignores duplicated and late packets', () => {
    const d = new AacDepacketizer();
    d.push(pkt(1, 0, '0010 0028 | c1c2', false));
    d.push(pkt(1, 0, '0010 0028 | c1c2', false)); // duplicate
    expect(summary(d.push(pkt(2, 0, '0010 0028 | c3c4c5')))).toEqual([[0, ['c1c2c3c4c5'], true]]);
    expect(d.push(pkt(0, 0, '0010 0018 | a1a2a3'))).toEqual([]); // late
    expect(d.stats.stale).toBe(2);
  });

  it.each([
    ['no AU headers', '0000 | a1'],
    ['header section past the end', '0020 0018'],
    ['a half AU-header', '000c 0018 | a1a2a3'],
    ['AU-size 0', '0010 0000 | a1'],
    ['AU sizes past the data', '0020 0018 0020 | a1a2a3 b1'],
    ['one byte', '00'],
  ])('counts a malformed packet (%s) and hands on nothing', (_name, payload) => {
    const d = new AacDepacketizer();
    expect(d.push(pkt(1, 0, payload))).toEqual([]);
    expect(d.stats.malformed).toBe(1);
  });

  it('refuses interleaving (non-zero AU-Index)', () => {
    const d = new AacDepacketizer();
    expect(d.push(pkt(1, 0, '0010 0019 | a1a2a3'))).toEqual([]); // size 3, index 1
    expect(d.stats.unsupported).toBe(1);
  });

  it('drops a fragmented AU over maxAuSize', () => {
    const d = new AacDepacketizer({ maxAuSize: 4 });
    expect(d.push(pkt(1, 0, '0010 0028 | c1c2', false))).toEqual([]);
    expect(summary(d.push(pkt(2, 0, '0010 0028 | c3c4c5')))).toEqual([[0, [], false]]); // one unit for the AU
    expect(d.stats).toMatchObject({ overCap: 1, units: 1 });
  });

  it('never throws on random payloads', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            payload: fc.uint8Array({ maxLength: 40 }),
            marker: fc.boolean(),
            dseq: fc.integer({ min: -1, max: 2 }),
            dts: fc.constantFrom(0, 1024),
          }),
          { maxLength: 40 },
        ),
        fc.constantFrom([13, 3, 3], [6, 2, 2], [16, 0, 0], [1, 0, 32]),
        (items, [sizeLength, indexLength, indexDeltaLength]) => {
          const d = new AacDepacketizer({ sizeLength, indexLength, indexDeltaLength });
          let seq = 0;
          let ts = 0;
          for (const it of items) {
            seq += it.dseq;
            ts += it.dts;
            for (const u of d.push({ payload: Buffer.from(it.payload), marker: it.marker, sequence: seq, timestamp: ts })) {
              if (u.complete) expect(u.data.length).toBe(1);
              else expect(u.data).toEqual([]);
            }
          }
          d.flush();
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('round-trips random AUs for random maxPayloadSize, grouped or not', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 2000 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 100, max: 1500 }),
        fc.boolean(),
        (raw, max, grouped) => {
          const aus = raw.map((a) => Buffer.from(a));
          const packets = grouped
            ? packetizeAac(aus, { maxPayloadSize: max })
            : aus.flatMap((au) => packetizeAac([au], { maxPayloadSize: max }));
          for (const p of packets) expect(p.payload.length).toBeLessThanOrEqual(max);
          // The sender's timestamp for a packet is the one of its first AU.
          const d = new AacDepacketizer();
          const units: DepacketizedUnit[] = [];
          let auIndex = 0;
          packets.forEach((p, i) => {
            const n = p.payload.readUInt16BE(0) / 16;
            const firstAu = auIndex;
            const fragment = n === 1 && p.payload.readUInt16BE(2) >> 3 > p.payload.length - 4;
            if (!fragment || p.marker) auIndex += n;
            units.push(...d.push({ payload: p.payload, marker: p.marker, sequence: i, timestamp: firstAu * 1024 }));
          });
          units.push(...d.flush());
          expect(summary(units)).toEqual(aus.map((au, i) => [i * 1024, [au.toString('hex')], true]));
        },
      ),
      { numRuns: 300 },
    );
  });
});
