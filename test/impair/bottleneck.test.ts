/**
 * The bottleneck queue and time-based traces on a manual clock: every expected time below is
 * computed by hand from the trace, the queue limits and RFC 8289's pseudo-code.
 */
import { describe, expect, it } from 'vitest';
import {
  DeliverySchedule,
  ImpairmentPipeline,
  formatNetemArgs,
  parseDelayTrace,
  parseDeliveryTrace,
  parseNetemArgs,
  summarizeFates,
  type DeliveredCopy,
  type DelayTrace,
  type DeliveryTrace,
  type NetemConfig,
} from '../../src/impair/index.ts';

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

/** 1500-byte IP packets: one per delivery opportunity. */
const MTU = 1500;

/**
 * Submits packets `[time, bytes]` (in time order) the way ImpairmentStage does: the bottleneck is
 * advanced to each submit time, and to the end. Returns each packet's delivery time (undefined:
 * dropped) by id.
 */
function drive(p: ImpairmentPipeline, packets: readonly (readonly [number, number])[], endMs = Infinity): (number | undefined)[] {
  const out: (number | undefined)[] = packets.map(() => undefined);
  const late = (id: number) => (c: DeliveredCopy) => {
    out[id] = c.atMs;
  };
  packets.forEach(([t, bytes], id) => {
    p.link?.advance(t);
    const r = p.submit({ id, bytes, sentAtMs: t }, t, late(id));
    for (const c of r.copies) out[id] = c.atMs;
    p.link?.advance(t);
  });
  p.link?.advance(endMs);
  return out;
}

const every = (n: number, stepMs: number, bytes = MTU, from = 0): [number, number][] =>
  Array.from({ length: n }, (_, i) => [from + i * stepMs, bytes]);

