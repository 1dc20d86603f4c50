/**
 * Seeded start offsets of traces: a loss trace, a delivery-opportunity trace and a delay trace
 * start at a fraction of their length or period drawn from the path's seed (so the runs of a
 * seed set sample a trace rather than repeat it), or at 0 when asked. Times on a manual clock,
 * expected values by hand from the traces.
 */
import { describe, expect, it } from 'vitest';
import {
  DelaySchedule,
  DeliverySchedule,
  ImpairmentPipeline,
  TraceLoss,
  parseDelayTrace,
  parseDeliveryTrace,
  parseNetemArgs,
  pathSeed,
  traceOffsetsFor,
  traceStartFraction,
} from '../../src/impair/index.ts';
import type { DelayTrace, DeliveryTrace, NetemConfig } from '../../src/impair/index.ts';
import type { Egress } from '../../src/transport/egress.ts';
import { ImpairedEgress, ImpairmentGroup, PATH_RTP, SHARED_LINK_TRACK } from '../../src/transport/impaired-egress.ts';
import type { ImpairmentSpec } from '../../src/transport/impaired-egress.ts';
import { Scheduler } from '../../src/transport/scheduler.ts';
import { ManualClock } from '../../src/util/clock.ts';

function cfg(text: string): NetemConfig {
  const r = parseNetemArgs(text);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}
function delivery(text: string): DeliveryTrace {
  const r = parseDeliveryTrace(text);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}
