import { describe, expect, it } from 'vitest';
import { parseNetemArgs } from '../../src/impair/index.ts';
import type { Egress } from '../../src/transport/egress.ts';
import { ImpairedEgress } from '../../src/transport/impaired-egress.ts';
import { Scheduler } from '../../src/transport/scheduler.ts';
import { ManualClock } from '../../src/util/clock.ts';

class CountingEgress implements Egress {
  readonly kind = 'udp';
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

function impaired(args: string) {
  const parsed = parseNetemArgs(args);
  if (!parsed.ok) throw new Error(parsed.message);
  const clock = new ManualClock();
  const scheduler = new Scheduler(clock);
  const inner = new CountingEgress();
  const egress = new ImpairedEgress(inner, { config: parsed.value, seed: 1, text: args }, clock, scheduler);
  return { clock, scheduler, inner, egress };
}

const header = Buffer.alloc(12);
const payload = Buffer.alloc(1000);

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
