import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { serializeRtcpCompound } from '../../src/rtcp/index.ts';
import { MAX_DROPOUT, ReceiverSource } from '../../src/stats/index.ts';
import { createPrng } from '../../src/util/prng.ts';

describe('A.8 interarrival jitter on a hand-computed trace', () => {
  it('8 kHz audio, 20 ms packets', () => {
    const s = new ReceiverSource(0x1234, { clockRate: 8000 });
    // t=3   seq 100: probation (not counted, no jitter sample)
    expect(s.onRtp(100, 0, 3)).toBe('probation');
    // t=20  seq 101: validates the source; first jitter reference, J = 0
    expect(s.onRtp(101, 160, 20)).toBe('in-order');
    expect(s.jitter).toBe(0);
    // t=45  seq 102: D = 25 ms * 8 - 160 = +40; J = 0 + (40 - 0)/16 = 2.5
    s.onRtp(102, 320, 45);
    expect(s.jitter).toBe(2.5);
    // t=60  seq 103: D = 15 ms * 8 - 160 = -40; J = 2.5 + (40 - 2.5)/16 = 4.84375
    s.onRtp(103, 480, 60);
    expect(s.jitter).toBe(4.84375);
    // t=80  seq 104: D = 0; J = 4.84375 * 15/16 = 4.541015625
    s.onRtp(104, 640, 80);
    expect(s.jitter).toBe(4.541015625);
    expect(s.jitterMs).toBe(4.541015625 / 8);
    // the report carries floor(J) in timestamp units
    expect(s.makeReportBlock(100).jitter).toBe(4);
  });

  it('timestamps wrapping 2^32 -> 0 do not disturb jitter', () => {
    const s = new ReceiverSource(1, { clockRate: 90000, minSequential: 1 });
    let ts = 0xffffffff - 3000 * 3 + 1; // wraps after 3 packets
    for (let i = 0; i < 8; i++) {
      s.onRtp(i, ts >>> 0, i * (1000 / 30)); // 30 fps, exactly on time
      ts += 3000;
    }
    expect(s.jitter).toBeCloseTo(0, 9);
  });

  it('uniform ±a transit noise converges to 2a/3 (seeded PRNG)', () => {
    const rng = createPrng(2024);
    const s = new ReceiverSource(1, { clockRate: 90000, minSequential: 1 });
    const a = 5; // ms
    let sum = 0;
    let n = 0;
    for (let i = 0; i < 30000; i++) {
      const noise = (rng.next() * 2 - 1) * a;
      s.onRtp(i & 0xffff, (i * 900) >>> 0, 1000 + i * 10 + noise);
      if (i >= 1000) {
        sum += s.jitterMs;
        n++;
      }
    }
    expect(Math.abs(sum / n - (2 * a) / 3) / ((2 * a) / 3)).toBeLessThan(0.03);
  });

  it('normal transit noise σ converges to 2σ/√π ≈ 1.128σ (seeded PRNG)', () => {
    const rng = createPrng(7);
    const s = new ReceiverSource(1, { clockRate: 48000, minSequential: 1 });
    const sigma = 4; // ms
    let sum = 0;
    let n = 0;
    for (let i = 0; i < 30000; i++) {
      // Box-Muller
      const z = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
      s.onRtp(i & 0xffff, (i * 960) >>> 0, 1000 + i * 20 + sigma * z);
      if (i >= 1000) {
        sum += s.jitterMs;
        n++;
      }
    }
    expect(Math.abs(sum / n - 1.1283791671 * sigma) / (1.1283791671 * sigma)).toBeLessThan(0.03);
  });
});

