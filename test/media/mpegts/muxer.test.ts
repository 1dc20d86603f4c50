/**
 * TsMuxer behaviour, read back with the test's own TS reader: PSI placement and content, PCR,
 * random_access_indicator, H.264/H.265 access unit framing (AUD, parameter sets), ADTS and Opus
 * framing, error codes, and a property test that any access units round-trip.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TsMuxer, type TsAccessUnit } from '../../../src/media/mpegts/index.ts';
import { demux, splitAnnexBSimple } from './ts-parse.ts';

const hex = (s: string) => Buffer.from(s, 'hex');
const SPS = hex('674d401e'); // nal type 7 (content does not matter to the muxer)
const PPS = hex('68ee3c80'); // type 8
const IDR = hex('6588840021');
const SLICE = hex('419a2233');
const SEI = hex('0605ff');
const LC = { objectType: 2, sampleRate: 48000, channelConfiguration: 2 };

function ok<T>(r: { ok: true; value: T } | { ok: false; code: string }): T {
  if (!r.ok) throw new Error(r.code);
  return r.value;
}

function h264Muxer() {
  const m = new TsMuxer();
  const v = ok(m.addStream({ kind: 'h264', sps: [SPS], pps: [PPS] }));
  const a = ok(m.addStream({ kind: 'aac', config: LC }));
  return { m, v, a };
}

describe('TsMuxer: program tables', () => {
  it('numbers PIDs like ffmpeg and puts the PCR on the video PID even when audio came first', () => {
    const m = new TsMuxer();
    expect(ok(m.addStream({ kind: 'aac', config: LC }))).toBe(0x100);
    expect(ok(m.addStream({ kind: 'h264' }))).toBe(0x101);
    expect(m.pcrPid).toBe(0x101);
    expect(m.streams).toEqual([
      { pid: 0x100, kind: 'aac', streamType: 0x0f, streamId: 0xc0 },
      { pid: 0x101, kind: 'h264', streamType: 0x1b, streamId: 0xe0 },
    ]);
    expect(() => m.addStream({ kind: 'h264', pid: 0x100 })).toThrow(RangeError);
    expect(() => m.addStream({ kind: 'h264', pid: 0x1fff })).toThrow(RangeError);
  });

  it('writes PAT and PMT first, then before every video keyframe and every 100 ms of DTS', () => {
    const { m, v, a } = h264Muxer();
    const out: Buffer[] = [];
    const w = (pid: number, au: TsAccessUnit) => out.push(...ok(m.writeAccessUnit(pid, au)));
    w(v, { pts90k: 1000, keyframe: true, data: [IDR] }); // PSI (first)
    w(a, { pts90k: 1000, keyframe: true, data: hex('0102') }); // no PSI
    w(v, { pts90k: 4600, keyframe: false, data: [SLICE] }); // 3600 since: no
    w(v, { pts90k: 10000, keyframe: false, data: [SLICE] }); // 9000 since the last PSI: yes
    w(a, { pts90k: 10100, keyframe: true, data: hex('03') }); // no
    w(v, { pts90k: 11000, keyframe: true, data: [IDR] }); // keyframe: yes
    w(a, { pts90k: 500, keyframe: true, data: hex('04') }); // DTS went backwards: yes
    const d = demux(out);
    const order = d.packets.filter((p) => p.pusi).map((p) => (p.pid === 0 ? 'PAT' : p.pid === 0x1000 ? 'PMT' : p.pid === v ? 'V' : 'A'));
    expect(order).toEqual(['PAT', 'PMT', 'V', 'A', 'V', 'PAT', 'PMT', 'V', 'A', 'PAT', 'PMT', 'V', 'PAT', 'PMT', 'A']);
    const pmt = d.sections.get(0x1000)![0]!;
    expect(pmt.subarray(0, pmt.length - 4).toString('hex')).toBe('02b017' + '0001c10000' + 'e100' + 'f000' + '1be100f000' + '0fe101f000');
    expect(d.sections.get(0)![0]!.toString('hex')).toBe('00b00d0001c100000001f0002ab104b2');
  });

  it('bumps the PMT version when a stream is added after output started', () => {
    const m = new TsMuxer();
    const v = ok(m.addStream({ kind: 'h264' }));
    const first = ok(m.writeAccessUnit(v, { pts90k: 0, keyframe: false, data: [SLICE] }));
    const a = ok(m.addStream({ kind: 'aac', config: LC }));
    const second = ok(m.writeAccessUnit(a, { pts90k: 10, keyframe: true, data: hex('01') }));
    const d = demux([...first, ...second]);
    const pmts = d.sections.get(0x1000)!;
    expect(pmts.length).toBe(2);
    expect([(pmts[0]![5]! >> 1) & 0x1f, (pmts[1]![5]! >> 1) & 0x1f]).toEqual([0, 1]);
    expect(pmts[1]!.length).toBe(pmts[0]!.length + 5); // one more ES entry
  });
});

describe('TsMuxer: PES, PCR and random access', () => {
  it('carries PTS/DTS, PCR on the video keyframes and at least every 40 ms, RAI on keyframes', () => {
    const { m, v, a } = h264Muxer();
    const aus: [number, TsAccessUnit][] = [
      [v, { pts90k: 10800, dts90k: 3600, keyframe: true, data: [IDR] }],
      [a, { pts90k: 3000, keyframe: true, data: hex('aa') }],
      [v, { pts90k: 21600, dts90k: 7200, keyframe: false, data: [SLICE] }], // 3600 after the last PCR: PCR
      [v, { pts90k: 14400, dts90k: 9000, keyframe: false, data: [SLICE] }], // 1800 after: none
      [v, { pts90k: 18000, dts90k: 18000, keyframe: false, data: [SLICE] }], // dts = pts: no DTS field
    ];
    const d = demux(aus.flatMap(([pid, au]) => ok(m.writeAccessUnit(pid, au))));
    expect(d.pes.map((p) => [p.pid, p.streamId, p.pts, p.dts, p.pcr, p.randomAccess])).toEqual([
      [v, 0xe0, 10800n, 3600n, 3600n * 300n, true],
      [a, 0xc0, 3000n, undefined, undefined, true],
      [v, 0xe0, 21600n, 7200n, 7200n * 300n, false],
      [v, 0xe0, 14400n, 9000n, undefined, false],
      [v, 0xe0, 18000n, undefined, 18000n * 300n, false],
    ]);
    expect(d.pes.map((p) => [p.pesPacketLength, p.dataAlignment])).toEqual([
      [0, true],
      [3 + 5 + 7 + 1, true], // ADTS header + 1 byte
      [0, true],
      [0, true],
      [0, true],
    ]);
  });

  it('subtracts pcrDelay90k and wraps everything modulo 2^33', () => {
    const m = new TsMuxer({ pcrDelay90k: 9000 });
    const v = ok(m.addStream({ kind: 'h264' }));
    const d = demux(ok(m.writeAccessUnit(v, { pts90k: 2 ** 33 + 7200, dts90k: 2 ** 33 + 3600, keyframe: true, data: [IDR] })));
    expect([d.pes[0]!.pts, d.pes[0]!.dts, d.pes[0]!.pcr]).toEqual([7200n, 3600n, (2n ** 33n - 5400n) * 300n]);
  });
});

describe('TsMuxer: H.264 access units', () => {
  const esOf = (pkts: Buffer[]) => demux(pkts).pes.map((p) => splitAnnexBSimple(p.payload).map((n) => n.toString('hex')));

  it('starts every AU with an AUD and puts SPS/PPS before an IDR that lacks them', () => {
    const { m, v } = h264Muxer();
    const es = esOf([
      ...ok(m.writeAccessUnit(v, { pts90k: 0, keyframe: true, data: [SEI, IDR] })),
      ...ok(m.writeAccessUnit(v, { pts90k: 3600, keyframe: false, data: [SLICE] })),
    ]);
    expect(es).toEqual([
      ['09f0', SPS.toString('hex'), PPS.toString('hex'), SEI.toString('hex'), IDR.toString('hex')],
      ['09f0', SLICE.toString('hex')],
    ]);
  });

  it('keeps the AU own parameter sets (no duplicates), drops stray AUDs, and learns in-band SPS/PPS', () => {
    const { m, v } = h264Muxer();
    const sps2 = hex('674d401f99');
    const pps2 = hex('68ef');
    const es = esOf([
      ...ok(m.writeAccessUnit(v, { pts90k: 0, keyframe: true, data: [hex('09f0'), sps2, pps2, IDR] })),
      ...ok(m.writeAccessUnit(v, { pts90k: 3600, keyframe: false, data: [SLICE, hex('0910')] })),
      ...ok(m.writeAccessUnit(v, { pts90k: 7200, keyframe: false, data: [IDR] })), // IDR not flagged: still gets them
    ]);
    expect(es).toEqual([
      ['09f0', sps2.toString('hex'), pps2.toString('hex'), IDR.toString('hex')],
      ['09f0', SLICE.toString('hex')],
      ['09f0', sps2.toString('hex'), pps2.toString('hex'), IDR.toString('hex')],
    ]);
  });

  it('copies the input: the caller may reuse its buffers', () => {
    const { m, v } = h264Muxer();
    const slice = Buffer.from(SLICE);
    const pkts = ok(m.writeAccessUnit(v, { pts90k: 0, keyframe: false, data: [slice] }));
    slice.fill(0);
    expect(esOf(pkts)[0]).toEqual(['09f0', SLICE.toString('hex')]);
  });
});

describe('TsMuxer: H.265 and Opus', () => {
  it('H.265: AUD 46 01 50 and VPS/SPS/PPS before an IRAP', () => {
    const m = new TsMuxer();
    const vps = hex('40010c01');
    const sps = hex('42010101');
    const pps = hex('4401c172');
    const cra = hex('2a01af'); // type 21 (CRA)
    const trail = hex('0201d0'); // type 1
    const v = ok(m.addStream({ kind: 'h265', vps: [vps], sps: [sps], pps: [pps] }));
    const d = demux([...ok(m.writeAccessUnit(v, { pts90k: 0, keyframe: false, data: [cra] })), ...ok(m.writeAccessUnit(v, { pts90k: 1, keyframe: false, data: [trail] }))]);
    expect(d.sections.get(0x1000)![0]!.subarray(12, 17).toString('hex')).toBe('24e100f000');
    expect(d.pes.map((p) => splitAnnexBSimple(p.payload).map((n) => n.toString('hex')))).toEqual([
      ['460150', '40010c01', '42010101', '4401c172', '2a01af'],
      ['460150', '0201d0'],
    ]);
    expect(d.pes[0]!.randomAccess).toBe(true);
  });

  it('Opus: private stream 0xBD, registration and extension descriptors, control header', () => {
    const m = new TsMuxer();
    const o = ok(m.addStream({ kind: 'opus', channels: 2 }));
    const frame = Buffer.alloc(300, 0x5a);
    const d = demux(ok(m.writeAccessUnit(o, { pts90k: 0, keyframe: true, data: frame })));
    // stream_type 6 | PID 0x100 | ES_info_length 10 | 05 04 'Opus' | 7F 02 80 02
    expect(d.sections.get(0x1000)![0]!.subarray(12, 27).toString('hex')).toBe('06e100f00a' + '05044f707573' + '7f028002');
    expect(d.pes[0]!.streamId).toBe(0xbd);
    // 7F E0 | au_size 300 = 255 + 45: FF 2D
    expect(d.pes[0]!.payload.subarray(0, 4).toString('hex')).toBe('7fe0ff2d');
    expect(d.pes[0]!.payload.subarray(4)).toEqual(frame);
  });
});

describe('TsMuxer: errors', () => {
  it('returns codes for what the network can send', () => {
    const { m, v, a } = h264Muxer();
    expect(m.writeAccessUnit(v, { pts90k: 0, keyframe: true, data: [] })).toMatchObject({ ok: false, code: 'TS_ERR_EMPTY_ACCESS_UNIT' });
    expect(m.writeAccessUnit(a, { pts90k: 0, keyframe: true, data: Buffer.alloc(0) })).toMatchObject({ ok: false, code: 'TS_ERR_EMPTY_ACCESS_UNIT' });
    expect(m.writeAccessUnit(a, { pts90k: 0, keyframe: true, data: Buffer.alloc(8185) })).toMatchObject({ ok: false, code: 'TS_ERR_ADTS_FRAME_TOO_LARGE' });
    expect(m.writeAccessUnit(a, { pts90k: 0, keyframe: true, data: Buffer.alloc(8184) }).ok).toBe(true);
    expect(m.addStream({ kind: 'aac', config: { objectType: 2, sampleRate: 12345, channelConfiguration: 2 } })).toMatchObject({ ok: false, code: 'TS_ERR_ADTS_UNSUPPORTED_RATE' });
    expect(m.addStream({ kind: 'opus', channels: 9 })).toMatchObject({ ok: false, code: 'TS_ERR_OPUS_UNSUPPORTED_CHANNELS' });
  });

  it('throws for API misuse', () => {
    const { m, v, a } = h264Muxer();
    expect(() => m.writeAccessUnit(0x999, { pts90k: 0, keyframe: true, data: [IDR] })).toThrow(RangeError);
    expect(() => m.writeAccessUnit(v, { pts90k: NaN, keyframe: true, data: [IDR] })).toThrow(RangeError);
    expect(() => m.writeAccessUnit(v, { pts90k: 0, keyframe: true, data: IDR })).toThrow(TypeError);
    expect(() => m.writeAccessUnit(a, { pts90k: 0, keyframe: true, data: [IDR] })).toThrow(TypeError);
    expect(() => new TsMuxer().psiPackets()).toThrow();
  });
});

describe('TsMuxer: property', () => {
  const nal = fc.tuple(fc.constantFrom(1, 5, 6), fc.uint8Array({ minLength: 1, maxLength: 700 })).map(([t, body]) => {
    // No 00 00 0x sequences inside, as in a real (emulation-prevented) NAL unit.
    const b = Buffer.from([t, ...body.map((x) => (x < 4 ? x + 4 : x))]);
    return b;
  });
  const au = fc.record({
    video: fc.boolean(),
    pts: fc.integer({ min: -(2 ** 34), max: 2 ** 40 }),
    delta: fc.integer({ min: 0, max: 90000 }),
    keyframe: fc.boolean(),
    nalus: fc.array(nal, { minLength: 1, maxLength: 4 }),
    frame: fc.uint8Array({ minLength: 1, maxLength: 2000 }),
  });
  it('any access units come back with their timestamps (mod 2^33) and bytes, CCs continuous', () => {
    fc.assert(
      fc.property(fc.array(au, { minLength: 1, maxLength: 25 }), (list) => {
        const { m, v, a } = h264Muxer();
        const pkts = list.flatMap((x) =>
          ok(m.writeAccessUnit(x.video ? v : a, { pts90k: x.pts, dts90k: x.pts - x.delta, keyframe: x.keyframe, data: x.video ? x.nalus : x.frame })),
        );
        const d = demux(pkts); // throws on CC gaps, bad stuffing, bad markers
        expect(d.pes.length).toBe(list.length);
        const mod = (t: number) => BigInt(((t % 2 ** 33) + 2 ** 33) % 2 ** 33);
        list.forEach((x, i) => {
          const p = d.pes[i]!;
          expect(p.pts).toBe(mod(x.pts));
          expect(p.dts ?? p.pts).toBe(mod(x.pts - x.delta));
          if (x.video) {
            const nals = splitAnnexBSimple(p.payload).filter((n) => (n[0]! & 0x1f) !== 7 && (n[0]! & 0x1f) !== 8);
            expect(nals.map((n) => n.toString('hex'))).toEqual(['09f0', ...x.nalus.map((n) => n.toString('hex'))]);
          } else {
            expect(p.payload.subarray(7)).toEqual(Buffer.from(x.frame));
            const b = p.payload;
            expect(b.subarray(0, 3).toString('hex')).toBe('fff14c');
            expect(((b[3]! & 3) << 11) | (b[4]! << 3) | (b[5]! >> 5)).toBe(x.frame.length + 7); // aac_frame_length
          }
        });
      }),
      { numRuns: 200 },
    );
  });
});
