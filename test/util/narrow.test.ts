import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { at, group, last } from '../../src/util/narrow.ts';

describe('at', () => {
  it('returns the element at a valid index, including a stored undefined', () => {
    expect(at([10, 20, 30], 1)).toBe(20);
    expect(at([undefined, 1], 0)).toBeUndefined();
    expect(at(Buffer.from([7, 8]), 1)).toBe(8);
  });

  it.each([-1, 3, 1.5, Number.NaN])('throws RangeError for index %s', (i) => {
    expect(() => at([1, 2, 3], i)).toThrow(RangeError);
  });

  it('agrees with plain indexing inside the bounds and throws outside', () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.integer({ min: -5, max: 40 }), (list, i) => {
        if (i >= 0 && i < list.length) expect(at(list, i)).toBe(list[i]);
        else expect(() => at(list, i)).toThrow(RangeError);
      }),
    );
  });
});

describe('group', () => {
  it('returns a participating group and throws for one that did not take part', () => {
    const m = /^(a)(b)?$/.exec('a');
    expect(m).not.toBeNull();
    if (m === null) return;
    expect(group(m, 1)).toBe('a');
    expect(() => group(m, 2)).toThrow(RangeError);
  });
});

describe('last', () => {
  it('returns the last element and throws on an empty list', () => {
    expect(last(['x', 'y'])).toBe('y');
    expect(() => last([])).toThrow(RangeError);
  });
});
