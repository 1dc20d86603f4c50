import { describe, expect, it } from 'vitest';
import { parseNetemArgs } from '../../src/impair/index.ts';
import type { Egress } from '../../src/transport/egress.ts';
import { ImpairedEgress } from '../../src/transport/impaired-egress.ts';
import { ImpairmentStage } from '../../src/transport/impairment-stage.ts';
import { Scheduler } from '../../src/transport/scheduler.ts';
import { ManualClock } from '../../src/util/clock.ts';

class CountingEgress implements Egress {
  constructor(readonly kind: 'udp' | 'tcp' = 'udp') {}
  dropped = 0;
  rtp = 0;
  rtcp = 0;
  sendRtp(): void {
    this.rtp++;
  }
  sendRtcp(): void {
    this.rtcp++;
  }
}

function impaired(args: string, rtcp = true) {
  const parsed = parseNetemArgs(args);
  if (!parsed.ok) throw new Error(parsed.message);
  const clock = new ManualClock();
  const scheduler = new Scheduler(clock);
  const inner = new CountingEgress();
  const egress = new ImpairedEgress(inner, { config: parsed.value, seed: 1, text: args, rtcp }, clock, scheduler);
  return { clock, scheduler, inner, egress };
}

const header = Buffer.alloc(12);
const payload = Buffer.alloc(1000);

describe('ImpairedEgress scope (issue 14: what the model applies to is explicit)', () => {
  it('impairs RTP only by default: RTCP passes at once, without a pipeline of its own', () => {
    const { clock, inner, egress } = impaired('loss 100%', false);
    egress.sendRtp(header, payload);
    egress.sendRtcp(Buffer.alloc(28));
    clock.advance(1);
    expect([inner.rtp, inner.rtcp]).toEqual([0, 1]);
    expect(egress.rtcp).toBeUndefined();
    expect(egress.rtp.counters.dropped).toBe(1);
  });

  it('with rtcp, RTCP goes through its own stage under the same model', () => {
    const { inner, egress } = impaired('loss 100%');
    egress.sendRtcp(Buffer.alloc(28));
    expect(inner.rtcp).toBe(0);
    expect(egress.rtcp?.counters.dropped).toBe(1);
  });
});

describe('ImpairedEgress over TCP (issue 14: TCP does not lose packets)', () => {
  it('interleaved: loss 100% delivers every packet by retransmission, 200 ms late, in order', () => {
    const parsed = parseNetemArgs('loss 100%');
    if (!parsed.ok) throw new Error(parsed.message);
    const clock = new ManualClock();
    const scheduler = new Scheduler(clock);
    const inner = new CountingEgress('tcp');
    const egress = new ImpairedEgress(inner, { config: parsed.value, seed: 1, text: 'loss 100%' }, clock, scheduler);
    for (let i = 0; i < 5; i++) egress.sendRtp(header, payload);
    clock.advance(199);
    expect(inner.rtp).toBe(0);
    clock.advance(1);
    expect(inner.rtp).toBe(5);
    expect(egress.rtp.counters).toMatchObject({ dropped: 0, retransmitted: 5 });
  });
});

describe('ImpairedEgress.close (issue 13: delayed packets outlive their session)', () => {
  it('drops every packet a 3600 s delay holds, leaves no scheduler task or timer, and refuses later sends', () => {
    const { clock, scheduler, inner, egress } = impaired('delay 3600s');
    for (let i = 0; i < 100; i++) egress.sendRtp(header, payload);
    egress.sendRtcp(Buffer.alloc(28));
    expect(egress.heldPackets).toBe(101);
    expect(scheduler.size).toBe(101);
    egress.close();
    expect(egress.heldPackets).toBe(0);
    expect(scheduler.size).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    expect(egress.droppedOnClose).toBe(101);
    egress.sendRtp(header, payload);
    expect(egress.droppedOnClose).toBe(102);
    clock.advance(3_600_001);
    expect(inner.rtp + inner.rtcp).toBe(0);
  });

  it('delivers held packets on time while open and forgets them once sent', () => {
    const { clock, scheduler, inner, egress } = impaired('delay 50ms');
    for (let i = 0; i < 10; i++) egress.sendRtp(header, payload);
    clock.advance(49);
    expect(inner.rtp).toBe(0);
    clock.advance(1);
    expect(inner.rtp).toBe(10);
    expect(egress.heldPackets).toBe(0);
    expect(scheduler.size).toBe(0);
  });
});

