/**
 * Issue 9: live555's receiver reports (VLC) say fraction lost 255/256 in their first report and
 * cumulative lost −1 later, with no loss. The record keeps the raw figures and names what cannot
 * be loss by RFC 3550 A.3, and its `qos` figures (what the QoS view reads) leave it out.
 */
import { describe, expect, it } from 'vitest';
import type { ReportBlock } from '../../src/rtcp/index.ts';
import { receiverReportRecord } from '../../src/sender/qos.ts';

const ctx = {
  sessionId: 's',
  media: 'sample.mp4',
  control: 'trackID=1',
  transport: 'udp' as const,
  from: '127.0.0.1:5000',
  reporterSsrc: 7,
  clockRate: 90000,
  arrivalWallMs: 1_000_000,
};
const block = (fractionLost: number, cumulativeLost: number): ReportBlock => ({
  ssrc: 1,
  fractionLost,
  cumulativeLost,
  extendedHighestSeq: 1000,
  jitter: 90,
  lsr: 0,
  dlsr: 0,
});

describe('receiver report quirks', () => {
  it.each([
    // [fraction (/256), cumulative, previous cumulative, quirks, qos fraction, qos cumulative]
    { f: 255, c: 0, prev: undefined, quirks: ['fraction-without-loss'], qf: 0, qc: 0 }, // live555's first report
    { f: 0, c: -1, prev: 0, quirks: ['negative-cumulative'], qf: 0, qc: 0 }, // live555 later
    { f: 255, c: -1, prev: undefined, quirks: ['fraction-without-loss', 'negative-cumulative'], qf: 0, qc: 0 },
    { f: 26, c: 10, prev: 4, quirks: [], qf: 26 / 256, qc: 10 }, // real loss: 6 in the interval
    { f: 26, c: 10, prev: 10, quirks: ['fraction-without-loss'], qf: 0, qc: 10 }, // no new loss, yet a fraction
    { f: 64, c: 5, prev: undefined, quirks: [], qf: 64 / 256, qc: 5 }, // first report with real loss
    { f: 0, c: 0, prev: undefined, quirks: [], qf: 0, qc: 0 },
  ])('fraction $f/256, cumulative $c after $prev → $quirks', ({ f, c, prev, quirks, qf, qc }) => {
    const r = receiverReportRecord(block(f, c), { ...ctx, previous: prev === undefined ? undefined : { cumulativeLost: prev } });
    expect(r.fractionLost).toBe(f / 256); // raw values kept
    expect(r.cumulativeLost).toBe(c);
    expect(r.quirks).toEqual(quirks);
    expect(r.qos).toEqual({ fractionLost: qf, cumulativeLost: qc });
  });
});
