import { describe, expect, it } from 'vitest';
import { SequenceGap } from '../../src/codecs/sequence-gap.ts';

describe('SequenceGap', () => {
  it('counts missing packets between extended sequence numbers and rejects stale ones', () => {
    const g = new SequenceGap();
    const stats = { stale: 0, lostPackets: 0 };
    expect(g.advance(65534, stats)).toBe(0); // first packet: nothing known to be missing
    expect(g.advance(65535, stats)).toBe(0);
    expect(g.advance(65539, stats)).toBe(3); // 65536..65538 missing (extended, past the 16-bit wrap)
    expect(g.advance(65537, stats)).toBe('stale'); // arrived after its successor was consumed
    expect(g.advance(65539, stats)).toBe('stale'); // duplicate
    expect(g.advance(65540, stats)).toBe(0);
    expect(stats).toEqual({ stale: 2, lostPackets: 3 });
    g.reset();
    expect(g.advance(10, stats)).toBe(0); // after a restart lower numbers are accepted again
    expect(stats).toEqual({ stale: 2, lostPackets: 3 });
  });
});
