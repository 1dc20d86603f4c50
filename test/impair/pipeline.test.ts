import { describe, expect, it } from 'vitest';
import {
  ImpairmentPipeline,
  PASS,
  createNetemStages,
  newStagePacket,
  packetTimeMs,
  parseNetemArgs,
  runStages,
  summarizeFates,
  type NetemConfig,
  type PacketStage,
  type StageOutcome,
} from '../../src/impair/index.ts';

function cfg(text: string): NetemConfig {
  const r = parseNetemArgs(text);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

function pipeline(text: string, seed: number, n: number, spacingMs = 1, bytes = 200): ImpairmentPipeline {
  const p = new ImpairmentPipeline(cfg(text), seed);
  for (let i = 0; i < n; i++) p.submit({ id: i, bytes, sentAtMs: i * spacingMs }, i * spacingMs);
  return p;
}

describe('ImpairmentPipeline basics', () => {
  it('no impairment: delivered at once, one copy, logged', () => {
    const p = new ImpairmentPipeline(cfg(''), 1);
    const r = p.submit({ id: 5, bytes: 100, sentAtMs: 10 }, 10);
    expect(r.deliverAt).toEqual([10]);
    // The copy carries its fate record, for the stage to note when it actually left.
    expect(r.copies).toEqual([{ copy: 0, atMs: 10, record: p.fates[0] }]);
    expect(p.fates).toEqual([
      {
        seq: 0,
        id: 5,
        copy: 0,
        bytes: 100,
        sentAtMs: 10,
        dropped: false,
        deliveredAtMs: 10,
        delayMs: 0,
        reordered: false,
        reorderDecision: false,
        duplicated: false,
        corrupted: false,
      },
    ]);
  });

  it('same config + seed → identical fate log; the explicit seed overrides `seed N`', () => {
    const text = 'delay 30ms 10ms distribution paretonormal loss gemodel 3% 25% duplicate 2% reorder 5% gap 2 rate 5mbit';
    expect(pipeline(text, 42, 3000).fates).toEqual(pipeline(text, 42, 3000).fates);
    expect(pipeline(text, 43, 3000).fates).not.toEqual(pipeline(text, 42, 3000).fates);
    const fromConfig = new ImpairmentPipeline(cfg(`${text} seed 42`));
    expect(fromConfig.seed).toBe(42);
    expect(new ImpairmentPipeline(cfg(`${text} seed 42`), 9).seed).toBe(9);
  });

  it('fate log cap: extra records are counted, not kept', () => {
    const p = new ImpairmentPipeline(cfg(''), 1, { maxFateRecords: 10 });
    for (let i = 0; i < 25; i++) p.submit({ id: i, bytes: 1, sentAtMs: i }, i);
    expect(p.fates.length).toBe(10);
    expect(p.fateRecordsDropped).toBe(15);
  });
});

describe('reorder', () => {
  it('reorder 100% gap 5: every 5th packet goes at once, the rest wait 10 ms (tc-netem man page)', () => {
    const p = pipeline('delay 10ms reorder 100% gap 5', 1, 50);
    const immediate = p.fates.filter((f) => f.reorderDecision).map((f) => f.id);
    expect(immediate).toEqual([4, 9, 14, 19, 24, 29, 34, 39, 44, 49]);
    expect(p.fates.filter((f) => !f.reorderDecision).every((f) => f.delayMs === 10)).toBe(true);
    // packet 4 leaves at 4 ms, before packets 0..3 (out at 10..13 ms): the log flags it reordered
    const f4 = p.fates.find((f) => f.id === 4);
    expect(f4?.deliveredAtMs).toBe(4);
    expect(f4?.reordered).toBe(true);
  });

  it('reorder P gap N: fraction of reordered packets is 1 / ((N - 1) + 1/P)', () => {
    const n = 120_000;
    // P = 25 %, N = 3: a cycle is N-1 delayed packets then a geometric wait (mean 1/P) → 1/6
    const s = summarizeFates(pipeline('delay 20ms reorder 25% gap 3', 2, n).fates);
    const want = 1 / (2 + 4);
    expect(Math.abs(s.reorderDecisions / n - want)).toBeLessThan(5 * Math.sqrt((want * (1 - want)) / n) * 2);
  });

  it('reorder 25% (gap 1): each packet with probability 25 %', () => {
    const n = 100_000;
    const s = summarizeFates(pipeline('delay 20ms reorder 25%', 3, n).fates);
    expect(Math.abs(s.reorderDecisions / n - 0.25)).toBeLessThan(5 * Math.sqrt((0.25 * 0.75) / n));
  });
});

describe('duplicate', () => {
  it('duplicate 10%: ≈ 10 % extra copies, the copy has copy = 1 and the original duplicated = true', () => {
    const n = 100_000;
    const p = pipeline('duplicate 10%', 4, n);
    const s = summarizeFates(p.fates);
    expect(Math.abs(s.duplicatesDelivered / n - 0.1)).toBeLessThan(5 * Math.sqrt((0.1 * 0.9) / n));
    const copies = p.fates.filter((f) => f.copy === 1);
    const dupOriginals = new Set(p.fates.filter((f) => f.copy === 0 && f.duplicated).map((f) => f.seq));
    expect(copies.every((c) => dupOriginals.has(c.seq))).toBe(true);
    expect(copies.length).toBe(dupOriginals.size);
  });

  it('with loss, netem semantics: a loss on a duplicated packet only cancels the copy', () => {
    // D = 20 %, L = 10 %: lost packets (1-D)·L = 8 %; two copies D·(1-L)·(1-L) = 16.2 %
    const n = 200_000;
    const s = summarizeFates(pipeline('duplicate 20% loss 10%', 5, n).fates);
    expect(Math.abs(s.lossRate - 0.08)).toBeLessThan(5 * Math.sqrt((0.08 * 0.92) / n));
    expect(Math.abs(s.duplicatesDelivered / n - 0.162)).toBeLessThan(5 * Math.sqrt((0.162 * 0.838) / n));
  });
});

describe('corrupt', () => {
  it('corrupt 100%: every copy names one bit inside the datagram', () => {
    const p = new ImpairmentPipeline(cfg('corrupt 100%'), 6);
    for (let i = 0; i < 500; i++) {
      const r = p.submit({ id: i, bytes: 37, sentAtMs: i }, i);
      const c = r.copies[0]?.corrupt;
      expect(c && c.byteIndex >= 0 && c.byteIndex < 37 && c.bit >= 0 && c.bit < 8).toBe(true);
    }
    expect(summarizeFates(p.fates).corrupted).toBe(500);
  });
});

describe('rate and limit: a bottleneck link', () => {
  it('serialization time: bytes + overhead, ATM cells', () => {
    const r = { bitsPerSecond: 1e6, packetOverhead: 0, cellSize: 0, cellOverhead: 0 };
    expect(packetTimeMs(1250, r)).toBe(10); // 10 000 bits at 1 Mbit/s
    expect(packetTimeMs(1250, { ...r, packetOverhead: 250 })).toBe(12);
    // 100 bytes in 48-byte cells → 3 cells of 53 bytes = 159 bytes = 1272 bits
    expect(packetTimeMs(100, { ...r, cellSize: 48, cellOverhead: 5 })).toBeCloseTo(1.272, 12);
  });

  it('under capacity: each packet takes exactly its serialization time, nothing dropped', () => {
    // 1250-byte packets every 20 ms on 1 Mbit/s (10 ms each): 50 % load
    const p = pipeline('rate 1mbit', 7, 500, 20, 1250);
    expect(p.fates.every((f) => !f.dropped && f.delayMs === 10)).toBe(true);
  });

  it('overload 2×: throughput = link rate, queueing delay up to limit × service time, drops', () => {
    // 1250-byte packets every 5 ms (2 Mbit/s offered) into 1 Mbit/s with limit 50, for 10 s
    const n = 2000;
    const p = pipeline('rate 1mbit limit 50', 8, n, 5, 1250);
    const delivered = p.fates.filter((f) => !f.dropped).map((f) => f.deliveredAtMs as number);
    // back-to-back service: consecutive departures exactly 10 ms apart
    for (let i = 1; i < delivered.length; i++) expect((delivered[i] as number) - (delivered[i - 1] as number)).toBeCloseTo(10, 9);
    const seconds = ((delivered.at(-1) as number) - (delivered[0] as number) + 10) / 1000;
    const bits = delivered.length * 1250 * 8;
    expect(bits / seconds).toBeCloseTo(1e6, 3);
    const s = summarizeFates(p.fates);
    // 10 s at 100 packet/s served, plus what the queue holds at the end → about 1 000 of 2 000 dropped
    expect(s.droppedByQueue).toBeGreaterThan(930);
    expect(s.droppedByQueue).toBeLessThan(960);
    expect(s.droppedByLoss).toBe(0);
    // steady state: 50 packets ahead of a newcomer → ≈ 500 ms in the emulator
    expect(s.delay.max).toBeGreaterThan(490);
    expect(s.delay.max).toBeLessThanOrEqual(510);
  });

  it('netem limit counts delayed packets too: delay 100ms at 1 packet/ms with limit 50 drops about half', () => {
    const n = 20_000;
    const s = summarizeFates(pipeline('delay 100ms limit 50', 9, n).fates);
    expect(Math.abs(s.droppedByQueue / n - 0.5)).toBeLessThan(0.01);
  });

  it('limit 0 drops everything (as netem)', () => {
    expect(summarizeFates(pipeline('limit 0', 1, 100).fates).lost).toBe(100);
  });
});

describe('stages', () => {
  it('runStages: a spawned copy runs the whole chain before the original continues', () => {
    const order: string[] = [];
    const spawner: PacketStage = {
      name: 'spawner',
      process: (pkt) => {
        order.push(`spawner:${pkt.copy}`);
        return pkt.copy === 0 ? { kind: 'pass', spawn: newStagePacket(pkt, 1) } : PASS;
      },
    };
    const tail: PacketStage = {
      name: 'tail',
      process: (pkt) => {
        order.push(`tail:${pkt.copy}`);
        return PASS;
      },
    };
    const outs: StageOutcome[] = [];
    runStages([spawner, tail], newStagePacket({ id: 1, bytes: 1, sentAtMs: 0 }), 0, (o) => outs.push(o));
    expect(order).toEqual(['spawner:0', 'spawner:1', 'tail:1', 'tail:0']);
    expect(outs.map((o) => o.pkt.copy)).toEqual([1, 0]);
  });

  it('netem order: duplicate, loss, corrupt, limit, delay', () => {
    const names = createNetemStages(cfg('delay 10ms reorder 1% corrupt 1% loss 1% duplicate 1% rate 1mbit'), 1).map((s) => s.name);
    expect(names).toEqual(['duplicate', 'loss', 'corrupt', 'limit', 'delay']);
  });
});

describe('reliable (TCP) paths: losses become retransmissions, in order (issue 14)', () => {
  const submitAll = (p: ImpairmentPipeline, n: number, everyMs: number) =>
    Array.from({ length: n }, (_, i) => p.submit({ id: i, bytes: 200, sentAtMs: i * everyMs }, i * everyMs));

  it('loss 100%: every segment arrives, one retransmission timeout late, none lost', () => {
    const p = new ImpairmentPipeline(cfg('loss 100%'), 1, { reliable: true });
    const r = submitAll(p, 3, 10);
    expect(r.map((x) => x.deliverAt)).toEqual([[200], [210], [220]]);
    expect(p.fates.every((f) => !f.dropped && f.retransmitted)).toBe(true);
    expect(p.counters).toMatchObject({ submitted: 3, dropped: 0, delivered: 3, retransmitted: 3 });
  });

  it('head-of-line blocking: a segment after a lost one waits for its retransmission', () => {
    const p = new ImpairmentPipeline(cfg('loss random 30% delay 10ms'), 7, { reliable: true });
    const r = submitAll(p, 400, 5);
    const at = r.map((x) => x.deliverAt);
    expect(at.every((a) => a.length === 1)).toBe(true);
    const times = at.map((a) => a[0]!);
    // In order, never lost; a retransmission arrives max(200, 2 x 10) + 10 ms after it was sent.
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]!);
    const first = p.fates.findIndex((f) => f.retransmitted);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(times[first]).toBe(first * 5 + 210);
    // The next segment, not lost itself, is held behind it (it would have arrived 10 ms after sending).
    const next = first + 1 + p.fates.slice(first + 1).findIndex((f) => !f.retransmitted);
    expect(times[next]).toBeGreaterThanOrEqual(times[first]!);
    expect(p.fates.filter((f) => f.retransmitted).length).toBe(p.counters.retransmitted);
    expect(p.counters.retransmitted / 400).toBeGreaterThan(0.2);
  });

  it('no duplicates and no corrupted segments reach the application', () => {
    const p = new ImpairmentPipeline(cfg('duplicate 100% corrupt 100%'), 1, { reliable: true });
    const r = submitAll(p, 2, 10);
    expect(r.map((x) => x.copies.length)).toEqual([1, 1]);
    expect(r.every((x) => x.copies[0]!.corrupt === undefined)).toBe(true);
    expect(p.fates.map((f) => f.retransmitted)).toEqual([true, true]);
  });
});