describe('delivery-opportunity traces (Mahimahi format)', () => {
  it('parses, loops with the last time as period, and finds the next opportunity', () => {
    const s = new DeliverySchedule(delivery('# two in ms 10, one in 50\n10\n10\n50\n'));
    expect(s.periodMs).toBe(50);
    expect([0, 1, 2, 3, 4, 5].map((k) => s.timeOf(k))).toEqual([10, 10, 50, 60, 60, 100]);
    expect(s.firstAtOrAfter(0)).toBe(0);
    expect(s.firstAtOrAfter(10)).toBe(0);
    expect(s.firstAtOrAfter(11)).toBe(2);
    expect(s.firstAtOrAfter(51)).toBe(3);
    expect(s.firstAtOrAfter(100)).toBe(5);
    expect(s.opportunitiesPerSecond).toBe(60);
  });

  it('refuses malformed traces with the line named', () => {
    for (const bad of ['', '# nothing\n', '5\n3\n', '0\n0\n', '1.5\n', '-1\n', 'x\n']) {
      const r = parseDeliveryTrace(bad);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.code).toBe('IMPAIR_ERR_BAD_TRACE');
    }
  });

  it('a 12 Mbit/s constant trace (one opportunity per ms) delivers exactly 1000 MTU packets per second', () => {
    const p = new ImpairmentPipeline(cfg('link c.trace queue droptail packets 100000'), 1, { linkTrace: delivery('1\n') });
    // Offered 2000 packets/s for 2 s: twice the link.
    const out = drive(p, every(4000, 0.5), 2000);
    const inSecond = (s: number) => out.filter((t) => t !== undefined && t > s * 1000 && t <= (s + 1) * 1000).length;
    expect(inSecond(0)).toBe(1000);
    expect(inSecond(1)).toBe(1000);
    // FIFO, one per opportunity: packet i leaves at ms i + 1.
    expect(out.slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    expect(out[1999]).toBe(2000);
    // The rest is still queued at 2 s: in flight, not lost, in the fate summary.
    const s = summarizeFates(p.fates);
    expect(s.inFlight).toBe(2000);
    expect(s.droppedByTail).toBe(0);
    expect(p.inLink).toBe(2000);
  });

  it('the same link at half load: trace time starts at the first packet; later ones arrive on an opportunity', () => {
    const p = new ImpairmentPipeline(cfg('link c.trace'), 1, { linkTrace: delivery('1\n') });
    // First submit at 0.25: opportunities at 1.25, 2.25, ...; a packet every 2 ms from 0.25.
    const out = drive(p, every(1000, 2, MTU, 0.25));
    expect(out.slice(0, 3)).toEqual([1.25, 2.25, 4.25]);
    const s = summarizeFates(p.fates);
    expect(s.sojourn.count).toBe(1000);
    expect(s.sojourn.max).toBe(1);
    expect(s.sojourn.p95).toBe(0);
    expect(s.lost).toBe(0);
  });

  it('a trace with gaps holds packets until the next opportunity', () => {
    // Opportunities at 10, 10, 50, then 60, 60, 100, ...
    const p = new ImpairmentPipeline(cfg('link g.trace'), 1, { linkTrace: delivery('10\n10\n50\n') });
    const out = drive(p, [
      [0, MTU],
      [1, MTU],
      [2, MTU],
      [51, MTU],
      [52, MTU],
      [53, MTU],
    ]);
    expect(out).toEqual([10, 10, 50, 60, 60, 100]);
    const sojourns = p.fates.map((f) => f.sojournMs);
    expect(sojourns).toEqual([10, 9, 48, 9, 8, 47]);
  });

  it('an unused opportunity is lost; a packet arriving at an opportunity time uses it', () => {
    const p = new ImpairmentPipeline(cfg('link g.trace'), 1, { linkTrace: delivery('10\n20\n') });
    // Trace time 0 is the first submit (at 100): opportunities at 110, 120, 130, 140, ...
    expect(
      drive(p, [
        [100, 100],
        [120, 100],
        [121, 100],
      ]),
    ).toEqual([110, 120, 130]);
  });

  it('small packets share an opportunity (1500 bytes); a large one spans two', () => {
    const p = new ImpairmentPipeline(cfg('link c.trace'), 1, { linkTrace: delivery('1\n') });
    // At 0: 500, 500, 500 (one opportunity, ms 1), 1000 + 1000 (ms 2 carries 1000 of the first
    // and 500 of the second, which ends at ms 3), then 2000 bytes: the rest of ms 3 and ms 4.
    const out = drive(p, [
      [0, 500],
      [0, 500],
      [0, 500],
      [0, 1000],
      [0, 1000],
      [0, 2000],
    ]);
    expect(out).toEqual([1, 1, 1, 2, 3, 4]);
  });

  it('the queue is bounded: a packet limit and a byte limit drop at the tail', () => {
    const packets = new ImpairmentPipeline(cfg('link c.trace queue droptail packets 3'), 1, { linkTrace: delivery('10\n') });
    // Five at once: three queue (the first leaves at 10), two are dropped on arrival.
    expect(drive(packets, every(5, 0))).toEqual([10, 20, 30, undefined, undefined]);
    const sp = summarizeFates(packets.fates);
    expect([sp.droppedByTail, sp.droppedByAqm]).toEqual([2, 0]);
    expect(packets.fates[3]?.dropReason).toBe('tail');
    expect(packets.link?.counters.maxQueuePackets).toBe(3);

    const bytes = new ImpairmentPipeline(cfg('link c.trace queue droptail bytes 3000'), 1, { linkTrace: delivery('10\n') });
    // 1500 + 1000 queue; 600 more would make 3100: dropped; 500 more makes exactly 3000: queued.
    expect(
      drive(bytes, [
        [0, 1500],
        [0, 1000],
        [0, 600],
        [0, 500],
      ]),
    ).toEqual([10, 20, undefined, 20]);
  });

  it('the default queue (no `queue` word) is bounded at 1000 packets', () => {
    const p = new ImpairmentPipeline(cfg('link c.trace'), 1, { linkTrace: delivery('1000\n') });
    const out = drive(p, every(1005, 0), 0);
    expect(out.filter((t) => t === undefined).length).toBe(1005);
    expect(summarizeFates(p.fates).droppedByTail).toBe(5);
  });
});

