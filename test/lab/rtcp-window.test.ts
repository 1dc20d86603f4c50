/**
 * "RTCP vs truth" when the first packets arrive reordered: the receiver's RFC 3550 statistics
 * start at the packet that ends probation, yet count every later arrival, packets from before
 * that one included. The truth window must count the same packets (issue 14).
 */
import { describe, expect, it } from 'vitest';
import type { FateRecord } from '../../src/impair/index.ts';
import { statsWindow, windowCounts } from '../../src/lab/collect.ts';
import { ReceiverSource } from '../../src/stats/receiver-source.ts';

/** A fate log: packet ids with their arrival times (undefined = lost), copies given twice. */
function fates(arrivals: readonly [number, number | undefined][]): FateRecord[] {
  return arrivals.map(([id, at], seq) => ({
    seq,
    id,
    copy: 0,
    bytes: 100,
    sentAtMs: id,
    dropped: at === undefined,
    ...(at === undefined ? { dropReason: 'loss' as const } : { deliveredAtMs: at, delayMs: at - id }),
    reordered: false,
    reorderDecision: false,
    duplicated: false,
    corrupted: false,
  }));
}

/** Feeds the arrivals to an RFC 3550 receiver in arrival order; returns its snapshot. */
function receive(log: readonly FateRecord[], seq0: number) {
  const src = new ReceiverSource(0x1234, { clockRate: 90000 });
  const arrived = log.filter((r) => !r.dropped).sort((a, b) => (a.deliveredAtMs as number) - (b.deliveredAtMs as number));
  for (const r of arrived) src.onRtp((seq0 + r.id) & 0xffff, r.id * 90, r.deliveredAtMs as number);
  return src.snapshot();
}

describe('the RTCP comparison window under start reordering', () => {
  it('packets 1, 2 first, then 0: the receiver counts 0 too; the truth says so, and both agree', () => {
    const seq0 = 65534; // across the wrap as well
    // Sent 0..9 at 0..9 ms; 0 arrives after 1 and 2; 6 lost.
    const log = fates([
      [0, 12],
      [1, 10],
      [2, 11],
      [3, 13],
      [4, 14],
      [5, 15],
      [6, undefined],
      [7, 17],
      [8, 18],
      [9, 19],
    ]);
    const snap = receive(log, seq0);
    const w = statsWindow(seq0, snap.baseSeq, snap.expected);
    expect(w).toEqual({ fromId: 2, toId: 9 });
    const t = windowCounts(log, w!);
    expect(t.packets).toBe(8);
    expect(t.lost).toBe(1);
    // Packet 0 (before the window, arriving after packet 2 ended probation) is counted as received.
    expect(t.countedBeforeWindow).toBe(1);
    expect(t.rfcLost).toBe(0);
    expect(snap.lost).toBe(t.rfcLost);
  });

  it('without reordering the RFC count is the true loss; duplicates lower it by one each', () => {
    const log = fates([
      [0, 0],
      [1, 1],
      [2, 2],
      [3, undefined],
      [4, 4],
      [4, 4.5],
      [5, 5],
    ]);
    const snap = receive(log, 100);
    const t = windowCounts(log, statsWindow(100, snap.baseSeq, snap.expected)!);
    expect([t.lost, t.duplicatesInWindow, t.countedBeforeWindow, t.rfcLost]).toEqual([1, 1, 0, 0]);
    expect(snap.lost).toBe(t.rfcLost);
  });
});
