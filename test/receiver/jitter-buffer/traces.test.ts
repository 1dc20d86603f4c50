/**
 * Exact traces in simulated time, fixed mode (the applied delay only moves when the fastest
 * transit moves, and in these traces the first packet stays the fastest, so every deadline is
 * media(ts) + first transit + delayMs, computed by hand in the tables).
 */
import { describe, expect, it } from 'vitest';
import { JitterBuffer } from '../../../src/receiver/jitter-buffer/index.ts';
import type { JitterPacketEvent } from '../../../src/receiver/jitter-buffer/index.ts';
import { SSRC_B, fmt, pkt } from './helpers.ts';
import { at } from '../../../src/util/narrow.ts';

describe('in order', () => {
  it('releases each packet at media(ts) + base + delay', () => {
    const jb = new JitterBuffer({ mode: 'fixed', delayMs: 100, clockRate: 8000 });
    // t     seq  ts    media  transit  deadline = media + 1000 (base) + 100
    // 1000  10   8000  0      1000     1100
    // 1025  11   8160  20     1005     1120
    // 1041  12   8320  40     1001     1140
    // 1060  13   8480  60     1000     1160
    expect(jb.nextDeadline()).toBeUndefined();
    expect(jb.push(pkt(10, 8000), 1000)).toBe('accepted');
    expect(jb.push(pkt(11, 8160), 1025)).toBe('accepted');
    expect(jb.push(pkt(12, 8320), 1041)).toBe('accepted');
    expect(jb.push(pkt(13, 8480), 1060)).toBe('accepted');
    expect(jb.nextDeadline()).toBe(1100);
    expect(jb.poll(1099.9)).toEqual([]);
    const first = jb.poll(1100);
    expect(fmt(first)).toEqual(['p10@1100']);
    const e = first[0] as JitterPacketEvent;
    expect(e.packet.sequence).toBe(10);
    expect(e.packet.payload).toEqual(Buffer.from([10]));
    expect(e.extendedTimestamp).toBe(8000);
    expect(e.arrivalMs).toBe(1000);
    expect(e.playoutDelayMs).toBe(100);
    expect(e.lostBefore).toBe(0);
    expect(e.forced).toBe(false);
    expect(jb.nextDeadline()).toBe(1120);
    expect(fmt(jb.poll(1130))).toEqual(['p11@1120']); // held 1130 - 1025 = 105 ms
    expect(fmt(jb.poll(1200))).toEqual(['p12@1140', 'p13@1160']); // held 159 and 140 ms
    expect(jb.nextDeadline()).toBeUndefined();
    const s = jb.stats();
    expect(s).toMatchObject({
      mode: 'fixed',
      targetDelayMs: 100,
      appliedDelayMs: 100,
      meanTargetDelayMs: 100,
      playoutDelayMs: 140,
      meanPlayoutDelayMs: (100 + 105 + 159 + 140) / 4,
      depthPackets: 0,
      depthMs: 0,
      received: 4,
      accepted: 4,
      released: 4,
      late: 0,
      lost: 0,
      duplicates: 0,
      reordered: 0,
      resyncs: 0,
    });
  });

  it('copies payloads by default and keeps the caller object with copyPayload: false', () => {
    const a = new JitterBuffer({ mode: 'fixed', delayMs: 10, clockRate: 8000 });
    const b = new JitterBuffer({ mode: 'fixed', delayMs: 10, clockRate: 8000, copyPayload: false });
    const p = pkt(1, 0);
    a.push(p, 0);
    b.push(p, 0);
    p.payload[0] = 0xee; // the receive buffer is reused
    const [ea] = a.poll(10) as JitterPacketEvent[];
    const [eb] = b.poll(10) as JitterPacketEvent[];
    expect(ea!.packet.payload[0]).toBe(1);
    expect(eb!.packet).toBe(p);
  });
});

