import { describe, expect, it } from 'vitest';
import {
  ImpairmentPipeline,
  burstGapMetrics,
  delaySummary,
  packetFates,
  parseNetemArgs,
  runLengths,
  summarizeFates,
  type FateRecord,
} from '../../src/impair/index.ts';

/** '1' received, '0' lost, 'X' discarded (counted as lost), as in RFC 3611's figures. */
function pattern(s: string): boolean[] {
  return [...s].map((c) => c !== '1');
}

describe('RFC 3611 §4.7.2 burst/gap metrics', () => {
  // The example of §4.7.2 (Gmin 16): "The burst consists of the twelve packets indicated above,
  // starting at a discarded packet and ending at a lost packet."
  //   11110111111111111111111X111X1011110111111111111111111X111111111
  //   |---------gap----------|--burst---|------------gap------------|
  const rfc = '11110111111111111111111X111X1011110111111111111111111X111111111';

  it('finds the RFC example burst: 12 packets (23..34), 4 lost; the lone losses are gap losses', () => {
    const lost = pattern(rfc);
    const sent = lost.map((_, i) => i * 20); // 20 ms packets
    const m = burstGapMetrics(lost, sent, 16);
    expect(m.bursts).toBe(1);
    expect(m.burstLengthPackets).toBe(12);
    expect(m.burstDensity).toBeCloseTo(4 / 12, 12);
    // gaps: packets 0..22 (one loss) and 35..62 (one loss): 51 packets, 2 lost
    expect(m.gaps).toBe(2);
    expect(m.gapDensity).toBeCloseTo(2 / 51, 12);
    expect(m.burstDurationMs).toBe(12 * 20);
    expect(m.gapLengthPackets).toBe(51 / 2);
    expect(m.gapDurationMs).toBe((51 * 20) / 2);
  });

  it('Gmin 1 makes every run of losses its own burst; isolated single losses stay gap losses', () => {
    const m = burstGapMetrics(pattern('1100111101'), [...Array(10).keys()], 1);
    expect(m.bursts).toBe(1); // "00"
    expect(m.burstDensity).toBe(1);
    expect(m.gapDensity).toBeCloseTo(1 / 8, 12); // the lone 0 at index 8
  });

  it('no loss: one gap, the whole session', () => {
    const m = burstGapMetrics(pattern('1111'), [0, 10, 20, 30]);
    expect(m).toMatchObject({ bursts: 0, gaps: 1, burstDensity: 0, gapDensity: 0, gapDurationMs: 40, gapLengthPackets: 4 });
  });
});

describe('run lengths and delay summary', () => {
  it('histograms of loss runs and gap runs', () => {
    const r = runLengths(pattern('1100101000111'));
    expect(r.lossRuns).toEqual([
      { length: 1, count: 1 },
      { length: 2, count: 1 },
      { length: 3, count: 1 },
    ]);
    expect(r.gapRuns).toEqual([
      { length: 1, count: 2 },
      { length: 2, count: 1 },
      { length: 3, count: 1 },
    ]);
    expect(r.meanLossRun).toBe(2);
    expect(r.meanGapRun).toBe(7 / 4);
  });

  it('delay summary of 1..100', () => {
    const d = delaySummary(Array.from({ length: 100 }, (_, i) => 100 - i));
    expect(d).toEqual({
      count: 100,
      min: 1,
      max: 100,
      mean: 50.5,
      std: Math.sqrt((100 * 100 - 1) / 12),
      p50: 50,
      p90: 90,
      p95: 95,
      p99: 99,
    });
  });
});

describe('packet fates and the summary', () => {
  it('a packet is lost only when no copy arrives; the first copy gives its delay', () => {
    const base = { id: 1, bytes: 1, sentAtMs: 0, reordered: false, reorderDecision: false, duplicated: false, corrupted: false };
    const log: FateRecord[] = [
      { ...base, seq: 0, copy: 1, dropped: false, deliveredAtMs: 7, delayMs: 7 },
      { ...base, seq: 0, copy: 0, dropped: true, dropReason: 'queue', duplicated: true },
      { ...base, seq: 1, id: 2, copy: 0, dropped: true, dropReason: 'loss' },
      { ...base, seq: 2, id: 3, copy: 0, dropped: false, deliveredAtMs: 5, delayMs: 3 },
    ];
    expect(packetFates(log)).toEqual([
      { seq: 0, id: 1, sentAtMs: 0, lost: false, firstDeliveredAtMs: 7, delayMs: 7 },
      { seq: 1, id: 2, sentAtMs: 0, lost: true },
      { seq: 2, id: 3, sentAtMs: 0, lost: false, firstDeliveredAtMs: 5, delayMs: 3 },
    ]);
    const s = summarizeFates(log);
    expect(s).toMatchObject({ packets: 3, lost: 1, droppedByLoss: 1, droppedByQueue: 1, duplicatesDelivered: 1 });
  });

  it('gemodel run: the summary agrees with a recount of the log', () => {
    const r = parseNetemArgs('loss gemodel 2% 30% delay 20ms 5ms');
    if (!r.ok) throw new Error(r.message);
    const p = new ImpairmentPipeline(r.value, 12);
    for (let i = 0; i < 20_000; i++) p.submit({ id: i, bytes: 160, sentAtMs: i * 20 }, i * 20);
    const s = summarizeFates(p.fates);
    const lost = p.fates.filter((f) => f.dropped).length;
    expect(s.lost).toBe(lost);
    expect(s.lossRate).toBe(lost / 20_000);
    expect(s.runs.lossRuns.reduce((a, e) => a + e.length * e.count, 0)).toBe(lost);
    expect(s.delay.count).toBe(20_000 - lost);
    expect(s.delay.min).toBeGreaterThanOrEqual(15);
    expect(s.delay.max).toBeLessThan(25);
  });
});
