/**
 * MPEG audio (MP1/MP2/MP3) in TsMuxer: stream_type 0x03 for MPEG-1 frames and 0x04 for MPEG-2 and
 * MPEG-2.5 lower sampling rates (ISO/IEC 13818-1 Table 2-34), the PES stream_id 0xC0, the frame
 * as the PES payload unchanged, the PTS, and a PMT re-sent with a new version when the first frame
 * says otherwise than the PMT already out. Read back with the test's own TS reader.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TsMuxer } from '../../../src/media/mpegts/index.ts';
import { demux } from './ts-parse.ts';

function ok<T>(r: { ok: true; value: T } | { ok: false; code: string }): T {
  if (!r.ok) throw new Error(r.code);
  return r.value;
}

// Frame headers (ISO/IEC 11172-3 §2.4.1.3): sync 11 bits, version, layer, ...
const MPEG1_L3 = Buffer.from('fffb9064', 'hex'); // version bits 11: MPEG-1, Layer III, 128 kbit/s, 44.1 kHz
const MPEG2_L3 = Buffer.from('fff39064', 'hex'); // version bits 10: MPEG-2 (LSF)
const MPEG25_L3 = Buffer.from('ffe39064', 'hex'); // version bits 00: MPEG-2.5
const frame = (header: Buffer, n = 20) => Buffer.concat([header, Buffer.alloc(n, 0x55)]);

/** (stream_type, PID) pairs and the version of a PMT section. */
function pmt(section: Buffer): { version: number; streams: [number, number][] } {
  const version = (section[5]! >> 1) & 0x1f;
  const sectionLength = ((section[1]! & 0x0f) << 8) | section[2]!;
  const end = 3 + sectionLength - 4; // before the CRC
  let off = 12 + (((section[10]! & 0x0f) << 8) | section[11]!);
  const streams: [number, number][] = [];
  while (off < end) {
    streams.push([section[off]!, ((section[off + 1]! & 0x1f) << 8) | section[off + 2]!]);
    off += 5 + (((section[off + 3]! & 0x0f) << 8) | section[off + 4]!);
  }
  return { version, streams };
}

describe('TsMuxer: MPEG audio', () => {
  it.each([
    ['MPEG-1', MPEG1_L3, 0x03],
    ['MPEG-2', MPEG2_L3, 0x04],
    ['MPEG-2.5', MPEG25_L3, 0x04],
  ])('%s frames: stream_type from the first frame, stream_id 0xC0, the frame as payload, PTS', (_n, header, type) => {
    const m = new TsMuxer();
    const pid = ok(m.addStream({ kind: 'mpa' }));
    const f = frame(header);
    const d = demux(ok(m.writeAccessUnit(pid, { pts90k: 123456, keyframe: true, data: f })));
    expect(pmt(d.sections.get(0x1000)![0]!).streams).toEqual([[type, pid]]);
    expect(d.pes).toHaveLength(1);
    expect(d.pes[0]).toMatchObject({ pid, streamId: 0xc0, pts: 123456n, randomAccess: true });
    expect(d.pes[0]!.dts).toBeUndefined();
    expect(d.pes[0]!.payload).toEqual(f);
    expect(d.pes[0]!.pesPacketLength).toBe(3 + 5 + f.length); // flags, header length, PTS, frame
  });

  it('a given version wins; a PMT already sent with 0x03 is re-sent as version 1 with 0x04', () => {
    const fixed = new TsMuxer();
    const p = ok(fixed.addStream({ kind: 'mpa', version: 1 }));
    const d0 = demux(ok(fixed.writeAccessUnit(p, { pts90k: 0, keyframe: true, data: frame(MPEG2_L3) })));
    expect(pmt(d0.sections.get(0x1000)![0]!).streams).toEqual([[0x03, p]]);

    const m = new TsMuxer();
    const v = ok(m.addStream({ kind: 'h264' }));
    const a = ok(m.addStream({ kind: 'mpa' }));
    const out = [...ok(m.writeAccessUnit(v, { pts90k: 0, keyframe: true, data: [Buffer.from('6588', 'hex')] }))];
    out.push(...ok(m.writeAccessUnit(a, { pts90k: 10, keyframe: true, data: frame(MPEG2_L3) })));
    out.push(...ok(m.writeAccessUnit(a, { pts90k: 20, keyframe: true, data: frame(MPEG2_L3) })));
    const tables = demux(out).sections.get(0x1000)!.map(pmt);
    expect(tables).toEqual([
      { version: 0, streams: [[0x1b, v], [0x03, a]] },
      { version: 1, streams: [[0x1b, v], [0x04, a]] },
    ]);
  });

  it('any frames round-trip byte for byte with their PTS', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 3000 }), fc.integer({ min: 0, max: 2 ** 33 - 1 })), { minLength: 1, maxLength: 8 }), (frames) => {
        const m = new TsMuxer();
        const pid = ok(m.addStream({ kind: 'mpa' }));
        const out = frames.flatMap(([data, pts]) => ok(m.writeAccessUnit(pid, { pts90k: pts, keyframe: true, data })));
        const d = demux(out);
        expect(d.pes.map((p) => [Buffer.from(p.payload), Number(p.pts)])).toEqual(frames.map(([data, pts]) => [Buffer.from(data), pts]));
      }),
      { numRuns: 200 },
    );
  });
});