describe('reorder and duplicates', () => {
  it('holds a reordered packet and drops duplicates of held and released packets', () => {
    const jb = new JitterBuffer({ mode: 'fixed', delayMs: 60, clockRate: 8000 });
    // t    event                 ts   media  transit  deadline (= media + 0 + 60)  outcome
    // 0    push 100              0    0      0        60                           accepted
    // 20   push 101              160  20     0        80                           accepted
    // 25   push 101 again                                                           duplicate (held)
    // 61   push 103              480  60     1        120                          accepted
    // 62   poll -> 100
    // 70   push 102 (reordered)  320  40     30       100                          accepted
    // 75   push 100 again                                                           duplicate (released)
    // 80   poll -> 101; 100 poll -> 102; 120 poll -> 103
    expect(jb.push(pkt(100, 0), 0)).toBe('accepted');
    expect(jb.push(pkt(101, 160), 20)).toBe('accepted');
    expect(jb.push(pkt(101, 160), 25)).toBe('duplicate');
    expect(jb.push(pkt(103, 480), 61)).toBe('accepted');
    expect(fmt(jb.poll(62))).toEqual(['p100@60']);
    expect(jb.push(pkt(102, 320), 70)).toBe('accepted');
    expect(jb.stats().depthPackets).toBe(3);
    expect(jb.stats().depthMs).toBe(40); // ts 160 .. 480 at 8 kHz
    expect(jb.push(pkt(100, 0), 75)).toBe('duplicate');
    expect(fmt(jb.poll(80))).toEqual(['p101@80']);
    expect(fmt(jb.poll(100))).toEqual(['p102@100']);
    expect(fmt(jb.poll(120))).toEqual(['p103@120']);
    expect(jb.stats()).toMatchObject({ received: 6, accepted: 4, released: 4, duplicates: 2, reordered: 1, late: 0, lost: 0 });
  });
});

describe('late arrival and loss', () => {
  it('drops a packet that arrives after its deadline and declares the gap at the next deadline', () => {
    const jb = new JitterBuffer({ mode: 'fixed', delayMs: 50, clockRate: 8000 });
    // t    event            ts   deadline (media + 50)  outcome
    // 0    push 1           0    50                     accepted
    // 20   push 2           160  70                     accepted
    // 50   poll -> 1
    // 60   push 4           480  110                    accepted
    // 70   poll -> 2
    // 90   poll -> nothing: 3 (deadline 90) is missing, the gap waits for 4's deadline
    // 95   push 3           320  90 < 95               late
    // 110  poll -> lost 3+1, 4 (lostBefore 1)
    // 115  push 3 again     behind the released sequence: late
    jb.push(pkt(1, 0), 0);
    jb.push(pkt(2, 160), 20);
    expect(fmt(jb.poll(50))).toEqual(['p1@50']);
    jb.push(pkt(4, 480), 60);
    expect(fmt(jb.poll(70))).toEqual(['p2@70']);
    expect(jb.poll(90)).toEqual([]);
    expect(jb.nextDeadline()).toBe(110);
    expect(jb.push(pkt(3, 320), 95)).toBe('late');
    const ev = jb.poll(110);
    expect(fmt(ev)).toEqual(['lost 3+1', 'p4@110']);
    expect((ev[1] as JitterPacketEvent).lostBefore).toBe(1);
    expect(jb.push(pkt(3, 320), 115)).toBe('late');
    expect(jb.stats()).toMatchObject({ received: 5, accepted: 3, released: 3, late: 2, lost: 1, duplicates: 0 });
  });

  it('accepts a packet arriving exactly at its deadline', () => {
    const jb = new JitterBuffer({ mode: 'fixed', delayMs: 50, clockRate: 8000 });
    jb.push(pkt(1, 0), 0);
    expect(jb.push(pkt(2, 160), 70)).toBe('accepted'); // deadline 20 + 50 = 70
    expect(fmt(jb.poll(70))).toEqual(['p1@50', 'p2@70']);
  });

  it('burst loss then recovery: one lost event for the whole burst, never waiting past the next deadline', () => {
    const jb = new JitterBuffer({ mode: 'fixed', delayMs: 40, clockRate: 8000 });
    // seq 20..29 sent every 20 ms (ts += 160), all on time (transit 0); 22..25 lost.
    // deadline(seq) = 20 * (seq - 20) + 40
    // t    push          poll -> events
    // 0    20
    // 20   21
    // 40                 20
    // 60                 21
    // 80..140            nothing (26 pushed at 120, deadline 160; 27 at 140, deadline 180)
    // 160  28            lost 22+4, 26
    // 180  29
    // 200                27, 28; 220: 29
    const send = (seq: number) => jb.push(pkt(seq, (seq - 20) * 160), (seq - 20) * 20);
    send(20);
    send(21);
    expect(fmt(jb.poll(40))).toEqual(['p20@40']);
    expect(fmt(jb.poll(60))).toEqual(['p21@60']);
    expect(jb.nextDeadline()).toBeUndefined();
    for (const t of [80, 100]) expect(jb.poll(t)).toEqual([]);
    send(26);
    expect(jb.poll(120)).toEqual([]);
    send(27);
    expect(jb.poll(140)).toEqual([]);
    expect(jb.nextDeadline()).toBe(160);
    send(28);
    const ev = jb.poll(160);
    expect(fmt(ev)).toEqual(['lost 22+4', 'p26@160']);
    expect((ev[1] as JitterPacketEvent).lostBefore).toBe(4);
    send(29);
    expect(fmt(jb.poll(200))).toEqual(['p27@180', 'p28@200']);
    expect(fmt(jb.poll(220))).toEqual(['p29@220']);
    expect(jb.stats()).toMatchObject({ released: 6, lost: 4, late: 0 });
  });
});

