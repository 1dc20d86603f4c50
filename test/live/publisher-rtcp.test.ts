import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRtcpPackets } from '../../src/rtcp/index.ts';
import type { ReportBlock, RtcpPacket } from '../../src/rtcp/index.ts';
import { PublisherTrackRtcp, defaultSessionBps } from '../../src/server/live/publisher-rtcp.ts';
import { ReceiverRtcpTiming, serializeReceiverReport } from '../../src/stats/index.ts';
import { Scheduler } from '../../src/transport/index.ts';
import { ManualClock } from '../../src/util/clock.ts';

const CLOCK_RATE = 90000;
const SR_NTP = { seconds: 0xe1a2b3c4, fraction: 0x5678abcd };
const SR_MIDDLE = 0xb3c45678; // low 16 bits of the seconds, high 16 bits of the fraction

interface Pkt {
  seq: number;
  ts: number;
  arrivalMs: number;
}

/** Publisher packets every 40 ms (3600 ticks), arrival offsets of 0..4 ms, minus `lost` sequence numbers. */
function trace(first: number, count: number, lost: Set<number>, startIndex = 0): Pkt[] {
  const out: Pkt[] = [];
  for (let i = startIndex; i < startIndex + count; i++) {
    const seq = (first + i) & 0xffff;
    if (lost.has(seq)) continue;
    out.push({ seq, ts: (5000 + i * 3600) >>> 0, arrivalMs: 100 + i * 40 + ((i * 7) % 5) });
  }
  return out;
}

/** A.8 jitter recomputed by hand over the packets counted (every one after the first, which is probation). */
function handJitter(pkts: Pkt[]): number {
  let j = 0;
  for (let k = 2; k < pkts.length; k++) {
    const d = (pkts[k]!.arrivalMs - pkts[k - 1]!.arrivalMs) * (CLOCK_RATE / 1000) - (pkts[k]!.ts - pkts[k - 1]!.ts);
    j += (Math.abs(d) - j) / 16;
  }
  return Math.floor(j);
}

function blockOf(buf: Buffer, ourSsrc: number, cname: string, bye?: string): ReportBlock | undefined {
  const parsed = parseRtcpPackets(buf);
  expect(parsed.ok).toBe(true);
  const packets = (parsed as { ok: true; value: RtcpPacket[] }).value;
  expect(packets.map((p) => p.type)).toEqual(bye === undefined ? ['rr', 'sdes'] : ['rr', 'sdes', 'bye']);
  const rr = packets[0]!;
  const sdes = packets[1]!;
  if (rr.type !== 'rr' || sdes.type !== 'sdes') throw new Error('unreachable');
  expect(rr.ssrc).toBe(ourSsrc);
  expect(sdes.chunks[0]!.ssrc).toBe(ourSsrc);
  expect(sdes.chunks[0]!.items.find((i) => i.type === 1)?.value.toString('utf8')).toBe(cname);
  if (bye !== undefined) expect(packets[2]).toMatchObject({ type: 'bye', ssrcs: [ourSsrc], reason: bye });
  return rr.reports[0];
}