describe('CoDel (RFC 8289) on a constant 12 Mbit/s trace', () => {
  /**
   * 20 packets at 0, then one per ms from 1 ms: one opportunity per ms (1, 2, ...) so a standing
   * queue of ~20 ms. Sojourn of the packet dequeued at t: t for t ≤ 20 (the burst), then 20.
   * t = 5: sojourn reaches the 5 ms target with more than an MTU behind it → first_above_time =
   * 105. t = 105: above for an interval → drop (count 1), drop_next = 105 + 100/√1 = 205.
   * Then the control law: drop_next = 205 + 100/√2 = 275.71 (first opportunity 276), + 100/√3 =
   * 333.45 (334), + 100/√4 = 383.45 (384), + 100/√5 = 428.17 (429).
   */
  function standingQueue(text: string) {
    const p = new ImpairmentPipeline(cfg(text), 1, { linkTrace: delivery('1\n') });
    const arrivals: [number, number][] = [...every(20, 0), ...every(440, 1, MTU, 1)];
    const out = drive(p, arrivals, 440);
    return { p, out };
  }

  it('a standing queue above target for more than an interval starts dropping; the spacing follows interval/√count', () => {
    const { p } = standingQueue('link c.trace queue codel');
    const drops = p.fates.filter((f) => f.dropReason === 'aqm');
    // Drop times: the dequeue time is the victim's arrival + its sojourn.
    expect(drops.map((f) => f.sentAtMs + (f.sojournMs as number))).toEqual([105, 205, 276, 334, 384, 429]);
    // Nothing dropped before the interval had passed, nothing at the tail.
    const s = summarizeFates(p.fates);
    expect(s.droppedByAqm).toBe(6);
    expect(s.droppedByTail).toBe(0);
    // Each drop shortens the standing queue by one packet (one ms of sojourn).
    expect(drops.map((f) => f.sojournMs)).toEqual([20, 19, 18, 17, 16, 15]);
    expect(s.sojourn.max).toBe(20);
  });

  it('target and interval are configurable: interval 50ms drops first at 55', () => {
    const { p } = standingQueue('link c.trace queue codel target 5ms interval 50ms');
    const first = p.fates.find((f) => f.dropReason === 'aqm');
    expect((first?.sentAtMs ?? 0) + (first?.sojournMs ?? 0)).toBe(55);
  });

  it('a standing queue below target is never dropped', () => {
    const p = new ImpairmentPipeline(cfg('link c.trace queue codel'), 1, { linkTrace: delivery('1\n') });
    drive(p, [...every(4, 0), ...every(1000, 1, MTU, 1)], 2000);
    const s = summarizeFates(p.fates);
    expect(s.droppedByAqm).toBe(0);
    expect(s.sojourn.max).toBe(4);
  });

  it('no drop while the backlog is at most one MTU, however long the sojourn (slow rate link)', () => {
    // rate 100kbit: a 1500-byte packet takes 120 ms. Two packets at a time: the second waits 120 ms
    // with nothing behind it.
    const p = new ImpairmentPipeline(cfg('rate 100kbit queue codel'), 1);
    const arrivals: [number, number][] = [];
    for (let t = 0; t < 3000; t += 240) arrivals.push([t, MTU - 28], [t, MTU - 28]);
    // (the stage adds no overhead here: bytes as given; 1472 + packet time of 1472 bytes)
    drive(p, arrivals);
    expect(summarizeFates(p.fates).droppedByAqm).toBe(0);
    expect(summarizeFates(p.fates).sojourn.max).toBeCloseTo((1472 * 8) / 100, 6);
  });

  it('with `queue`, rate drains the bottleneck: packets leave serialized back to back', () => {
    const p = new ImpairmentPipeline(cfg('rate 1mbit queue droptail packets 2'), 1);
    // 1000-byte packets take 8 ms; four at once: two queue behind the one being sent, one dropped.
    expect(drive(p, every(4, 0, 1000))).toEqual([8, 16, 24, undefined]);
  });
});

