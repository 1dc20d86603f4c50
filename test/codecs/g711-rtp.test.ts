import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { G711Depacketizer, g711PayloadType, g711Rtpmap, packetizeG711 } from '../../src/codecs/g711/index.ts';
import type { RtpPayloadInput } from '../../src/codecs/types.ts';
import { hex } from './helpers.ts';

const pkt = (sequence: number, timestamp: number, payload: Buffer): RtpPayloadInput => ({ sequence, timestamp, marker: false, payload });

describe('packetizeG711 (RFC 3551 §4.5.14: one byte per sample, 8000 Hz)', () => {
  it('cuts 20 ms packets (160 bytes) with their timestamp offsets, the last one shorter', () => {
    const samples = Buffer.alloc(400);
    for (let i = 0; i < 400; i++) samples[i] = i & 0xff;
    const out = packetizeG711(samples, { maxPayloadSize: 1400 });
    expect(out.map((p) => [p.payload.length, p.timestampOffset, p.marker, p.payload[0]])).toEqual([
      [160, 0, false, 0],
      [160, 160, false, 160],
      [80, 320, false, 320 & 0xff],
    ]);
    expect(out[1]!.payload.buffer).toBe(samples.buffer); // views
  });

  it('uses samplesPerPacket (10 ms = 80 bytes) and checks it against maxPayloadSize', () => {
    expect(
      packetizeG711(hex('ff7f 0080 d5'), { maxPayloadSize: 2, samplesPerPacket: 2 }).map((p) => [
        p.payload.toString('hex'),
        p.timestampOffset,
      ]),
    ).toEqual([
      ['ff7f', 0], // µ-law silence 0xff, 0x7f
      ['0080', 2],
      ['d5', 4], // A-law silence
    ]);
    expect(packetizeG711(Buffer.alloc(160), { maxPayloadSize: 100, samplesPerPacket: 80 })).toHaveLength(2);
    expect(packetizeG711(Buffer.alloc(0), { maxPayloadSize: 1400 })).toEqual([]);
    expect(() => packetizeG711(Buffer.alloc(320), { maxPayloadSize: 100 })).toThrow(RangeError); // 160 > 100
    expect(() => packetizeG711(Buffer.alloc(320), { maxPayloadSize: 100, samplesPerPacket: 0 })).toThrow(RangeError);
  });
});

describe('G711Depacketizer', () => {
  it('passes payloads through at their timestamps and counts losses', () => {
    const d = new G711Depacketizer();
    expect(d.push(pkt(65534, 0, hex('ff ff')))).toEqual([{ timestamp: 0, data: [hex('ffff')], keyframe: true, complete: true }]);
    // extended sequence 65535 lost
    expect(d.push(pkt(65536, 320, hex('7f')))).toEqual([{ timestamp: 320, data: [hex('7f')], keyframe: true, complete: true }]);
    expect(d.push(pkt(65536, 320, hex('7f')))).toEqual([]); // duplicate
    expect(d.push(pkt(65537, 480, Buffer.alloc(0)))).toEqual([]);
    expect(d.flush()).toEqual([]);
    expect(d.stats).toEqual({ packets: 4, stale: 1, lostPackets: 1, malformed: 1, units: 2, samples: 3 });
  });

  it('round-trips random samples: timestamps = offsets, bytes rejoined', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.integer({ min: 1, max: 400 }), fc.nat(0xffffff), (raw, n, base) => {
        const samples = Buffer.from(raw);
        const d = new G711Depacketizer();
        const units = packetizeG711(samples, { maxPayloadSize: 400, samplesPerPacket: n }).flatMap((p, i) =>
          d.push(pkt(i, base + p.timestampOffset, p.payload)),
        );
        expect(Buffer.concat(units.map((u) => u.data[0]!)).equals(samples)).toBe(true);
        units.forEach((u, i) => expect(u.timestamp).toBe(base + i * n));
        expect(d.stats.samples).toBe(samples.length);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on random input', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 20 }), fc.integer({ min: -2, max: 3 })), { maxLength: 30 }), (items) => {
        const d = new G711Depacketizer();
        let seq = 0;
        for (const [b, step] of items) d.push(pkt((seq += step), 0, Buffer.from(b)));
        expect(d.stats.packets).toBe(items.length);
      }),
      { numRuns: 500 },
    );
  });
});

describe('G.711 SDP (RFC 3551 Table 4)', () => {
  it('has static payload types 0 and 8 and clock 8000', () => {
    expect([g711PayloadType('PCMU'), g711Rtpmap('PCMU')]).toEqual([0, 'PCMU/8000']);
    expect([g711PayloadType('PCMA'), g711Rtpmap('PCMA')]).toEqual([8, 'PCMA/8000']);
  });
});