function delays(text: string): DelayTrace {
  const r = parseDelayTrace(text);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

describe('schedules with a start offset', () => {
  it('a delivery trace from trace time 30: path time t is trace time t + 30, looping', () => {
    // Opportunities at trace times 10, 10, 50 (period 50), then 60, 60, 100, ...
    const s = new DeliverySchedule(delivery('10\n10\n50\n'), 30);
    // Path opportunity 0 is the one at trace time 50 (path 20), then 60, 60 (path 30, 30), 100 (70).
    expect([0, 1, 2, 3, 4].map((k) => s.timeOf(k))).toEqual([20, 30, 30, 70, 80]);
    expect(s.firstAtOrAfter(0)).toBe(0);
    expect(s.firstAtOrAfter(20)).toBe(0);
    expect(s.firstAtOrAfter(21)).toBe(1);
    expect(s.firstAtOrAfter(31)).toBe(3);
    expect(s.opportunitiesPerSecond).toBe(60);
    // An offset on an opportunity's time includes it at path time 0.
    expect(new DeliverySchedule(delivery('10\n10\n50\n'), 10).timeOf(0)).toBe(0);
    expect(() => new DeliverySchedule(delivery('10\n50\n'), 50)).toThrow(RangeError);
  });

  it('a delay trace from trace time 250 of a 300 ms period', () => {
    const d = new DelaySchedule(delays('0 20\n100 50\n300\n'), 250);
    // Path 0 → trace 250 (50 ms), path 49 → 299 (50), path 50 → 0 (20), path 150 → 100 (50).
    expect([0, 49, 50, 149, 150, 350].map((t) => d.delayAt(t))).toEqual([50, 50, 20, 20, 50, 20]);
    expect(() => new DelaySchedule(delays('0 20\n300\n'), 300)).toThrow(RangeError);
  });

  it('a loss trace from sample 3, wrapping', () => {
    const l = new TraceLoss(Uint8Array.from([1, 0, 0, 1, 1]), 3);
    expect(Array.from({ length: 7 }, () => l.lose())).toEqual([true, true, true, false, false, true, true]);
    expect(() => new TraceLoss(Uint8Array.from([1]), 1)).toThrow(RangeError);
  });
});

describe('offsets drawn from the seed', () => {
  const files = {
    trace: new Uint8Array(1000),
    linkTrace: delivery('1\n2\n60000\n'),
    delayTrace: delays('0 20\n60000\n'),
  };
  const config = cfg('trace l.txt link c.trace delaytrace d.trace');

  it('seeded: one fraction per seed, the same for the same seed; 0 keeps every trace at its start', () => {
    const a = traceOffsetsFor('seeded', 7, config, files);
    expect(a).toEqual(traceOffsetsFor('seeded', 7, config, files));
    expect(a.fraction).toBe(traceStartFraction(7));
    expect(a.lossStart).toBe(Math.floor(a.fraction * 1000));
    expect(a.linkOffsetMs).toBe(Math.floor(a.fraction * 60000));
    expect(a.delayOffsetMs).toBe(a.fraction * 60000);
    expect(traceOffsetsFor(0, 7, config, files)).toEqual({ fraction: 0, lossStart: 0, linkOffsetMs: 0, delayOffsetMs: 0 });
    expect(traceOffsetsFor(undefined, 7, config, files).fraction).toBe(0);
    // Only the traces a path has.
    expect(traceOffsetsFor('seeded', 7, cfg('loss 1%'), files)).toEqual({ fraction: traceStartFraction(7) });
  });

  it('the offsets of many seeds spread over the whole trace (uniform: each tenth gets its share)', () => {
    const tenths = new Array<number>(10).fill(0);
    for (let s = 0; s < 2000; s++) tenths[Math.floor(traceStartFraction(pathSeed(s, 0, 0)) * 10)]!++;
    // 200 expected per tenth; ±60 is beyond 4 standard deviations (√(2000·0.1·0.9) ≈ 13.4).
    for (const n of tenths) expect(Math.abs(n - 200)).toBeLessThan(60);
  });

  it('a pipeline replays its loss trace from the seeded sample; another seed from another', () => {
    const trace = Uint8Array.from({ length: 100 }, (_, i) => (i % 7 === 0 || i === 50 ? 1 : 0));
    const run = (seed: number, mode: 'seeded' | 0) => {
      const p = new ImpairmentPipeline(cfg('trace l.txt'), seed, { trace, traceOffset: mode });
      const lost = Array.from({ length: 200 }, (_, i) => p.submit({ id: i, bytes: 100, sentAtMs: i }, i).copies.length === 0);
      return { lost, start: p.traceOffsets.lossStart as number };
    };
    const a = run(11, 'seeded');
    const b = run(12, 'seeded');
    expect(a.start).not.toBe(b.start);
    for (const r of [a, b]) for (const [i, x] of r.lost.entries()) expect(x, `packet ${i}`).toBe(trace[(i + r.start) % 100] === 1);
    expect(run(11, 'seeded')).toEqual(a);
    const zero = run(11, 0);
    expect(zero.start).toBe(0);
    for (const [i, x] of zero.lost.entries()) expect(x).toBe(trace[i % 100] === 1);
  });
});

class TimedEgress implements Egress {
  readonly kind = 'udp';
  dropped = 0;
  rtpAt: number[] = [];
  constructor(private readonly clock: ManualClock) {}
  sendRtp(): void {
    this.rtpAt.push(this.clock.now());
  }
  sendRtcp(): void {}
}

describe('through the stage on a manual clock', () => {
  // One opportunity at trace time 100 of every 1000 ms: where it falls in path time shows the offset.
  const linkTrace = delivery('100\n1000\n');
  const header = Buffer.alloc(12);
  const payload = Buffer.alloc(1460);

  function firstDeliveries(spec: ImpairmentSpec, track: number, group?: ImpairmentGroup): { at: number[]; egress: ImpairedEgress } {
    const clock = new ManualClock();
    const scheduler = new Scheduler(clock);
    const inner = new TimedEgress(clock);
    const egress = new ImpairedEgress(inner, spec, clock, scheduler, track, group ?? new ImpairmentGroup(spec, clock, scheduler));
    egress.sendRtp(header, payload);
    clock.advance(2500);
    return { at: inner.rtpAt, egress };
  }

  const spec = (traceOffset: 'seeded' | 0, seed: number, sharedLink = false): ImpairmentSpec => ({
    config: cfg('link c.trace'),
    text: 'link c.trace',
    linkTrace,
    seed,
    traceOffset,
    sharedLink,
    recordFates: true,
  });

  /** When a packet sent at path time 0 leaves, for a link offset o: the next opportunity at trace 100 or 1000 mod 1000. */
  const expected = (o: number) => (o <= 100 ? 100 - o : 1000 - o);

  it('offset 0: the packet sent at 0 leaves at 100 ms in every run and on every track', () => {
    for (const seed of [1, 2, 3]) for (const track of [0, 1]) expect(firstDeliveries(spec(0, seed), track).at).toEqual([100]);
  });

  it('seeded: each run and track leaves at its own offset, as recorded, the same again for the same seed', () => {
    const seen = new Set<number>();
    for (const seed of [1, 2, 3]) {
      for (const track of [0, 1]) {
        const { at, egress } = firstDeliveries(spec('seeded', seed), track);
        const o = egress.rtp.traceOffsets.linkOffsetMs as number;
        expect(o).toBe(Math.floor(traceStartFraction(pathSeed(seed, track, PATH_RTP)) * 1000));
        expect(at).toEqual([expected(o)]);
        expect(firstDeliveries(spec('seeded', seed), track).at).toEqual(at);
        seen.add(o);
      }
    }
    expect(seen.size).toBe(6);
  });

  it('a shared link draws its own offset once for the session, recorded on its group', () => {
    const s = spec('seeded', 5, true);
    const clock = new ManualClock();
    const scheduler = new Scheduler(clock);
    const group = new ImpairmentGroup(s, clock, scheduler);
    const inner = [new TimedEgress(clock), new TimedEgress(clock)];
    const egress = inner.map((e, i) => new ImpairedEgress(e, s, clock, scheduler, i, group));
    egress[1]!.sendRtp(header, payload);
    clock.advance(2500);
    const o = group.linkOffsets?.linkOffsetMs as number;
    expect(o).toBe(Math.floor(traceStartFraction(pathSeed(5, SHARED_LINK_TRACK, PATH_RTP)) * 1000));
    expect(inner[1]!.rtpAt).toEqual([expected(o)]);
    // The tracks' pipelines have no link of their own to offset.
    expect(egress[0]!.rtp.traceOffsets.linkOffsetMs).toBeUndefined();
  });
});
