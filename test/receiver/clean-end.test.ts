/**
 * CleanEnd, narrated in frame slots (PTS = 10 × slot, decode order as an encoder with B-frames
 * sends it): a stop after an anchor whose B-frames have not all come drops the anchor and every
 * unit decoded after it, so what is written presents without a hole; a stop at a clean point
 * drops nothing; units leave in decode order once more than `hold` are held.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CleanEnd } from '../../src/receiver/index.ts';

/** Units for slots in decode order; dts is irrelevant here (the decode index). */
const units = (slots: number[]) => slots.map((s, i) => ({ pts: 10 * s, dts: i, unit: s }));

function run(slots: number[], hold: number, frameDuration?: number): { written: number[]; dropped: number } {
  const c = new CleanEnd<number>(hold, frameDuration);
  const written: number[] = [];
  for (const u of units(slots)) for (const r of c.push(u)) written.push(r.unit);
  for (const r of c.finish()) written.push(r.unit);
  return { written, dropped: c.dropped };
}

describe('CleanEnd', () => {
  it('I0 P3 B1 B2 P6 | stop: P6 is shown after 3 while 4 and 5 never came: P6 goes', () => {
    expect(run([0, 3, 1, 2, 6], 4)).toEqual({ written: [0, 3, 1, 2], dropped: 1 });
  });

  it('… P6 B4 | stop: 5 missing; P6 goes and B4 with it (it references P6)', () => {
    expect(run([0, 3, 1, 2, 6, 4], 4)).toEqual({ written: [0, 3, 1, 2], dropped: 2 });
  });

  it('… P6 B4 B5 | stop: nothing missing, nothing dropped', () => {
    expect(run([0, 3, 1, 2, 6, 4, 5], 4)).toEqual({ written: [0, 3, 1, 2, 6, 4, 5], dropped: 0 });
  });

  it('a long GOP: units leave in decode order as they pass the hold; only the tail is cut', () => {
    const c = new CleanEnd<number>(4);
    const slots = [0, 3, 1, 2, 6, 4, 5, 9, 7, 8, 12, 10];
    const released = units(slots).flatMap((u) => c.push(u).map((r) => r.unit));
    expect(released).toEqual([0, 3, 1, 2, 6, 4, 5, 9]); // 12 in, 4 held
    expect(c.finish().map((r) => r.unit)).toEqual([7, 8]); // 11 missing: 12 and 10 go
    expect(c.dropped).toBe(2);
  });

  it('release() hands out every held unit as it is (a stream played to its end)', () => {
    const c = new CleanEnd<number>(4);
    for (const u of units([0, 3, 1, 2, 6])) c.push(u);
    expect(c.release().map((r) => r.unit)).toEqual([3, 1, 2, 6]);
    expect(c.dropped).toBe(0);
  });

  it('without a signalled duration, the smallest step measures it', () => {
    expect(run([0, 3, 1, 2, 6, 4, 5, 9, 7, 8, 12], 4)).toEqual({ written: [0, 3, 1, 2, 6, 4, 5, 9, 7, 8], dropped: 1 });
    expect(run([0, 3], 4)).toEqual({ written: [0, 3], dropped: 0 }); // one step: nothing to compare with
  });

  it('a stream without reordering is never cut', () => {
    expect(run([0, 1, 2, 3, 4, 5], 3)).toEqual({ written: [0, 1, 2, 3, 4, 5], dropped: 0 });
  });

  it('any decode-order cut of IBBP GOPs ends on a hole-free prefix, dropping at most 3 units', () => {
    // Decode order of P(k+3) B(k+1) B(k+2) groups after I0; cut after any unit.
    const order = [0];
    for (let k = 0; k < 30; k += 3) order.push(k + 3, k + 1, k + 2);
    fc.assert(
      fc.property(fc.integer({ min: 2, max: order.length }), (n) => {
        // The frame duration from the SPS VUI: with two units alone a step cannot tell it.
        const { written, dropped } = run(order.slice(0, n), 4, 10);
        const shown = [...written].sort((a, b) => a - b);
        shown.forEach((s, i) => expect(s).toBe(i)); // 0, 1, 2, … without a hole
        expect(dropped).toBeLessThanOrEqual(3);
        expect(written).toEqual(order.slice(0, n - dropped)); // a decode-order prefix
      }),
      { numRuns: 200 },
    );
  });
});