describe('wrap-around', () => {
  it('sequence 65535 -> 0 and timestamp 2^32 -> 0 in one trace; packets of one timestamp share a deadline', () => {
    const jb = new JitterBuffer({ mode: 'fixed', delayMs: 100, clockRate: 90000 });
    // 20 fps video at 90 kHz (4500 ticks = 50 ms per frame), two packets per frame.
    // frame  ts            seqs          arrivals   deadline (50 k + 100)
    // F0     2^32 - 9000   65533, 65534  0, 5       100
    // F1     2^32 - 4500   65535, 0      55, 52     150   (0 overtakes 65535)
    // F2     0             1, 2          lost, 105  200   (1 is lost)
    // F3     4500          3, 4          150, 155   250
    const T = 2 ** 32;
    expect(jb.push(pkt(65533, T - 9000, { marker: false }), 0)).toBe('accepted');
    expect(jb.push(pkt(65534, T - 9000), 5)).toBe('accepted');
    expect(jb.push(pkt(0, T - 4500), 52)).toBe('accepted');
    expect(jb.push(pkt(65535, T - 4500, { marker: false }), 55)).toBe('accepted');
    expect(fmt(jb.poll(100))).toEqual(['p65533@100', 'p65534@100']);
    expect(jb.push(pkt(2, 0), 105)).toBe('accepted');
    expect(jb.push(pkt(3, 4500, { marker: false }), 150)).toBe('accepted');
    expect(fmt(jb.poll(150))).toEqual(['p65535@150', 'p65536@150']);
    expect(jb.push(pkt(4, 4500), 155)).toBe('accepted');
    const f2 = jb.poll(200);
    expect(fmt(f2)).toEqual(['lost 65537+1', 'p65538@200']);
    expect((f2[1] as JitterPacketEvent).extendedTimestamp).toBe(T);
    const f3 = jb.poll(250) as JitterPacketEvent[];
    expect(fmt(f3)).toEqual(['p65539@250', 'p65540@250']);
    expect(f3.map((e) => e.extendedTimestamp)).toEqual([T + 4500, T + 4500]);
    expect(f3.map((e) => e.packet.sequence)).toEqual([3, 4]);
    expect(jb.stats()).toMatchObject({ released: 7, lost: 1, reordered: 1, late: 0 });
  });
});

describe('B-frames (timestamps not monotonic in decode order)', () => {
  it('releases in sequence order, each access unit no later than its own deadline', () => {
    // Slew disabled so the mapping stays where the first packet put it: deadline = 40 pts + 160.
    const jb = new JitterBuffer({ mode: 'fixed', delayMs: 150, clockRate: 90000, slewUp: 0, slewDown: 0 });
    // 25 fps (3600 ticks = 40 ms), decode order I0 P3 B1 B2 P6 B4 B5, one packet each, sent in
    // decode order every 40 ms, 10 ms network delay.
    // seq  frame  arrival  deadline   released at (min deadline of it and everything after it)
    // 1    I0     10       160        160
    // 2    P3     50       280        200  (B1 needs it decoded before 200)
    // 3    B1     90       200        200
    // 4    B2     130      240        240
    // 5    P6     170      400        320  (B4)
    // 6    B4     210      320        320
    // 7    B5     250      360        360
    const pts = [0, 3, 1, 2, 6, 4, 5];
    const released: { t: number; seq: number; deadline: number }[] = [];
    const poll = (t: number) => {
      for (const e of jb.poll(t)) if (e.type === 'packet') released.push({ t, seq: e.extendedSeq, deadline: e.deadlineMs });
    };
    const push = (i: number) => expect(jb.push(pkt(i + 1, at(pts, i) * 3600), 10 + 40 * i)).toBe('accepted');
    push(0); // 10
    push(1); // 50
    push(2); // 90
    push(3); // 130
    expect(jb.nextDeadline()).toBe(160);
    poll(160);
    expect(jb.nextDeadline()).toBe(200); // B1's deadline, though P3 is at the head
    push(4); // 170
    poll(200);
    push(5); // 210
    poll(240);
    push(6); // 250
    poll(320);
    poll(360);
    expect(released).toEqual([
      { t: 160, seq: 1, deadline: 160 },
      { t: 200, seq: 2, deadline: 280 },
      { t: 200, seq: 3, deadline: 200 },
      { t: 240, seq: 4, deadline: 240 },
      { t: 320, seq: 5, deadline: 400 },
      { t: 320, seq: 6, deadline: 320 },
      { t: 360, seq: 7, deadline: 360 },
    ]);
    expect(jb.stats()).toMatchObject({ released: 7, late: 0, lost: 0 });
  });
});