describe('publisher track RTCP (RFC 3550 §6.4.2) in simulated time', () => {
  it('reports at the A.7 interval with loss, highest seq, jitter, LSR and DLSR of an exact trace', () => {
    const clock = new ManualClock();
    const scheduler = new Scheduler(clock);
    const publisherSsrc = 0x11223344;
    const rtcp = new PublisherTrackRtcp({
      ssrc: 0xcafe0001,
      cname: 'server@test',
      clockRate: CLOCK_RATE,
      sessionBps: defaultSessionBps('video'),
    });
    const sent: { at: number; buf: Buffer }[] = [];
    const random = () => 0.5; // A.7 factor 1: interval = deterministic / (e - 3/2)
    scheduler.schedule(
      {
        run: (now) => {
          sent.push({ at: now, buf: rtcp.report(now) });
          return now + rtcp.nextIntervalMs(random);
        },
      },
      clock.now() + rtcp.nextIntervalMs(random),
    );
    // First interval: seq 65530.. wraps; 3 lost (65535, 0, 1 → 65535 and 0 and 1 removed), SR at 900 ms.
    const lost1 = new Set([65535, 0, 1]);
    const p1 = trace(65520, 45, lost1); // arrivals 100 .. ~1864 ms
    const events: { at: number; fn: () => void }[] = p1.map((p) => ({
      at: p.arrivalMs,
      fn: () => rtcp.onRtp(publisherSsrc, p.seq, p.ts, clock.now(), 1000),
    }));
    events.push({ at: 900, fn: () => rtcp.onSenderReport(publisherSsrc, SR_MIDDLE, clock.now()) });
    // A foreign SSRC's SR is ignored.
    events.push({ at: 950, fn: () => rtcp.onSenderReport(0xdeadbeef, 0x12345678, clock.now()) });
    events.sort((a, b) => a.at - b.at);
    for (const e of events) {
      clock.advance(e.at - clock.now());
      e.fn();
    }
    // Initial interval: max(2.5 s, tiny) · 1 / 1.21828 ≈ 2052 ms.
    clock.advance(2100 - clock.now());
    expect(sent).toHaveLength(1);
    const first = sent[0]!;
    expect(Math.abs(first.at - 2500 / 1.21828)).toBeLessThanOrEqual(2);
    const b1 = blockOf(first.buf, 0xcafe0001, 'server@test')!;
    // base = the packet that ends probation (65521), highest = 65520 + 44 - 65536 with one wrap.
    const expected1 = 65536 + ((65520 + 44) & 0xffff) - 65521 + 1;
    const received1 = p1.length - 1;
    expect(b1.ssrc).toBe(publisherSsrc);
    expect(b1.extendedHighestSeq).toBe(65536 + ((65520 + 44) & 0xffff));
    expect(b1.cumulativeLost).toBe(expected1 - received1);
    expect(b1.cumulativeLost).toBe(3);
    expect(b1.fractionLost).toBe(Math.floor((3 * 256) / expected1));
    expect(b1.jitter).toBe(handJitter(p1));
    expect(b1.jitter).toBeGreaterThan(0);
    expect(b1.lsr).toBe(SR_MIDDLE);
    expect(b1.dlsr).toBe(Math.round(((first.at - 900) * 65536) / 1000));

    // Second interval: 30 more packets, 2 lost; the next report at 5 s · 1 / 1.21828 later.
    const p2 = trace(65520, 30, new Set([(65520 + 50) & 0xffff, (65520 + 60) & 0xffff]), 45);
    for (const p of p2) {
      clock.advance(p.arrivalMs - clock.now());
      rtcp.onRtp(publisherSsrc, p.seq, p.ts, clock.now(), 1000);
    }
    clock.advance(first.at + 5000 / 1.21828 + 3 - clock.now());
    expect(sent).toHaveLength(2);
    const second = sent[1]!;
    expect(Math.abs(second.at - first.at - 5000 / 1.21828)).toBeLessThanOrEqual(2);
    const b2 = blockOf(second.buf, 0xcafe0001, 'server@test')!;
    expect(b2.extendedHighestSeq).toBe(65536 + ((65520 + 74) & 0xffff));
    expect(b2.cumulativeLost).toBe(5);
    expect(b2.fractionLost).toBe(Math.floor((2 * 256) / 30));
    expect(b2.jitter).toBe(handJitter([...p1, ...p2]));
    expect(b2.lsr).toBe(SR_MIDDLE);
    expect(b2.dlsr).toBe(Math.round(((second.at - 900) * 65536) / 1000));

    // Leaving: RR + SDES + BYE.
    const bye = rtcp.report(clock.now(), 'teardown');
    expect(blockOf(bye, 0xcafe0001, 'server@test', 'teardown')!.fractionLost).toBe(0);
    expect(rtcp.reportsSent).toBe(3);
    expect(SR_MIDDLE).toBe((((SR_NTP.seconds & 0xffff) << 16) | (SR_NTP.fraction >>> 16)) >>> 0);
  });

  it('sends an empty RR before the first packet, and restarts on a new publisher SSRC', () => {
    const rtcp = new PublisherTrackRtcp({ ssrc: 7, cname: 'c', clockRate: 8000, sessionBps: defaultSessionBps('audio') });
    expect(blockOf(rtcp.report(0), 7, 'c')).toBeUndefined();
    for (let i = 0; i < 5; i++) rtcp.onRtp(1, 100 + i, i * 160, i * 20, 160);
    for (let i = 0; i < 3; i++) rtcp.onRtp(2, 9000 + i, i * 160, 200 + i * 20, 160);
    const b = blockOf(rtcp.report(300), 7, 'c')!;
    expect(b.ssrc).toBe(2);
    expect(b.extendedHighestSeq).toBe(9002);
    expect(b.lsr).toBe(0);
    expect(b.dlsr).toBe(0);
  });

  it('cumulative lost and highest seq match the gaps of any in-order trace', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), fc.array(fc.boolean(), { minLength: 3, maxLength: 300 }), (first, keep) => {
        keep[0] = keep[1] = true; // the first two packets pass probation
        keep[keep.length - 1] = true;
        const rtcp = new PublisherTrackRtcp({ ssrc: 9, cname: 'x', clockRate: 90000, sessionBps: 1e6 });
        let n = 0;
        keep.forEach((k, i) => {
          if (k) {
            rtcp.onRtp(5, (first + i) & 0xffff, i * 3000, i * 33, 100);
            n++;
          }
        });
        const b = blockOf(rtcp.report(keep.length * 33), 9, 'x')!;
        const expected = keep.length - 1;
        expect(b.cumulativeLost).toBe(expected - (n - 1));
        // A.1 counts cycles from the packet that ends probation (the second one).
        expect(b.extendedHighestSeq).toBe(((first + 1) & 0xffff) + keep.length - 2);
        expect(b.fractionLost).toBe(Math.floor(((expected - (n - 1)) * 256) / expected));
      }),
      { numRuns: 300 },
    );
  });

  it('the shared RR + SDES [+ BYE] compound is byte-exact (RFC 3550 §6.1 order)', () => {
    const buf = serializeReceiverReport({
      ssrc: 0x01020304,
      cname: 'ab',
      reports: [
        {
          ssrc: 0x0a0b0c0d,
          fractionLost: 0x19,
          cumulativeLost: 3,
          extendedHighestSeq: 0x0001ffd4,
          jitter: 0x2c,
          lsr: 0xb3c45678,
          dlsr: 0x00011999,
        },
      ],
      bye: 'x',
    });
    const hex = [
      '81c90007',
      '01020304', // RR, RC=1, length 7, our SSRC
      '0a0b0c0d',
      '19000003',
      '0001ffd4',
      '0000002c',
      'b3c45678',
      '00011999', // report block
      '81ca0003',
      '01020304',
      '0102616200000000', // SDES, one chunk: CNAME "ab", end, padding to 32 bits
      '81cb0002',
      '01020304',
      '01780000', // BYE with reason "x"
    ].join('');
    expect(buf.toString('hex')).toBe(hex);
  });

  it('the shared A.7 timing: halved minimum first, then 5 s, or avg size · members / RTCP bandwidth when larger', () => {
    const t = new ReceiverRtcpTiming();
    // One sender of two members is more than 25 %: no sender/receiver split, n = 2 over the whole
    // RTCP bandwidth. 16 kbit/s session: RTCP 100 B/s; avg 100 B → 2 s, under the 2.5 s initial minimum.
    expect(t.nextIntervalMs(16000, () => 0.5)).toBeCloseTo(2500 / 1.21828, 6);
    // 8 kbit/s: 50 B/s → 4 s, under the 5 s minimum.
    expect(t.nextIntervalMs(8000, () => 0.5)).toBeCloseTo(5000 / 1.21828, 6);
    expect(t.nextIntervalMs(8000, () => 0)).toBeCloseTo(2500 / 1.21828, 6);
    t.sent(372); // avg = 100 · 15/16 + 400/16 = 118.75
    expect(t.avgRtcpSize).toBeCloseTo(118.75, 9);
    expect(t.nextIntervalMs(2000, () => 0.5)).toBeCloseTo((((118.75 * 2) / ((2000 / 8) * 0.05)) * 1000) / 1.21828, 6);
  });
});