describe('ImpairedEgress fate records (issue 13: per-packet records on demand)', () => {
  it('keeps no per-packet record unless asked, but counts what the emulator did', () => {
    const { egress } = impaired('loss random 30%');
    for (let i = 0; i < 5000; i++) egress.sendRtp(header, payload);
    expect(egress.rtpFates.length).toBe(0);
    const c = egress.rtp.counters;
    expect(c.submitted).toBe(5000);
    expect(c.dropped + c.delivered).toBe(5000);
    expect(c.dropped / 5000).toBeGreaterThan(0.25);
    expect(c.dropped / 5000).toBeLessThan(0.35);
  });

  it('records fates when an observer asks, identical in count to the counters, up to the cap', () => {
    const parsed = parseNetemArgs('loss random 30%');
    if (!parsed.ok) throw new Error(parsed.message);
    const clock = new ManualClock();
    const mk = (maxFateRecords?: number) =>
      new ImpairedEgress(
        new CountingEgress(),
        { config: parsed.value, seed: 1, text: '', recordFates: true, maxFateRecords },
        clock,
        new Scheduler(clock),
      );
    const e = mk();
    for (let i = 0; i < 2000; i++) e.sendRtp(header, payload);
    expect(e.rtpFates.length).toBe(2000);
    expect(e.rtpFates.filter((f) => f.dropped).length).toBe(e.rtp.counters.dropped);
    const capped = mk(100);
    for (let i = 0; i < 2000; i++) capped.sendRtp(header, payload);
    expect(capped.rtpFates.length).toBe(100);
    expect(capped.rtp.fateRecordsDropped).toBe(1900);
  });
});

describe('ImpairmentStage timing (issue 14: delayed packets on time, actual release times)', () => {
  it('a delayed copy never leaves early, though the scheduler groups other wake-ups within 2 ms', () => {
    const clock = new ManualClock();
    const scheduler = new Scheduler(clock);
    const parsed = parseNetemArgs('delay 11500us');
    if (!parsed.ok) throw new Error(parsed.message);
    const stage = new ImpairmentStage(parsed.value, 1, { recordFates: true }, clock, scheduler);
    const out: number[] = [];
    stage.pass([payload], () => out.push(clock.now()));
    // A stream's task due at 10 ms: its wake-up runs tasks due up to 12 ms (grouping), but not the held copy.
    scheduler.schedule({ run: () => Infinity }, 10);
    clock.advance(10);
    expect(out).toEqual([]);
    clock.advance(1.5);
    expect(out).toEqual([11.5]);
    expect(stage.pipeline.fates[0]?.releasedAtMs).toBe(11.5);
    expect(stage.lateness).toEqual({ lateReleases: 0, maxLateMs: 0 });
  });

  it('rate paces evenly: a burst leaves one serialization time apart, never grouped by the scheduler', () => {
    const clock = new ManualClock();
    const scheduler = new Scheduler(clock);
    const parsed = parseNetemArgs('rate 1mbit');
    if (!parsed.ok) throw new Error(parsed.message);
    const stage = new ImpairmentStage(parsed.value, 1, { recordFates: true }, clock, scheduler);
    const out: number[] = [];
    // 20 packets of 172 + 28 (IP/UDP) = 200 bytes at once: 1.6 ms each at 1 Mbit/s.
    const small = Buffer.alloc(172);
    for (let i = 0; i < 20; i++) stage.pass([small], () => out.push(clock.now()));
    // Other tasks wake the scheduler every 1 ms (its grouping would release up to 2 ms early).
    scheduler.schedule({ run: (now) => now + 1 }, 1);
    for (let t = 0; t < 40; t++) clock.advance(1);
    expect(out).toHaveLength(20);
    for (const [k, at] of out.entries()) expect(at).toBeCloseTo(1.6 * (k + 1), 9);
    expect(stage.lateness).toEqual({ lateReleases: 0, maxLateMs: 0 });
  });

  it('a host stall is measured: the copy leaves late, its record says when, and it counts', () => {
    // A clock whose timers fire only when the test says so, as after an event loop blocked for 30 ms.
    let now = 0;
    const timers: (() => void)[] = [];
    const clock = {
      now: () => now,
      wallNow: () => now,
      wallAt: (ms: number) => ms,
      setTimeout: (fn: () => void) => (timers.push(fn), { id: timers.length }),
      clearTimeout: () => undefined,
    };
    const scheduler = new Scheduler(clock);
    const parsed = parseNetemArgs('delay 10ms');
    if (!parsed.ok) throw new Error(parsed.message);
    const stage = new ImpairmentStage(parsed.value, 1, { recordFates: true }, clock, scheduler);
    let released: number | undefined;
    stage.pass([payload], () => (released = now));
    now = 40;
    timers.at(-1)!();
    expect(released).toBe(40);
    expect(stage.pipeline.fates[0]).toMatchObject({ deliveredAtMs: 10, releasedAtMs: 40 });
    expect(stage.lateness).toEqual({ lateReleases: 1, maxLateMs: 30 });
  });
});
