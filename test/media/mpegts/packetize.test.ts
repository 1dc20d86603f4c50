/**
 * PES → TS packets: adaptation field and stuffing lengths for every PES size around the packet
 * boundaries, with and without random_access_indicator and PCR, checked with the test's own
 * TS reader.
 */
import { describe, expect, it } from 'vitest';
import { packetizePes } from '../../../src/media/mpegts/index.ts';
import { parsePacket } from './ts-parse.ts';

function pes(len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (i * 7 + 3) & 0xff;
  return b;
}

describe('packetizePes', () => {
  // [PES bytes, options, expected per-packet (afc, adaptation_field_length or -, payload bytes)]
  const rows: [number, 'none' | 'rai' | 'pcr', [number, number | null, number][]][] = [
    [184, 'none', [[1, null, 184]]], // exactly one payload
    [183, 'none', [[3, 0, 183]]], // one byte short: adaptation_field_length 0, no flags byte
    [182, 'none', [[3, 1, 182]]], // two short: length 1 = the flags byte, no stuffing
    [181, 'none', [[3, 2, 181]]], // flags + one 0xFF
    [1, 'none', [[3, 182, 1]]],
    [185, 'none', [[1, null, 184], [3, 182, 1]]],
    [368, 'none', [[1, null, 184], [1, null, 184]]],
    [369, 'none', [[1, null, 184], [1, null, 184], [3, 182, 1]]],
    [367, 'none', [[1, null, 184], [3, 0, 183]]],
    [182, 'rai', [[3, 1, 182]]], // flags byte with RAI, payload fills the rest
    [183, 'rai', [[3, 1, 182], [3, 182, 1]]],
    [184, 'rai', [[3, 1, 182], [3, 181, 2]]],
    [176, 'pcr', [[3, 7, 176]]], // flags + PCR = 7
    [175, 'pcr', [[3, 8, 175]]],
    [177, 'pcr', [[3, 7, 176], [3, 182, 1]]],
    [360, 'pcr', [[3, 7, 176], [1, null, 184]]],
  ];
  it.each(rows)('%i bytes, %s', (len, mode, expected) => {
    const opts = mode === 'pcr' ? { pid: 0x100, cc: 14, randomAccess: true, pcr90k: 123456 } : { pid: 0x100, cc: 14, randomAccess: mode === 'rai' };
    const r = packetizePes([pes(len)], opts);
    const views = r.packets.map(parsePacket);
    expect(views.map((v) => [v.afc, v.afLength ?? null, v.payload.length])).toEqual(expected);
    expect(views.map((v) => v.cc)).toEqual(expected.map((_, i) => (14 + i) & 15));
    expect(r.cc).toBe((14 + expected.length) & 15);
    expect(views.map((v) => v.pusi)).toEqual(expected.map((_, i) => i === 0));
    expect(views[0]!.randomAccess).toBe(mode !== 'none');
    expect(views[0]!.pcr).toBe(mode === 'pcr' ? 123456n * 300n : undefined);
    expect(Buffer.concat(views.map((v) => v.payload))).toEqual(pes(len));
  });

  it('every size from 1 to 600 (split over chunks) reassembles, with the expected packet count', () => {
    for (const mode of ['none', 'rai', 'pcr'] as const) {
      const firstCap = mode === 'pcr' ? 176 : mode === 'rai' ? 182 : 184;
      for (let len = 1; len <= 600; len++) {
        const data = pes(len);
        const cut = Math.floor(len / 3);
        const chunks = [data.subarray(0, cut), Buffer.alloc(0), data.subarray(cut, cut + 5), data.subarray(cut + 5)];
        const opts = mode === 'pcr' ? { pid: 0x1abc, cc: 0, randomAccess: false, pcr90k: 0 } : { pid: 0x1abc, cc: 0, randomAccess: mode === 'rai' };
        const r = packetizePes(chunks, opts);
        const expectedCount = len <= firstCap ? 1 : 1 + Math.ceil((len - firstCap) / 184);
        expect(r.packets.length).toBe(expectedCount);
        const views = r.packets.map(parsePacket);
        for (const v of views) expect(v.pid).toBe(0x1abc);
        expect(Buffer.concat(views.map((v) => v.payload))).toEqual(data);
      }
    }
  });
});
