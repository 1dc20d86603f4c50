import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RtpRelayMap, continuationFor } from '../../src/server/live/index.ts';

describe("RtpRelayMap: a publisher's seq/timestamps onto the channel's", () => {
  it('continues at the next seq and keeps gaps, reordering and 16/32-bit wrap', () => {
    const m = new RtpRelayMap({ nextSeq: 65534, firstTimestamp: 0xffff_fff0 });
    // publisher: seq 100 ts 1000 → ours 65534, 0xfffffff0
    expect(m.map(100, 1000)).toEqual({ seq: 65534, timestamp: 0xffff_fff0 });
    // next packet, +3000 ticks: ours wraps to 0 / 0xbb8-0x10
    expect(m.map(101, 4000)).toEqual({ seq: 65535, timestamp: (0xffff_fff0 + 3000) >>> 0 });
    // a gap of one (102 lost): ours skips 0 as well
    expect(m.map(103, 7000)).toEqual({ seq: 1, timestamp: (0xffff_fff0 + 6000) >>> 0 });
    // late 102 arrives: mapped to the seq it would have had
    expect(m.map(102, 5500)).toEqual({ seq: 0, timestamp: (0xffff_fff0 + 4500) >>> 0 });
    // a B-frame timestamp before the first packet's stays before it (mod 2^32)
    expect(m.map(104, 500).timestamp).toBe((0xffff_fff0 - 500) >>> 0);
  });

  it("handles the publisher's own seq wrap", () => {
    const m = new RtpRelayMap({ nextSeq: 10, firstTimestamp: 0 });
    expect(m.map(65535, 0).seq).toBe(10);
    expect(m.map(0, 0).seq).toBe(11);
    expect(m.map(1, 0).seq).toBe(12);
  });

  it('maps SR timestamps only after the first packet', () => {
    const m = new RtpRelayMap({ nextSeq: 0, firstTimestamp: 5000 });
    expect(m.timestamp(123)).toBeUndefined();
    m.map(7, 1000);
    expect(m.timestamp(1900)).toBe(5900);
  });

  it('in-order input of any start gives consecutive output (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.nat(0xffffffff),
        fc.nat(0xffffffff),
        fc.integer({ min: 1, max: 300 }),
        (inSeq, next, inTs, outTs, n) => {
          const m = new RtpRelayMap({ nextSeq: next, firstTimestamp: outTs });
          for (let i = 0; i < n; i++) {
            const r = m.map((inSeq + i) & 0xffff, (inTs + i * 3000) >>> 0);
            if (r.seq !== ((next + i) & 0xffff)) return false;
            if (r.timestamp !== (outTs + i * 3000) >>> 0) return false;
          }
          return true;
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a new publisher continues after the last timestamp by the time elapsed', () => {
    const c = continuationFor(
      { sender: { seq: 42, timestampBase: 9 }, last: { timestamp: 0xffff_ff00, wallMs: 1000 }, clockRate: 90000 },
      3000,
    );
    expect(c).toEqual({ nextSeq: 42, firstTimestamp: (0xffff_ff00 + 180000) >>> 0 });
    // nothing sent yet: the track's random base
    expect(continuationFor({ sender: { seq: 5, timestampBase: 77 }, last: undefined, clockRate: 8000 }, 0)).toEqual({
      nextSeq: 5,
      firstTimestamp: 77,
    });
    // same instant: still at least one tick later (never the same timestamp for a new frame)
    expect(
      continuationFor({ sender: { seq: 5, timestampBase: 0 }, last: { timestamp: 10, wallMs: 50 }, clockRate: 8000 }, 50).firstTimestamp,
    ).toBe(11);
  });
});
