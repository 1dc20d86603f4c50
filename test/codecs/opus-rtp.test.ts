import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  OpusDepacketizer,
  opusFmtp,
  opusPacketDurationSamples,
  opusRtpmap,
  packetizeOpus,
  parseOpusFmtp,
  parseOpusToc,
} from '../../src/codecs/opus/index.ts';
import type { RtpPayloadInput } from '../../src/codecs/types.ts';
import { hex } from './helpers.ts';

const pkt = (sequence: number, timestamp: number, payload: string): RtpPayloadInput => ({
  sequence,
  timestamp,
  marker: false,
  payload: hex(payload),
});

describe('opusPacketDurationSamples (RFC 6716 §3.1, Table 2; samples at 48 kHz = ms × 48)', () => {
  it.each([
    // TOC = config(5) | s(1) | c(2)
    ['00', 10 * 48], // config 0 SILK NB 10 ms | s=0 | c=0 one frame
    ['08', 20 * 48], // config 1 SILK NB 20 ms
    ['10', 40 * 48], // config 2 SILK NB 40 ms
    ['18', 60 * 48], // config 3 SILK NB 60 ms
    ['20', 10 * 48], // config 4 SILK MB 10 ms
    ['58', 60 * 48], // config 11 SILK WB 60 ms
    ['60', 10 * 48], // config 12 Hybrid SWB 10 ms
    ['78', 20 * 48], // config 15 Hybrid FB 20 ms
    ['80', 2.5 * 48], // config 16 CELT NB 2.5 ms
    ['88', 5 * 48], // config 17 CELT NB 5 ms
    ['a0', 2.5 * 48], // config 20 CELT WB 2.5 ms
    ['f8', 20 * 48], // config 31 CELT FB 20 ms, mono (libopus default)
    ['fc', 20 * 48], // config 31, s=1 stereo, c=0
    ['fd 0102', 2 * 20 * 48], // c=1: two frames of equal size
    ['fe 01 0203', 2 * 20 * 48], // c=2: two frames of different sizes
    ['ff 03', 3 * 20 * 48], // c=3 | v=0 p=0 M=3
    ['ff c2', 2 * 20 * 48], // c=3 | v=1 p=1 M=2
    ['ff 06', 120 * 48], // c=3 M=6 × 20 ms = 120 ms, the maximum
    ['1b 02', 120 * 48], // config 3 (60 ms) c=3 M=2 = 120 ms
    ['83 30', 48 * 2.5 * 48], // config 16 (2.5 ms) c=3 M=48 = 120 ms
  ])('TOC %s → %i samples', (bytes, samples) => {
    expect(opusPacketDurationSamples(hex(bytes))).toEqual({ ok: true, value: samples });
  });

  it.each([
    ['', 'CODEC_ERR_TRUNCATED'], // empty packet
    ['ff', 'CODEC_ERR_TRUNCATED'], // c=3 without the frame count byte
    ['ff 00', 'CODEC_ERR_OPUS_BAD_FRAME_COUNT'], // M=0
    ['ff 07', 'CODEC_ERR_OPUS_BAD_FRAME_COUNT'], // 7 × 20 ms = 140 ms > 120
    ['1b 03', 'CODEC_ERR_OPUS_BAD_FRAME_COUNT'], // 3 × 60 ms
    ['83 31', 'CODEC_ERR_OPUS_BAD_FRAME_COUNT'], // 49 × 2.5 ms
  ])('rejects %s with %s', (bytes, code) => {
    expect(opusPacketDurationSamples(hex(bytes))).toMatchObject({ ok: false, code });
  });

  it('reads the TOC fields', () => {
    expect(parseOpusToc(0xfd)).toEqual({ config: 31, stereo: true, code: 1, frameSamples: 960 });
    expect(parseOpusToc(0x62)).toEqual({ config: 12, stereo: false, code: 2, frameSamples: 480 });
  });

  it('never throws on random bytes, and gives a whole number of 2.5 ms steps up to 120 ms', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4 }), (b) => {
        const r = opusPacketDurationSamples(Buffer.from(b));
        if (r.ok) {
          expect(r.value % 120).toBe(0);
          expect(r.value).toBeGreaterThan(0);
          expect(r.value).toBeLessThanOrEqual(5760);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('packetizeOpus (RFC 7587 §4.2)', () => {
  it('sends each Opus packet as its own payload, unchanged, marker 0', () => {
    const a = hex('f8 fffe'); // TOC config 31 c=0 | frame
    const b = hex('fc 0102 03');
    const r = packetizeOpus([a, b], { maxPayloadSize: 4 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.map((p) => [p.payload.toString('hex'), p.marker])).toEqual([
      ['f8fffe', false],
      ['fc010203', false],
    ]);
    expect(r.value[0]!.payload.buffer).toBe(a.buffer); // a view, not a copy
  });

  it('fails with a code on a packet over the limit or an empty one (no fragmentation in Opus)', () => {
    expect(packetizeOpus([hex('f8'), hex('f8 0102 0304')], { maxPayloadSize: 4 })).toMatchObject({
      ok: false,
      code: 'CODEC_ERR_OPUS_PACKET_TOO_LARGE',
      offset: 1,
    });
    expect(packetizeOpus([Buffer.alloc(0)], { maxPayloadSize: 4 })).toMatchObject({ ok: false, code: 'CODEC_ERR_TRUNCATED', offset: 0 });
    expect(() => packetizeOpus([hex('f8')], { maxPayloadSize: 0 })).toThrow(RangeError);
    expect(packetizeOpus([], { maxPayloadSize: 1 })).toEqual({ ok: true, value: [] });
  });
});

describe('OpusDepacketizer', () => {
  it('hands on one unit per payload at the packet timestamp and counts losses', () => {
    const d = new OpusDepacketizer();
    expect(d.push(pkt(10, 0, 'f8 01'))).toEqual([{ timestamp: 0, data: [hex('f801')], keyframe: true, complete: true }]);
    // seq 11 and 12 (timestamps 960, 1920) lost
    expect(d.push(pkt(13, 2880, 'f8 02')).map((u) => u.timestamp)).toEqual([2880]);
    expect(d.push(pkt(13, 2880, 'f8 02'))).toEqual([]); // duplicate
    expect(d.push(pkt(12, 1920, 'f8 03'))).toEqual([]); // late
    expect(d.push(pkt(14, 3840, ''))).toEqual([]); // empty
    expect(d.flush()).toEqual([]);
    expect(d.stats).toEqual({ packets: 5, stale: 2, lostPackets: 2, malformed: 1, units: 2 });
  });

  it('round-trips random Opus packets and never throws on random input', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 60 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: -1, max: 3 }), { maxLength: 20 }),
        (raw, steps) => {
          const d = new OpusDepacketizer();
          let seq = 100;
          raw.forEach((b, i) => {
            seq += steps[i] ?? 1;
            d.push({ payload: Buffer.from(b), sequence: seq, timestamp: i * 960, marker: false });
          });
          const packets = raw.filter((b) => b.length > 0).map((b) => Buffer.from(b));
          const r = packetizeOpus(packets, { maxPayloadSize: 60 });
          if (!r.ok) throw new Error(r.code);
          const e = new OpusDepacketizer();
          const units = r.value.flatMap((p, i) => e.push({ ...p, sequence: i, timestamp: i * 960 }));
          expect(units.map((u) => u.data[0]!.toString('hex'))).toEqual(packets.map((b) => b.toString('hex')));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('Opus SDP (RFC 7587 §7)', () => {
  it('always maps opus/48000/2, stereo in the fmtp', () => {
    expect(opusRtpmap()).toBe('opus/48000/2');
    expect(opusFmtp({ channels: 2 })).toBe('sprop-stereo=1;stereo=1');
    expect(opusFmtp({ channels: 1 })).toBe('sprop-stereo=0;stereo=0');
  });

  it('parses the fmtp (RFC 7587 §7 example) and rejects bad flags', () => {
    const r = parseOpusFmtp(
      'maxplaybackrate=16000; sprop-maxcapturerate=16000; maxaveragebitrate=20000; stereo=1; useinbandfec=1; usedtx=0',
    );
    expect(r).toMatchObject({
      ok: true,
      value: {
        stereo: true,
        spropStereo: false,
        useInbandFec: true,
        useDtx: false,
        cbr: false,
        maxPlaybackRate: 16000,
        spropMaxCaptureRate: 16000,
        maxAverageBitrate: 20000,
      },
    });
    expect(parseOpusFmtp(opusFmtp({ channels: 2 }))).toMatchObject({ ok: true, value: { stereo: true, spropStereo: true } });
    expect(parseOpusFmtp('')).toMatchObject({ ok: true, value: { stereo: false, spropStereo: false } });
    expect(parseOpusFmtp('stereo=yes')).toMatchObject({ ok: false, code: 'CODEC_ERR_FMTP_BAD_PARAM' });
    expect(parseOpusFmtp('maxaveragebitrate=-1')).toMatchObject({ ok: false, code: 'CODEC_ERR_FMTP_BAD_PARAM' });
  });

  it('never throws on random fmtp text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => void parseOpusFmtp(s)),
      { numRuns: 500 },
    );
  });
});
