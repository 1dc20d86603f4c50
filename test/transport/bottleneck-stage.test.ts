/**
 * The bottleneck through the stage that carries it out (ImpairmentStage + LinkDriver) on a manual
 * clock and the scheduler: delivery at the exact opportunity times, one queue for a shared link,
 * one per track otherwise, RTCP under its own model.
 */
import { describe, expect, it } from 'vitest';
import { parseDeliveryTrace, parseNetemArgs, summarizeFates } from '../../src/impair/index.ts';
import type { DeliveryTrace, NetemConfig } from '../../src/impair/index.ts';
import type { Egress } from '../../src/transport/egress.ts';
import { ImpairedEgress, ImpairmentGroup } from '../../src/transport/impaired-egress.ts';
import type { ImpairmentSpec } from '../../src/transport/impaired-egress.ts';
import { Scheduler } from '../../src/transport/scheduler.ts';
import { ManualClock } from '../../src/util/clock.ts';

function cfg(text: string): NetemConfig {
  const r = parseNetemArgs(text);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

const constant12Mbit: DeliveryTrace = (() => {
  const r = parseDeliveryTrace('1\n');
  if (!r.ok) throw new Error(r.message);
  return r.value;
})();

class TimedEgress implements Egress {
  readonly kind = 'udp';
  dropped = 0;
  rtpAt: number[] = [];
  rtcpAt: number[] = [];
  constructor(private readonly clock: ManualClock) {}
  sendRtp(): void {
    this.rtpAt.push(this.clock.now());
  }
  sendRtcp(): void {
    this.rtcpAt.push(this.clock.now());
  }
}

/** 12 + 1460 bytes of RTP + 28 of IP/UDP: one 1500-byte packet per opportunity. */
const header = Buffer.alloc(12);
const payload = Buffer.alloc(1460);

function twoTracks(spec: ImpairmentSpec) {
  const clock = new ManualClock();
  const scheduler = new Scheduler(clock);
  const group = new ImpairmentGroup(spec, clock, scheduler);
  const inner = [new TimedEgress(clock), new TimedEgress(clock)];
  const egress = inner.map((e, i) => new ImpairedEgress(e, spec, clock, scheduler, i, group));
  return { clock, inner, egress };
}

/** Each track sends one packet per ms for `ms` ms (at whole ms, from 0). */
function sendEveryMs(clock: ManualClock, egress: ImpairedEgress[], ms: number): void {
  for (let t = 0; t < ms; t++) {
    for (const e of egress) e.sendRtp(header, payload);
    clock.advance(1);
  }
}

describe('a bottleneck through the stage', () => {
  const spec = (shared: boolean): ImpairmentSpec => ({
    config: cfg('link c.trace queue droptail packets 100000'),
    linkTrace: constant12Mbit,
    seed: 1,
    text: 'link c.trace',
    sharedLink: shared,
    recordFates: true,
  });

  it('per track: each track has its own 12 Mbit/s, every packet leaves at the next opportunity', () => {
    const { clock, inner, egress } = twoTracks(spec(false));
    sendEveryMs(clock, egress, 1000);
    clock.advance(10);
    for (const e of inner) {
      expect(e.rtpAt.length).toBe(1000);
      expect(e.rtpAt.slice(0, 3)).toEqual([1, 2, 3]);
    }
    expect(egress.every((e) => e.heldPackets === 0)).toBe(true);
  });

  it('shared: one queue for both tracks, 1000 packets a second between them, the rest queued', () => {
    const { clock, inner, egress } = twoTracks(spec(true));
    sendEveryMs(clock, egress, 1000);
    // At 1000 ms: opportunities 1..1000 carried 1000 packets, alternating tracks (FIFO).
    expect(inner[0]!.rtpAt.length + inner[1]!.rtpAt.length).toBe(1000);
    expect(inner[0]!.rtpAt.slice(0, 3)).toEqual([1, 3, 5]);
    expect(inner[1]!.rtpAt.slice(0, 3)).toEqual([2, 4, 6]);
    expect(egress[0]!.heldPackets + egress[1]!.heldPackets).toBe(1000);
    // Sojourn grows by 1 ms every 2 packets: the shared queue.
    const s = summarizeFates(egress[0]!.rtpFates);
    expect(s.inFlight).toBe(500);
    expect(s.sojourn.max).toBeGreaterThan(490);
    // The queue drains after the senders stop.
    clock.advance(1000);
    expect(inner[0]!.rtpAt.length + inner[1]!.rtpAt.length).toBe(2000);
    expect(egress[0]!.heldPackets + egress[1]!.heldPackets).toBe(0);
  });

  it('closing every track forgets the shared queue; a closed track’s copies count as dropped on close', () => {
    const { clock, egress } = twoTracks(spec(true));
    sendEveryMs(clock, egress, 10);
    egress[0]!.close();
    clock.advance(20);
    expect(egress[0]!.droppedOnClose).toBeGreaterThan(0);
    egress[1]!.close();
    expect(egress[1]!.heldPackets).toBe(0);
  });

  it('RTCP under its own model and seed; RTP under the track model', () => {
    const clock = new ManualClock();
    const scheduler = new Scheduler(clock);
    const inner = new TimedEgress(clock);
    const s: ImpairmentSpec = {
      config: cfg('delay 10ms'),
      text: 'delay 10ms',
      seed: 3,
      rtcp: true,
      rtcpModel: { config: cfg('loss 100%'), text: 'loss 100%' },
      tracks: [undefined, { config: cfg('delay 30ms'), text: 'delay 30ms' }],
    };
    const e0 = new ImpairedEgress(inner, s, clock, scheduler, 0);
    const e1 = new ImpairedEgress(inner, s, clock, scheduler, 1);
    e0.sendRtp(header, payload);
    e1.sendRtp(header, payload);
    e0.sendRtcp(Buffer.alloc(28));
    clock.advance(50);
    expect(inner.rtpAt).toEqual([10, 30]);
    expect(inner.rtcpAt).toEqual([]);
    expect(e0.rtcp?.counters.dropped).toBe(1);
  });

  it('the bottleneck wakes exactly at the opportunity, not earlier', () => {
    const { clock, inner, egress } = twoTracks({ ...spec(false), config: cfg('link c.trace'), linkTrace: parseOk('100\n') });
    egress[0]!.sendRtp(header, payload);
    // The wake-up is exact: at 100, not earlier.
    clock.advance(99);
    expect(inner[0]!.rtpAt).toEqual([]);
    clock.advance(1);
    expect(inner[0]!.rtpAt).toEqual([100]);
  });
});

function parseOk(text: string): DeliveryTrace {
  const r = parseDeliveryTrace(text);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}
