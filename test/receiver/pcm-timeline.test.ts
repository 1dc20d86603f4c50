/**
 * PcmTimeline: the raw G.711 stream cut from received units, narrated sample by sample (8 kHz
 * mono, 4-sample units unless said): contiguous units are copied, a gap becomes silence of the
 * law, an overlap is skipped, a jump no loss explains is a discontinuity; stereo counts frames.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { G711_SILENCE, PCM_MAX_FILL_SEC, PcmTimeline } from '../../src/receiver/index.ts';

const bytes = (...v: number[]) => Buffer.from(v);
const join = (b: Buffer[]) => Buffer.concat(b);

describe('PcmTimeline', () => {
  it('copies contiguous units, fills a lost unit with µ-law silence, skips an overlap', () => {
    const t = new PcmTimeline({ rate: 8000, channels: 1, silence: G711_SILENCE.pcmu });
    expect(join(t.push(1000, bytes(1, 2, 3, 4)))).toEqual(bytes(1, 2, 3, 4)); // samples 0..3
    expect(join(t.push(1004, bytes(5, 6, 7, 8)))).toEqual(bytes(5, 6, 7, 8)); // 4..7
    // 1008..1011 lost: four samples of 0xFF before 1012..1015
    expect(join(t.push(1012, bytes(9, 10, 11, 12)))).toEqual(bytes(0xff, 0xff, 0xff, 0xff, 9, 10, 11, 12));
    // a unit repeating two samples already written (1014, 1015) gives only the new ones
    expect(join(t.push(1014, bytes(11, 12, 13, 14)))).toEqual(bytes(13, 14));
    expect(t.stats).toEqual({ written: 18, filled: 4, overlapped: 2, discontinuities: 0 });
    expect(t.origin).toBe(1000);
  });

  it('A-law silence is 0xD5; stereo fills and skips whole frames', () => {
    const t = new PcmTimeline({ rate: 8000, channels: 2, silence: G711_SILENCE.pcma });
    t.push(0, bytes(1, 2, 3, 4)); // frames 0, 1
    expect(join(t.push(3, bytes(5, 6)))).toEqual(bytes(0xd5, 0xd5, 5, 6)); // frame 2 missing
    expect(join(t.push(3, bytes(5, 6, 7, 8)))).toEqual(bytes(7, 8));
    expect(t.stats).toEqual({ written: 5, filled: 1, overlapped: 1, discontinuities: 0 });
  });

  it('a jump beyond the fill limit or back before the unit is a discontinuity, not silence', () => {
    const t = new PcmTimeline({ rate: 8000, channels: 1, silence: 0xff });
    t.push(0, bytes(1, 2, 3, 4));
    expect(join(t.push(4 + PCM_MAX_FILL_SEC * 8000 + 1, bytes(5, 6)))).toEqual(bytes(5, 6));
    expect(join(t.push(10, bytes(7)))).toEqual(bytes(7)); // far back: a restart
    expect(t.stats).toEqual({ written: 7, filled: 0, overlapped: 0, discontinuities: 2 });
    // after a discontinuity the new timestamps are contiguous again
    expect(join(t.push(11, bytes(8)))).toEqual(bytes(8));
  });

  it('whatever the order and loss, the stream holds one sample per timestamp, in place', () => {
    // Units of 10 samples at 10·k; each sample's value is its index mod 256; some units missing,
    // some repeated. Every byte written must be its index's value or silence (0xFF is never a value).
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 60 }), (ks) => {
        const sorted = [...ks].sort((a, b) => a - b);
        const t = new PcmTimeline({ rate: 8000, channels: 1, silence: 0xff });
        const out = join(sorted.flatMap((k) => t.push(10 * k, Buffer.from(Array.from({ length: 10 }, (_, i) => (10 * k + i) % 251)))));
        const first = 10 * sorted[0]!;
        expect(out.length).toBe(10 * sorted.at(-1)! + 10 - first);
        out.forEach((b, i) => expect(b === 0xff || b === (first + i) % 251).toBe(true));
        const present = new Set(sorted);
        out.forEach((b, i) => expect(b === 0xff).toBe(!present.has(Math.floor((first + i) / 10))));
      }),
      { numRuns: 100 },
    );
  });
});