describe('delay traces', () => {
  it('parses steps and a period; refuses what is not one', () => {
    const t = delays('0 20\n100 50.5\n300\n');
    expect([...t.times]).toEqual([0, 100]);
    expect([...t.delaysMs]).toEqual([20, 50.5]);
    expect(t.periodMs).toBe(300);
    for (const bad of ['', '0 20\n', '5 20\n10\n', '0 20\n0 30\n40\n', '0 20\n50\n60 1\n', '0 -1\n10\n', '10\n']) {
      expect(parseDelayTrace(bad).ok, bad).toBe(false);
    }
  });

  it('delays each packet by the step in force when it leaves, looping', () => {
    const p = new ImpairmentPipeline(cfg('delaytrace d.trace'), 1, { delayTrace: delays('0 20\n100 50\n300\n') });
    // Trace time from the first submit (at 1000).
    const out = drive(p, [
      [1000, 100],
      [1099, 100],
      [1100, 100],
      [1299, 100],
      [1300, 100],
      [1450, 100],
    ]);
    expect(out).toEqual([1020, 1119, 1150, 1349, 1320, 1500]);
  });

  it('after a link, the delay applies at the time the packet leaves the link', () => {
    const p = new ImpairmentPipeline(cfg('link c.trace delaytrace d.trace'), 1, {
      linkTrace: delivery('100\n'),
      delayTrace: delays('0 5\n100 7\n200\n'),
    });
    // Leaves the link at 100 (trace time 100: delay 7), then at 200 (≡ 0: delay 5).
    expect(drive(p, every(2, 0))).toEqual([107, 205]);
  });
});

describe('the grammar of the new words', () => {
  it('reads link, queue and delaytrace, and writes them back', () => {
    const c = cfg('delay 10ms link media/traces/a.trace queue codel packets 200 bytes 300000 target 10ms interval 200ms delaytrace d.txt');
    expect(c.link).toEqual({ path: 'media/traces/a.trace' });
    expect(c.queue).toEqual({ discipline: 'codel', packets: 200, bytes: 300000, targetMs: 10, intervalMs: 200 });
    expect(c.delayTrace).toEqual({ path: 'd.txt' });
    const text = formatNetemArgs(c);
    expect(text).toBe(
      'delay 10ms link media/traces/a.trace queue codel packets 200 bytes 300000 target 10ms interval 200ms delaytrace d.txt',
    );
    expect(cfg(text)).toEqual(c);
    expect(formatNetemArgs(cfg('rate 2mbit queue codel'))).toBe('rate 2mbit queue codel');
  });

  it('refuses a queue with nothing to drain it, link with rate, and codel words on droptail', () => {
    const code = (t: string) => {
      const r = parseNetemArgs(t);
      return r.ok ? 'ok' : r.code;
    };
    expect(code('queue codel')).toBe('IMPAIR_ERR_CONFLICT');
    expect(code('link a rate 1mbit')).toBe('IMPAIR_ERR_CONFLICT');
    expect(code('link a queue droptail target 5ms')).toBe('IMPAIR_ERR_CONFLICT');
    expect(code('link a queue red')).toBe('IMPAIR_ERR_UNKNOWN_MODEL');
    expect(code('link a queue droptail packets 0')).toBe('IMPAIR_ERR_OUT_OF_RANGE');
    expect(code('link')).toBe('IMPAIR_ERR_MISSING_VALUE');
    // Abbreviations of the older words are unchanged.
    expect(cfg('lim 5').limit).toBe(5);
    expect(cfg('del 5ms').delay?.delayMs).toBe(5);
  });
});
