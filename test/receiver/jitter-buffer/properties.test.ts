/**
 * Property tests: whatever the arrival order, duplication, loss and poll timing, the buffer never
 * throws, never releases a packet twice, releases in sequence order, and accounts for every
 * packet (released, or counted late and reported in a lost range).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JitterBuffer } from '../../../src/receiver/jitter-buffer/index.ts';
import type { JitterBufferOptions, JitterEvent, JitterPacketInput, JitterPushOutcome } from '../../../src/receiver/jitter-buffer/index.ts';
import { SSRC_A } from './helpers.ts';
import { at } from '../../../src/util/narrow.ts';

const modeArb: fc.Arbitrary<JitterBufferOptions> = fc.oneof(
  fc.integer({ min: 0, max: 300 }).map((delayMs): JitterBufferOptions => ({ mode: 'fixed', delayMs, clockRate: 8000 })),
  fc.integer({ min: 0, max: 200 }).map((minDelayMs): JitterBufferOptions => ({ clockRate: 8000, minDelayMs, startDelayMs: 50 })),
);

/** Checks the event stream's own consistency; returns released extended seqs and lost seqs. */
function checkEvents(events: readonly JitterEvent[]): { released: number[]; lost: Set<number> } {
  const released: number[] = [];
  const lost = new Set<number>();
  for (let k = 0; k < events.length; k++) {
    const e = at(events, k);
    if (e.type === 'lost') {
      expect(e.count).toBeGreaterThan(0);
      const next = events[k + 1];
      expect(next?.type).toBe('packet');
      if (next?.type === 'packet') {
        expect(next.lostBefore).toBe(e.count);
        expect(next.extendedSeq).toBe(e.fromSeq + e.count);
      }
      for (let s = e.fromSeq; s < e.fromSeq + e.count; s++) lost.add(s);
    } else if (e.type === 'packet') {
      if (released.length > 0) expect(e.extendedSeq).toBeGreaterThan(at(released, released.length - 1));
      expect(e.extendedSeq & 0xffff).toBe(e.packet.sequence);
      if (e.lostBefore > 0) expect(events[k - 1]?.type).toBe('lost');
      released.push(e.extendedSeq);
    }
  }
  return { released, lost };
}