describe('A.1 / A.3 sequence validation and loss', () => {
  it('follows a narrated trace across 65535 -> 0 with loss, duplicate and reorder', () => {
    const s = new ReceiverSource(0xbc5e9a40, { clockRate: 90000 });
    const t = (seq: number) => s.onRtp(seq, 0, 0, 100);
    expect(t(65533)).toBe('probation'); // first packet: probation 2 -> 1
    expect(t(65534)).toBe('in-order'); // probation over: base_seq = 65534, received = 1
    expect(t(65535)).toBe('in-order');
    expect(t(0)).toBe('in-order'); // wrap: cycles = 1
    expect(t(2)).toBe('in-order'); // 1 is missing
    expect(t(3)).toBe('in-order');
    // Interval 1: ext max = 65536 + 3; expected = 65539 - 65534 + 1 = 6; received = 5
    // lost = 1; fraction = (1 << 8) / 6 = 42 (integer division)
    expect(s.makeReportBlock(0)).toEqual({
      ssrc: 0xbc5e9a40,
      fractionLost: 42,
      cumulativeLost: 1,
      extendedHighestSeq: 0x00010003,
      jitter: 0,
      lsr: 0,
      dlsr: 0,
    });

    expect(t(4)).toBe('in-order');
    expect(t(4)).toBe('duplicate'); // counted as received, as the RFC does
    expect(t(1)).toBe('late'); // the "lost" packet arrives 3 behind
    expect(t(1)).toBe('duplicate'); // and again
    expect(t(5)).toBe('in-order');
    // Interval 2: expected = 65541 - 65534 + 1 = 8; received = 5 + 5 = 10; lost = -2 (signed)
    // expected_interval = 2, received_interval = 5 -> lost_interval < 0 -> fraction 0
    expect(s.makeReportBlock(0)).toMatchObject({ fractionLost: 0, cumulativeLost: -2, extendedHighestSeq: 0x00010005 });

    expect(t(10)).toBe('in-order'); // 6..9 lost
    // Interval 3: expected = 13, received = 11, lost = 2; interval: expected 5, received 1 -> 4 lost
    // fraction = (4 << 8) / 5 = 204
    expect(s.makeReportBlock(0)).toMatchObject({ fractionLost: 204, cumulativeLost: 2, extendedHighestSeq: 0x0001000a });
    // An interval with nothing expected reports fraction 0
    expect(s.makeReportBlock(0).fractionLost).toBe(0);

    const snap = s.snapshot();
    expect(snap).toMatchObject({
      valid: true,
      received: 11,
      expected: 13,
      lost: 2,
      duplicates: 2,
      reordered: 1,
      cycles: 1,
      baseSeq: 65534,
      octets: 1100,
    });
  });

  it('probation restarts on a gap and survives 65535 -> 0', () => {
    const s = new ReceiverSource(1, { clockRate: 8000 });
    expect(s.onRtp(10, 0, 0)).toBe('probation');
    expect(s.onRtp(12, 0, 0)).toBe('probation'); // not 11: probation back to MIN_SEQUENTIAL - 1
    expect(s.valid).toBe(false);
    expect(s.makeReportBlock(0)).toMatchObject({ cumulativeLost: 0, extendedHighestSeq: 0, fractionLost: 0 });
    expect(s.onRtp(65535, 0, 0)).toBe('probation');
    expect(s.onRtp(0, 0, 0)).toBe('in-order'); // 65535 + 1 = 0 (mod 2^16) completes probation
    expect(s.snapshot()).toMatchObject({ valid: true, baseSeq: 0, received: 1, expected: 1 });
  });

  it('a large jump is rejected once, then resyncs when the next packet follows it', () => {
    const s = new ReceiverSource(1, { clockRate: 8000, minSequential: 1 });
    for (let q = 0; q <= 10; q++) s.onRtp(q, q * 160, q * 20);
    expect(s.onRtp(20000, 0, 300)).toBe('jump'); // udelta 19990 > MAX_DROPOUT: not counted
    expect(s.onRtp(11, 1760, 301)).toBe('in-order'); // the old stream continues: fine
    expect(s.onRtp(20000, 0, 302)).toBe('jump');
    expect(s.onRtp(20001, 160, 320)).toBe('resync'); // == bad_seq: init_seq(20001)
    expect(s.snapshot()).toMatchObject({ received: 1, expected: 1, baseSeq: 20001, resyncs: 1, badSeqJumps: 2 });
    expect(s.makeReportBlock(400)).toMatchObject({ cumulativeLost: 0, fractionLost: 0, extendedHighestSeq: 20001 });
  });

  it('a forward gap just under MAX_DROPOUT is loss, not a jump', () => {
    const s = new ReceiverSource(1, { clockRate: 8000, minSequential: 1 });
    s.onRtp(0, 0, 0);
    expect(s.onRtp(MAX_DROPOUT - 1, 0, 0)).toBe('in-order');
    expect(s.makeReportBlock(0)).toMatchObject({ cumulativeLost: MAX_DROPOUT - 2, extendedHighestSeq: MAX_DROPOUT - 1 });
    expect(s.onRtp(MAX_DROPOUT - 1 + MAX_DROPOUT, 0, 0)).toBe('jump');
  });

  it('packets 100 or more behind are treated as a jump, 99 behind as late', () => {
    const s = new ReceiverSource(1, { clockRate: 8000, minSequential: 1 });
    for (let q = 0; q <= 200; q++) if (q !== 101 && q !== 100) s.onRtp(q, 0, 0);
    expect(s.onRtp(101, 0, 0)).toBe('late'); // 99 behind
    expect(s.onRtp(100, 0, 0)).toBe('jump'); // 100 behind: udelta = 65436 <= 65536 - 100
  });

  it('cumulative lost clamps to +0x7fffff', () => {
    const s = new ReceiverSource(1, { clockRate: 8000, minSequential: 1 });
    let q = 0;
    s.onRtp(q, 0, 0);
    for (let i = 0; i < 2900; i++) {
      q = (q + 2999) & 0xffff; // 2998 lost each step
      s.onRtp(q, 0, 0);
    }
    expect(s.snapshot().lost).toBe(2900 * 2998); // 8 694 200 > 8 388 607
    const b = s.makeReportBlock(0);
    expect(b.cumulativeLost).toBe(0x7fffff);
    expect(b.fractionLost).toBe(Math.floor((2900 * 2998 * 256) / (2900 * 2999 + 1)));
    expect(b.extendedHighestSeq).toBe((2900 * 2999) >>> 0);
  });

  it('fraction lost is per interval, not from the cumulative totals', () => {
    const s = new ReceiverSource(1, { clockRate: 8000, minSequential: 1 });
    s.onRtp(0, 0, 0);
    s.makeReportBlock(0); // interval 0: expected 1, received 1
    s.onRtp(50, 0, 0); // interval 1: expected 50, received 1 -> 49 * 256 / 50 = 250
    expect(s.makeReportBlock(0)).toMatchObject({ fractionLost: 250, cumulativeLost: 49 });
    for (let q = 51; q <= 60; q++) s.onRtp(q, 0, 0); // interval 2: nothing lost
    expect(s.makeReportBlock(0)).toMatchObject({ fractionLost: 0, cumulativeLost: 49 });
  });

  it('property: random arrival orders never throw and always give a serializable block', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 65535 }),
        fc.array(fc.integer({ min: -150, max: 4000 }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 3 }),
        (start, steps, minSequential) => {
          const s = new ReceiverSource(9, { clockRate: 90000, minSequential });
          let q = start;
          let t = 0;
          for (const d of steps) {
            q = (q + d) & 0xffff;
            t += 5;
            s.onRtp(q, (q * 3000) >>> 0, t, 10);
            if (d % 7 === 0) {
              const b = s.makeReportBlock(t);
              expect(b.fractionLost).toBeGreaterThanOrEqual(0);
              expect(b.fractionLost).toBeLessThanOrEqual(255);
              expect(serializeRtcpCompound([{ type: 'rr', ssrc: 1, reports: [b] }]).length).toBe(32);
            }
          }
          const snap = s.snapshot();
          expect(snap.received).toBeGreaterThanOrEqual(0);
          expect(Number.isFinite(snap.jitter)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('LSR / DLSR and the RR on the wire', () => {
  it('report block after an SR, serialized into an RR byte-exact', () => {
    const s = new ReceiverSource(0xbc5e9a40, { clockRate: 8000, minSequential: 1 });
    for (let q = 0; q < 10; q++) if (q !== 4) s.onRtp(q, q * 160, q * 20);
    // SR with NTP 0xb44db705:20000000 arrives at t = 1000 ms; report at t = 6250 ms.
    s.onSenderReport(0xb7052000, 1000);
    const block = s.makeReportBlock(6250);
    // expected 10, received 9: lost 1, fraction 256/10 = 25; DLSR 5.25 s = 0x00054000
    expect(block).toEqual({
      ssrc: 0xbc5e9a40,
      fractionLost: 25,
      cumulativeLost: 1,
      extendedHighestSeq: 9,
      jitter: 0,
      lsr: 0xb7052000,
      dlsr: 0x00054000,
    });
    const bytes = serializeRtcpCompound([{ type: 'rr', ssrc: 0x902f9e2e, reports: [block] }]);
    expect(bytes.toString('hex')).toBe(
      [
        '81c90007', // v=2 p=0 rc=1 | PT=201 RR | length=7
        '902f9e2e', // reporter SSRC
        'bc5e9a40', // source SSRC
        '19000001', // fraction 25 | cumulative lost 1
        '00000009', // ext highest seq 9
        '00000000', // jitter 0
        'b7052000', // LSR
        '00054000', // DLSR
      ].join(''),
    );
  });

  it('no SR yet: LSR and DLSR are 0', () => {
    const s = new ReceiverSource(1, { clockRate: 8000, minSequential: 1 });
    s.onRtp(0, 0, 0);
    expect(s.makeReportBlock(5000)).toMatchObject({ lsr: 0, dlsr: 0 });
  });
});
