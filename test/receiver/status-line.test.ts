/**
 * The play status line fits the terminal (issue 9: ~165 characters scrolled a new line per refresh
 * at 80 or 160 columns): the most detailed form that fits, never more than columns - 1.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { formatStatusLine } from '../../src/receiver/status-line.ts';
import type { StatusInput } from '../../src/receiver/status-line.ts';

/** The figures of the run: a 165-character line before. */
const RUN: StatusInput = {
  paused: false,
  positionSec: 12.4,
  transport: 'udp',
  tracks: [
    { media: 'video', kbps: 1234, packets: 1737, lost: 12, late: 3, jitterMs: 22.58, delayMs: 490, targetMs: 580, rttMs: 9.7 },
    { media: 'audio', kbps: 130, packets: 938, lost: 0, late: 0, jitterMs: 0.8, delayMs: 498, targetMs: 500, rttMs: 1.8 },
  ],
};

it('is the full line when the terminal is wide enough', () => {
  const line = formatStatusLine(RUN, 200);
  expect(line).toBe(
    '12.4 s udp | v: 1234 kb/s 1737 pkts lost 12 late 3 jitter 22.6 ms buf 490/580 ms rtt 9.7 ms | a: 130 kb/s 938 pkts lost 0 late 0 jitter 0.8 ms buf 498/500 ms rtt 1.8 ms',
  );
  expect(line.length).toBeGreaterThan(159);
});

it('is shorter at 160 and at 80 columns, never reaching the last column', () => {
  expect(formatStatusLine(RUN, 160)).toBe(
    '12.4s udp v 1234kb/s lost 12 late 3 jit 23ms buf 490/580ms rtt 10ms a 130kb/s lost 0 late 0 jit 1ms buf 498/500ms rtt 2ms',
  );
  expect(formatStatusLine(RUN, 80)).toBe('12.4s udp v 1234k L12/3 j23 b490 a 130k L0/0 j1 b498');
  expect(formatStatusLine({ ...RUN, paused: true }, 80)).toBe('PAUSED 12.4s udp v 1234k L12/3 j23 b490 a 130k L0/0 j1 b498');
});

it('fits any terminal width with any figures', () => {
  const track = fc.record({
    media: fc.constantFrom('video', 'audio', 'application'),
    kbps: fc.nat(10 ** 7),
    packets: fc.nat(10 ** 9),
    lost: fc.nat(10 ** 9),
    late: fc.nat(10 ** 9),
    jitterMs: fc.double({ min: 0, max: 1e6, noNaN: true }),
    delayMs: fc.double({ min: 0, max: 1e6, noNaN: true }),
    targetMs: fc.double({ min: 0, max: 1e6, noNaN: true }),
    rttMs: fc.option(fc.double({ min: 0, max: 1e5, noNaN: true }), { nil: undefined }),
  });
  fc.assert(
    fc.property(fc.array(track, { maxLength: 6 }), fc.boolean(), fc.integer({ min: 1, max: 400 }), (tracks, paused, columns) => {
      const line = formatStatusLine({ paused, positionSec: 3600.25, transport: 'tcp', tracks }, columns);
      expect(line.length).toBeLessThanOrEqual(Math.max(1, columns - 1));
      expect(line).not.toMatch(/[\r\n]/);
    }),
    { seed: 9, numRuns: 300 },
  );
});
