import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  isKeyframeNal,
  nalType,
  NalType,
  splitAnnexB,
  splitLengthPrefixed,
  toAnnexB,
  toLengthPrefixed,
  type ParseResult,
} from '../../src/codecs/index.ts';
import { MP4_H264_SAMPLES } from './gstreamer-vectors.ts';
import { hex } from './helpers.ts';

const hexList = (r: ParseResult<Buffer[]>): string[] | string => (r.ok ? r.value.map((b) => b.toString('hex')) : r.code);

describe('splitLengthPrefixed', () => {
  it.each([
    [4, hex('00000002 0601 | 00000003 658884'), ['0601', '658884']],
    [2, hex('0002 0601 | 0001 41'), ['0601', '41']],
    [1, hex('02 0601 | 00 | 01 41'), ['0601', '41']], // a zero-length entry is skipped
    [4, hex(''), []],
  ])('splits %i-byte lengths', (size, sample, expected) => {
    expect(hexList(splitLengthPrefixed(sample, size))).toEqual(expected);
  });

  it('returns views, not copies', () => {
    const sample = hex('00000002 0601');
    const r = splitLengthPrefixed(sample, 4);
    expect(r.ok && r.value[0]!.buffer === sample.buffer).toBe(true);
  });

  it.each([
    [hex('00000003 0601'), 'CODEC_ERR_NAL_LENGTH_OVERRUN'],
    [hex('00000001 06 | 0000'), 'CODEC_ERR_TRUNCATED'],
  ])('rejects bad samples with a code', (sample, code) => {
    expect(splitLengthPrefixed(sample, 4)).toMatchObject({ ok: false, code });
  });

  it('splits the real samples, and toLengthPrefixed rebuilds them byte for byte', () => {
    for (const s of MP4_H264_SAMPLES) {
      const sample = hex(s);
      const r = splitLengthPrefixed(sample, 4);
      if (!r.ok) throw new Error(r.code);
      expect(toLengthPrefixed(r.value, 4).equals(sample)).toBe(true);
    }
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(1, 2, 3, 4), (b, size) => {
        splitLengthPrefixed(Buffer.from(b), size);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('splitAnnexB / toAnnexB', () => {
  it('splits 3- and 4-byte start codes and drops trailing zero bytes', () => {
    const stream = hex('00000001 6764 | 000001 68ee | 0000 | 00000001 6588 | 000000');
    expect(hexList(splitAnnexB(stream))).toEqual(['6764', '68ee', '6588']);
  });

  it('skips empty NAL units and accepts leading zero bytes', () => {
    expect(hexList(splitAnnexB(hex('0000 000001 | 000001 4101')))).toEqual(['4101']);
    expect(hexList(splitAnnexB(hex('')))).toEqual([]);
  });

  it('requires a start code at the beginning', () => {
    expect(splitAnnexB(hex('4101 000001 4102'))).toMatchObject({ ok: false, code: 'CODEC_ERR_ANNEXB_NO_START_CODE' });
    expect(splitAnnexB(hex('000000'))).toMatchObject({ ok: false, code: 'CODEC_ERR_ANNEXB_NO_START_CODE' });
  });

  it('writes 4-byte start codes', () => {
    expect(toAnnexB([hex('6764'), hex('68ee')]).toString('hex')).toBe('00000001676400000001' + '68ee');
  });

  it('round-trips NAL units without start-code emulation and not ending in 00', () => {
    const nal = fc
      .uint8Array({ minLength: 1, maxLength: 40 })
      .filter((b) => b[b.length - 1] !== 0 && !Buffer.from(b).includes(Buffer.of(0, 0)));
    fc.assert(
      fc.property(fc.array(nal, { maxLength: 8 }), (nalus) => {
        const bufs = nalus.map((n) => Buffer.from(n));
        expect(hexList(splitAnnexB(toAnnexB(bufs)))).toEqual(bufs.map((b) => b.toString('hex')));
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => void splitAnnexB(Buffer.from(b))),
      { numRuns: 1000 },
    );
  });
});

describe('NAL types', () => {
  it('reads the type from the low 5 bits', () => {
    expect(nalType(hex('65'))).toBe(NalType.IDR_SLICE);
    expect(nalType(hex('7c'))).toBe(NalType.FU_A);
    expect(nalType(hex(''))).toBe(-1);
    expect(isKeyframeNal(hex('25 88'))).toBe(true); // NRI=1 type=5
    expect(isKeyframeNal(hex('67 42'))).toBe(false); // an SPS alone is not a keyframe
  });

  it('rejects a length size it cannot write', () => {
    expect(() => toLengthPrefixed([Buffer.alloc(256)], 1)).toThrow(RangeError);
  });
});