describe('sender restart', () => {
  it('new SSRC: confirmed by a second packet, flushes the old stream, re-syncs; a lone stray is discarded', () => {
    const jb = new JitterBuffer({ mode: 'fixed', delayMs: 50, clockRate: 8000 });
    // t    event                        outcome     notes
    // 0    A 500 ts 0                   accepted    deadline 50
    // 20   A 501 ts 160                 accepted    deadline 70
    // 40   A 502 ts 320                 accepted    deadline 90
    // 50   poll -> 500
    // 60   B 9000 ts 777777             probation
    // 80   B 9001 ts 777937             resync      501, 502 forced out (held 60, 40 ms), then
    //                                               'resync ssrc'; B syncs on 9000: base 60,
    //                                               deadlines 110, 130; ext seq two cycles up
    //                                               (2 x 65536 + 9000)
    // 140  C 1 ts 5                     probation   a stray
    // 150  B 9002 ts 778097             accepted    deadline 150 (on time); stray discarded
    jb.push(pkt(500, 0), 0);
    jb.push(pkt(501, 160), 20);
    jb.push(pkt(502, 320), 40);
    expect(fmt(jb.poll(50))).toEqual(['p500@50']);
    expect(jb.push(pkt(9000, 777777, { ssrc: SSRC_B }), 60)).toBe('probation');
    expect(fmt(jb.poll(60))).toEqual([]); // nothing due, old stream still held
    expect(jb.push(pkt(9001, 777937, { ssrc: SSRC_B }), 80)).toBe('resync');
    expect(jb.nextDeadline()).toBe(80); // events queued: poll now
    const ev = jb.poll(80);
    expect(fmt(ev)).toEqual(['p501@70!', 'p502@90!', 'resync ssrc']);
    expect(ev.map((e) => (e.type === 'packet' ? e.playoutDelayMs : e.type === 'resync' ? e.ssrc : -1))).toEqual([60, 40, SSRC_B]);
    expect(jb.nextDeadline()).toBe(110);
    expect(fmt(jb.poll(130))).toEqual(['p140072@110', 'p140073@130']);
    expect(jb.push(pkt(1, 5, { ssrc: 0x3333 }), 140)).toBe('probation');
    expect(jb.push(pkt(9002, 778097, { ssrc: SSRC_B }), 150)).toBe('accepted');
    expect(fmt(jb.poll(150))).toEqual(['p140074@150']); // no lost event across the resync
    expect(jb.stats()).toMatchObject({ received: 7, accepted: 6, released: 6, forced: 2, resyncs: 1, discarded: 1, lost: 0 });
  });

  it('sequence jump on the same SSRC (beyond MAX_DROPOUT) re-syncs once confirmed', () => {
    const jb = new JitterBuffer({ mode: 'fixed', delayMs: 50, clockRate: 8000 });
    jb.push(pkt(10, 0), 0);
    expect(fmt(jb.poll(50))).toEqual(['p10@50']);
    // +3001 from 10: beyond MAX_DROPOUT (3000)
    expect(jb.push(pkt(3011, 160), 20 + 40)).toBe('probation');
    expect(jb.push(pkt(3012, 320), 80)).toBe('resync');
    expect(fmt(jb.poll(80))).toEqual(['resync sequence']);
    // re-synced on 3011 (arrival 60, media 0): deadlines 110 and 130
    expect(fmt(jb.poll(130))).toEqual([`p${131072 + 3011}@110`, `p${131072 + 3012}@130`]);
    // +3000 (exactly MAX_DROPOUT) is still the same stream: 3001 packets of 20 ms after 3011
    expect(jb.push(pkt(3012 + 3000, 160 + 3001 * 160), 60 + 3001 * 20)).toBe('accepted');
    expect(jb.nextDeadline()).toBe(60 + 3001 * 20 + 50);
  });

  it('timestamp jump with continuous sequence (PAUSE then PLAY) re-syncs instead of dropping everything as late', () => {
    const jb = new JitterBuffer({ mode: 'fixed', delayMs: 50, clockRate: 8000 });
    jb.push(pkt(1, 0), 0);
    jb.push(pkt(2, 160), 20);
    expect(fmt(jb.poll(70))).toEqual(['p1@50', 'p2@70']);
    // 10 s later the stream resumes where its timestamps left off: transit +9980 ms
    expect(jb.push(pkt(3, 320), 10_020)).toBe('probation');
    expect(jb.push(pkt(4, 480), 10_040)).toBe('resync');
    expect(fmt(jb.poll(10_090))).toEqual(['resync timestamp', `p${131072 + 3}@10070`, `p${131072 + 4}@10090`]);
    expect(jb.stats()).toMatchObject({ late: 0, resyncs: 1, released: 4 });
  });

  it('a duplicated candidate does not confirm a restart', () => {
    const jb = new JitterBuffer({ mode: 'fixed', delayMs: 50, clockRate: 8000 });
    jb.push(pkt(1, 0), 0);
    expect(jb.push(pkt(7, 99, { ssrc: SSRC_B }), 10)).toBe('probation');
    expect(jb.push(pkt(7, 99, { ssrc: SSRC_B }), 11)).toBe('duplicate');
    expect(jb.stats().resyncs).toBe(0);
  });
});

