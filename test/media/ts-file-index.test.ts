/**
 * The MPEG-TS file index (src/media/ts-file): payload units of up to 7 packets, cut at random access
 * points (moved back to the PAT ffmpeg writes in front of a keyframe), timed by the PCR clock.
 * Byte-exact packets built here, then generated streams (fast-check) in any chunking.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { indexTs, TsIndexBuilder, TS_PACKET_SIZE } from '../../src/media/ts-file/index.ts';

import { AUDIO, PCR_HZ, VIDEO, packet, pat, pmt } from './ts-fixture.ts';

describe('TS index, byte-exact', () => {
  // 0 PAT, 1 PMT, 2 video RAI+PCR 0 s, 3..9 video, 10 audio, 11 PAT, 12 PMT, 13 video RAI+PCR 0.5 s,
  // 14..20 video, 21 video PCR 1.0 s.
  const packets = [
    pat(),
    pmt(),
    packet({ pid: VIDEO, pusi: true, rai: true, pcr: 0 }),
    ...Array.from({ length: 7 }, () => packet({ pid: VIDEO })),
    packet({ pid: AUDIO, pusi: true }),
    pat(),
    pmt(),
    packet({ pid: VIDEO, pusi: true, rai: true, pcr: PCR_HZ / 2 }),
    ...Array.from({ length: 7 }, () => packet({ pid: VIDEO })),
    packet({ pid: VIDEO, pcr: PCR_HZ }),
  ];
  const ts = Buffer.concat(packets);

  it('cuts units at random access points (from the PAT before them) and every 7 packets', () => {
    const ix = indexTs(ts);
    expect(ix.problems).toEqual([]);
    expect(ix.packetCount).toBe(22);
    expect([...ix.unitFirstPacket]).toEqual([0, 7, 11, 18]);
    expect([...ix.unitPackets]).toEqual([7, 4, 7, 4]);
    expect([...ix.unitRap]).toEqual([1, 0, 1, 0]);
    expect(ix.videoPids).toEqual([VIDEO]);
    expect(ix.esPids.sort()).toEqual([VIDEO, AUDIO]);
    expect(ix.pcrPid).toBe(VIDEO);
  });

  it('times units by the PCR clock: linear by packet position, first value before, last rate after', () => {
    const ix = indexTs(ts);
    // PCR points: packet 2 → 0 s, 13 → 0.5 s, 21 → 1.0 s.
    const want = [0, (0.5 * 5) / 11, (0.5 * 9) / 11, 0.5 + (0.5 * 5) / 8];
    [...ix.unitTimeSec].forEach((t, i) => expect(t).toBeCloseTo(want[i]!, 9));
    expect(ix.durationSec).toBeCloseTo(1 + 0.5 / 8, 9);
  });

  it('unwraps the 33-bit PCR and keeps the clock monotonic over a step back', () => {
    const wrap = 2 ** 33 * 300;
    const near = wrap - PCR_HZ / 10; // 0.1 s before the wrap
    const s = Buffer.concat([
      pat(),
      pmt(),
      packet({ pid: VIDEO, pusi: true, rai: true, pcr: near }),
      packet({ pid: VIDEO, pcr: PCR_HZ / 10 }), // 0.2 s later, after the wrap
      packet({ pid: VIDEO, pcr: 0 }), // a step back: held at the previous value
      packet({ pid: VIDEO, pcr: PCR_HZ / 5 }), // 0.3 s later than 'near'... after unwrap: 0.3 s
    ]);
    const b = new TsIndexBuilder();
    b.push(s);
    const ix = b.finish();
    // 'near' is t0; +0.2 s after the wrap; held at 0.2 s; 0.3 s; then 0.1 s a packet to the end.
    expect(ix.durationSec).toBeCloseTo(0.4, 9);
    expect([...ix.unitTimeSec]).toEqual([0]);
  });

  it('stops at a lost sync byte, reports a partial packet, refuses a stream without PCR', () => {
    const bad = Buffer.concat([ts.subarray(0, 5 * TS_PACKET_SIZE), Buffer.alloc(TS_PACKET_SIZE, 0), ts.subarray(5 * TS_PACKET_SIZE)]);
    const a = indexTs(bad);
    expect(a.packetCount).toBe(5);
    expect(a.problems.map((p) => [p.code, p.offset])).toContainEqual(['TS_ERR_NO_SYNC', 5 * TS_PACKET_SIZE]);
    const b = indexTs(Buffer.concat([ts, Buffer.alloc(100, 0x47)]));
    expect(b.packetCount).toBe(22);
    expect(b.problems.map((p) => p.code)).toEqual(['TS_ERR_TRUNCATED']);
    const c = indexTs(Buffer.concat([pat(), pmt(), packet({ pid: VIDEO, rai: true })]));
    expect(c.problems.map((p) => p.code)).toContain('TS_ERR_NO_PCR');
  });
});

describe('TS index, generated streams', () => {
  const step = fc.record({
    kind: fc.constantFrom('video', 'video', 'video', 'audio', 'pat'),
    rai: fc.boolean(),
    pcrStep: fc.option(fc.integer({ min: 0, max: PCR_HZ }), { nil: undefined }),
  });

  it('covers every packet once, in units of 1..7, times never decreasing, every video RAI at most 16 packets after a unit start marked RAP; any chunking gives the same index', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 300 }), fc.array(fc.integer({ min: 1, max: 2000 }), { maxLength: 20 }), (steps, cuts) => {
        let pcr = 1000;
        const packets = [pat(), pmt()];
        const raiAt: number[] = [];
        for (const s of steps) {
          if (s.kind === 'pat') {
            packets.push(pat(), pmt());
            continue;
          }
          if (s.pcrStep !== undefined) pcr += s.pcrStep;
          if (s.kind === 'video' && s.rai) raiAt.push(packets.length);
          packets.push(packet({ pid: s.kind === 'video' ? VIDEO : AUDIO, rai: s.rai, pusi: s.rai, ...(s.pcrStep !== undefined && s.kind === 'video' ? { pcr } : {}) }));
        }
        const ts = Buffer.concat(packets);
        const ix = indexTs(ts);
        let next = 0;
        for (let u = 0; u < ix.unitFirstPacket.length; u++) {
          expect(ix.unitFirstPacket[u]).toBe(next);
          expect(ix.unitPackets[u]).toBeGreaterThanOrEqual(1);
          expect(ix.unitPackets[u]).toBeLessThanOrEqual(7);
          next += ix.unitPackets[u]!;
          if (u > 0) expect(ix.unitTimeSec[u]!).toBeGreaterThanOrEqual(ix.unitTimeSec[u - 1]!);
        }
        expect(next).toBe(packets.length);
        const rapStarts = [...ix.unitFirstPacket].filter((_, u) => ix.unitRap[u] === 1);
        for (const k of raiAt) {
          if (k === 0) continue;
          expect(rapStarts.some((s) => s <= k && k - s <= 16)).toBe(true);
        }
        // Same index whatever the chunking of the input.
        const b = new TsIndexBuilder();
        let at = 0;
        for (const c of cuts) {
          b.push(ts.subarray(at, Math.min(ts.length, at + c)));
          at = Math.min(ts.length, at + c);
        }
        b.push(ts.subarray(at));
        const again = b.finish();
        expect([...again.unitFirstPacket]).toEqual([...ix.unitFirstPacket]);
        expect([...again.unitTimeSec]).toEqual([...ix.unitTimeSec]);
        expect([...again.unitRap]).toEqual([...ix.unitRap]);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary bytes, with or without sync bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 188 * 12 }), fc.boolean(), (bytes, sync) => {
        const buf = Buffer.from(bytes);
        if (sync) for (let i = 0; i < buf.length; i += TS_PACKET_SIZE) buf[i] = 0x47;
        const ix = indexTs(buf);
        expect(ix.packetCount).toBeLessThanOrEqual(Math.floor(buf.length / TS_PACKET_SIZE));
        const total = [...ix.unitPackets].reduce((a, b) => a + b, 0);
        expect(total).toBe(ix.packetCount);
      }),
      { numRuns: 1000 },
    );
  });
});
