import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Mp2tDepacketizer, MP2T_PAYLOAD_TYPE, checkMp2tPackets, mp2tRtpmap, packetizeMp2t } from '../../src/codecs/mp2t/index.ts';
import type { RtpPayloadInput } from '../../src/codecs/types.ts';

/** n TS packets: sync byte 0x47, then the packet index in every other byte. */
function tsPackets(n: number): Buffer {
  const b = Buffer.alloc(n * 188);
  for (let i = 0; i < n; i++) {
    b.fill(i & 0xff, i * 188 + 1, (i + 1) * 188);
    b[i * 188] = 0x47;
  }
  return b;
}
const pkt = (sequence: number, payload: Buffer, timestamp = 9000): RtpPayloadInput => ({ sequence, timestamp, marker: false, payload });

describe('packetizeMp2t (RFC 2250 §2)', () => {
  it('puts 7 TS packets (1316 bytes) in a payload by default, the rest in the last', () => {
    const ts = tsPackets(15);
    const r = packetizeMp2t(ts, { maxPayloadSize: 1400 });
    if (!r.ok) throw new Error(r.code);
    expect(r.value.map((p) => [p.payload.length, p.byteOffset, p.marker, p.payload[0], p.payload[1]])).toEqual([
      [1316, 0, false, 0x47, 0], // TS packets 0..6
      [1316, 1316, false, 0x47, 7], // 7..13
      [188, 2632, false, 0x47, 14], // 14
    ]);
    expect(r.value[0]!.payload.buffer).toBe(ts.buffer); // views
  });

  it('fits fewer TS packets under a smaller maxPayloadSize, or packetsPerPayload', () => {
    const sizes = (max: number, per?: number): number[] => {
      const r = packetizeMp2t(tsPackets(10), per === undefined ? { maxPayloadSize: max } : { maxPayloadSize: max, packetsPerPayload: per });
      return r.ok ? r.value.map((p) => p.payload.length / 188) : [];
    };
    expect(sizes(1000)).toEqual([5, 5]); // 5 × 188 = 940 ≤ 1000 < 1128
    expect(sizes(188)).toEqual(Array(10).fill(1));
    expect(sizes(9000, 4)).toEqual([4, 4, 2]);
    expect(() => packetizeMp2t(tsPackets(1), { maxPayloadSize: 187 })).toThrow(RangeError);
    expect(packetizeMp2t(Buffer.alloc(0), { maxPayloadSize: 1316 })).toEqual({ ok: true, value: [] });
  });

  it('refuses misaligned input and missing sync bytes with codes', () => {
    expect(packetizeMp2t(tsPackets(2).subarray(0, 300), { maxPayloadSize: 1316 })).toMatchObject({
      ok: false,
      code: 'CODEC_ERR_MP2T_MISALIGNED',
      offset: 188,
    });
    const bad = tsPackets(3);
    bad[376] = 0x46;
    expect(packetizeMp2t(bad, { maxPayloadSize: 1316 })).toMatchObject({ ok: false, code: 'CODEC_ERR_MP2T_NO_SYNC', offset: 376 });
    expect(checkMp2tPackets(tsPackets(3))).toEqual({ ok: true, value: 3 });
  });
});

describe('Mp2tDepacketizer', () => {
  it('hands on whole TS packets and drops malformed payloads whole', () => {
    const d = new Mp2tDepacketizer();
    const good = tsPackets(7);
    expect(d.push(pkt(1, good))).toEqual([{ timestamp: 9000, data: [good], keyframe: true, complete: true }]);
    expect(d.push(pkt(2, tsPackets(2).subarray(0, 200)))).toEqual([]); // misaligned
    const noSync = tsPackets(2);
    noSync[188] = 0x00;
    expect(d.push(pkt(3, noSync))).toEqual([]); // second TS packet without 0x47
    expect(d.push(pkt(4, Buffer.alloc(0)))).toEqual([]);
    // seq 5, 6 lost
    expect(d.push(pkt(7, tsPackets(1), 12000)).map((u) => u.timestamp)).toEqual([12000]);
    expect(d.push(pkt(7, tsPackets(1)))).toEqual([]); // duplicate
    expect(d.stats).toEqual({ packets: 6, stale: 1, lostPackets: 2, malformed: 3, units: 2, tsPackets: 8 });
  });

  it('round-trips random TS packet streams and never throws on random bytes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 188, max: 2000 }),
        fc.uint8Array({ maxLength: 600 }),
        (n, max, junk) => {
          const ts = tsPackets(n);
          const r = packetizeMp2t(ts, { maxPayloadSize: max });
          if (!r.ok) throw new Error(r.code);
          const d = new Mp2tDepacketizer();
          const units = r.value.flatMap((p, i) => {
            expect(p.payload.length).toBeLessThanOrEqual(Math.min(max, 1316));
            return d.push(pkt(i, p.payload));
          });
          expect(Buffer.concat(units.map((u) => u.data[0]!)).equals(ts)).toBe(true);
          d.push(pkt(1000, Buffer.from(junk)));
          const j = packetizeMp2t(Buffer.from(junk), { maxPayloadSize: max });
          if (junk.length === 0) expect(j.ok).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('MP2T SDP', () => {
  it('has static payload type 33 and a 90 kHz clock', () => {
    expect([MP2T_PAYLOAD_TYPE, mp2tRtpmap()]).toEqual([33, 'MP2T/90000']);
  });
});