describe('caps and flush', () => {
  it('maxPackets: the oldest is released early (forced) to make room', () => {
    const jb = new JitterBuffer({ mode: 'fixed', delayMs: 100, clockRate: 8000, maxPackets: 3 });
    // 1 2 _ 4 5 all on time; at the 4th held packet (5) the head (1) goes out early.
    for (const s of [1, 2, 4]) expect(jb.push(pkt(s, (s - 1) * 160), (s - 1) * 20)).toBe('accepted');
    expect(jb.nextDeadline()).toBe(100);
    expect(jb.push(pkt(5, 640), 80)).toBe('accepted');
    expect(jb.nextDeadline()).toBe(80);
    expect(fmt(jb.poll(80))).toEqual(['p1@100!']);
    expect(fmt(jb.poll(180))).toEqual(['p2@120', 'lost 3+1', 'p4@160', 'p5@180']);
    expect(jb.stats()).toMatchObject({ forced: 1, released: 4, lost: 1 });
  });

  it('maxDelayMs caps the fixed delay', () => {
    const jb = new JitterBuffer({ mode: 'fixed', delayMs: 300, clockRate: 8000, maxDelayMs: 200 });
    // maxDelayMs below delayMs is raised to delayMs: the cap never contradicts the fixed delay
    jb.push(pkt(1, 0), 0);
    expect(jb.nextDeadline()).toBe(300);
  });

  it('flush releases everything held (with gaps) and the next packet starts a new stream', () => {
    const jb = new JitterBuffer({ mode: 'fixed', delayMs: 100, clockRate: 8000 });
    jb.push(pkt(65535, 0), 0);
    jb.push(pkt(1, 320), 40);
    expect(fmt(jb.flush(50))).toEqual(['p65535@100!', 'lost 65536+1', 'p65537@140!']);
    expect(jb.nextDeadline()).toBeUndefined();
    // after a flush: a fresh start, extended sequence numbers continue two cycles above the
    // highest (65537 is in cycle 1 -> cycle 3)
    expect(jb.push(pkt(5, 123456), 1000)).toBe('accepted');
    expect(fmt(jb.poll(1100))).toEqual([`p${3 * 65536 + 5}@1100`]);
    expect(jb.stats()).toMatchObject({ forced: 2, lost: 1, released: 3, resyncs: 0 });
  });
});