describe('one stream, any arrival order, duplication and loss', () => {
  it('releases each packet at most once, in order, and accounts for every packet', () => {
    const arb = fc.record({
      startSeq: fc.integer({ min: 0, max: 0xffff }),
      startTs: fc.integer({ min: 0, max: 0xffffffff }),
      // per packet: a list of network delays, one per copy received (empty: lost)
      copies: fc.array(fc.array(fc.double({ min: 0, max: 400, noNaN: true }), { maxLength: 3 }), { minLength: 1, maxLength: 60 }),
      polls: fc.array(fc.double({ min: 0, max: 1700, noNaN: true }), { maxLength: 40 }),
      options: modeArb,
    });
    fc.assert(
      fc.property(arb, ({ startSeq, startTs, copies, polls, options }) => {
        const jb = new JitterBuffer({ ...options, copyPayload: false });
        type A = { i: number; t: number; p: JitterPacketInput };
        const arrivals: A[] = [];
        copies.forEach((delays, i) => {
          for (const d of delays) {
            const p = {
              sequence: (startSeq + i) & 0xffff,
              timestamp: (startTs + 160 * i) >>> 0,
              marker: true,
              payload: Buffer.from([i]),
              ssrc: SSRC_A,
            };
            arrivals.push({ i, t: 20 * i + d, p });
          }
        });
        arrivals.sort((a, b) => a.t - b.t);
        const sortedPolls = [...polls].sort((a, b) => a - b);
        const events: JitterEvent[] = [];
        const outcomes = new Map<number, JitterPushOutcome[]>();
        let pi = 0;
        for (const a of arrivals) {
          while (pi < sortedPolls.length && at(sortedPolls, pi) <= a.t) events.push(...jb.poll(at(sortedPolls, pi++)));
          const o = jb.push(a.p, a.t);
          outcomes.set(a.i, [...(outcomes.get(a.i) ?? []), o]);
        }
        events.push(...jb.poll(Infinity));
        expect(jb.nextDeadline()).toBeUndefined();
        const { released, lost } = checkEvents(events);
        expect(events.some((e) => e.type === 'resync')).toBe(false);
        // Extended numbers computed independently: the first packet received keeps its 16-bit
        // number, the others are placed by their distance to it.
        const i0 = arrivals[0]?.i;
        const extOf = (i: number) => ((startSeq + i0!) & 0xffff) + (i - i0!);
        const releasedIdx = new Set<number>();
        for (const e of events) {
          if (e.type === 'packet') {
            const i = at(e.packet.payload, 0);
            expect(e.extendedSeq).toBe(extOf(i));
            releasedIdx.add(i);
          }
        }
        for (const [i, os] of outcomes) {
          expect(os.filter((o) => o === 'accepted').length).toBeLessThanOrEqual(1);
          if (releasedIdx.has(i)) {
            expect(os).toContain('accepted');
          } else {
            // never released: every copy was late (or a duplicate of a late one), and its number
            // is in a lost range unless it precedes the first release
            expect(os.every((o) => o === 'late')).toBe(true);
            if (released.length > 0 && extOf(i) > at(released, 0) && extOf(i) < at(released, released.length - 1))
              expect(lost.has(extOf(i))).toBe(true);
          }
        }
        // lost ranges are exactly the numbers between the first and last release not released
        for (const s of lost) expect(released.includes(s)).toBe(false);
        if (released.length > 0) expect(released.length + lost.size).toBe(at(released, released.length - 1) - at(released, 0) + 1);
        const st = jb.stats();
        expect(st.received).toBe(arrivals.length);
        expect(st.received).toBe(st.accepted + st.duplicates + st.late);
        expect(st.released).toBe(st.accepted);
        expect(st.released).toBe(releasedIdx.size);
        expect(st.lost).toBe(lost.size);
        expect(st.depthPackets).toBe(0);
      }),
      { numRuns: 400 },
    );
  });
});

describe('arbitrary input, restarts and flushes', () => {
  it('never throws, never releases twice, keeps extended numbers increasing across resyncs', () => {
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('push' as const),
        seq: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 8 })),
        ts: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 4000 })),
        ssrc: fc.constantFrom(1, 2),
        dt: fc.double({ min: 0, max: 3000, noNaN: true }),
      }),
      fc.record({ kind: fc.constant('poll' as const), dt: fc.double({ min: 0, max: 3000, noNaN: true }) }),
      fc.record({ kind: fc.constant('flush' as const), dt: fc.constant(0) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), modeArb, fc.integer({ min: 1, max: 8 }), (steps, options, maxPackets) => {
        const jb = new JitterBuffer({ ...options, maxPackets, copyPayload: false });
        let t = 0;
        const events: JitterEvent[] = [];
        const pushed: JitterPacketInput[] = [];
        for (const s of steps) {
          t += s.dt;
          if (s.kind === 'push') {
            const p = { sequence: s.seq, timestamp: s.ts, marker: false, payload: Buffer.alloc(0), ssrc: s.ssrc };
            pushed.push(p);
            jb.push(p, t);
          } else if (s.kind === 'poll') {
            events.push(...jb.poll(t));
          } else {
            events.push(...jb.flush(t));
          }
        }
        events.push(...jb.flush(t));
        const seen = new Set<JitterPacketInput>();
        let last = -Infinity;
        for (const e of events) {
          if (e.type !== 'packet') continue;
          expect(seen.has(e.packet)).toBe(false);
          seen.add(e.packet);
          expect(pushed).toContain(e.packet);
          expect(e.extendedSeq).toBeGreaterThan(last);
          last = e.extendedSeq;
        }
        const st = jb.stats();
        expect(st.received).toBe(pushed.length);
        expect(st.received).toBe(st.accepted + st.duplicates + st.late + st.discarded);
        expect(st.released).toBe(st.accepted);
        expect(st.released).toBe(seen.size);
        expect(st.depthPackets).toBe(0);
      }),
      { numRuns: 500 },
    );
  });
});
