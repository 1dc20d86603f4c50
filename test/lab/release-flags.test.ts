/**
 * Issue 14: real-time runs record when each delayed copy actually left the emulator
 * (FateRecord.releasedAtMs) and are flagged when the host released copies late (a stall), so a
 * researcher does not read a stall as the model's delay.
 */
import { describe, expect, it } from 'vitest';
import type { FateRecord } from '../../src/impair/index.ts';
import { runFlags, truthFigures } from '../../src/lab/collect.ts';
import type { TrackResult } from '../../src/lab/result-types.ts';

function fate(id: number, deliveredAtMs: number, releasedAtMs: number | undefined): FateRecord {
  return {
    seq: id,
    id,
    copy: 0,
    bytes: 100,
    sentAtMs: deliveredAtMs - 40,
    dropped: false,
    deliveredAtMs,
    releasedAtMs,
    delayMs: 40,
    reordered: false,
    reorderDecision: false,
    duplicated: false,
    corrupted: false,
  };
}

describe('release lateness and run flags', () => {
  it('counts copies released more than 5 ms late and keeps the worst', () => {
    const t = truthFigures([fate(0, 40, 40), fate(1, 60, 64), fate(2, 80, 112), fate(3, 100, undefined)]);
    expect(t.release).toEqual({ lateCopies: 1, maxLateMs: 32 });
  });

  it('flags a host stall and a blocked event loop, nothing for an on-time run', () => {
    const track = (lateCopies: number, maxLateMs: number) => ({ truth: { release: { lateCopies, maxLateMs } } }) as TrackResult;
    expect(runFlags([track(0, 2)], { maxMs: 12 })).toEqual([]);
    expect(runFlags([track(3, 31.5), track(1, 8)], { maxMs: 120 })).toEqual([
      'host stall: 4 delayed packets left more than 5 ms late (worst 31.5 ms)',
      'event loop blocked up to 120 ms',
    ]);
    expect(runFlags([track(0, 0)], undefined)).toEqual([]);
    expect(runFlags([track(0, 0)], undefined, 0)).toEqual([]);
    expect(runFlags([track(0, 0)], undefined, 159)).toEqual([
      'the kernel dropped 159 datagrams before the receiver read them (receive buffer full): losses the ground truth does not have',
    ]);
  });
});
