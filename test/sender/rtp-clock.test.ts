/**
 * Issue 9: a stream's RTP clock runs with wall time across PLAYs, so a client that times media by
 * the last SR's NTP/RTP pair (live555 in VLC) sees no jump at a seek, a resume or a Scale change.
 * RtpStream.retime starts each segment at the timestamp the clock has reached; RTP-Info
 * (rtpTimeAt(start)) maps it to the new position. Pure: no source is read, times are given.
 */
import { describe, expect, it } from 'vitest';
import { PlayTimeline, RtpSender, RtpStream } from '../../src/sender/index.ts';
import type { SampleSource } from '../../src/sender/index.ts';
import { seededRandom } from '../../src/util/random.ts';

const RATE = 90000;
const FRAME = 3600;

function stream(): { s: RtpStream; base: number } {
  const format = { payloadType: 96, clockRate: RATE, bitrate: 1_000_000 };
  const sender = new RtpSender(format, { sendRtp: () => undefined }, seededRandom(9));
  const source = { format, sampleCount: 0 } as unknown as SampleSource;
  const noop = () => undefined;
  const s = new RtpStream('trackID=1', source, sender, new PlayTimeline(), noop, noop, noop);
  return { s, base: sender.timestampBase };
}

/** Unwrapped difference of two 32-bit RTP times. */
const diff = (a: number, b: number) => (a - b) | 0;

describe('RtpStream RTP clock across PLAYs', () => {
  it('first PLAY keeps the initial mapping: npt 0 is the random timestamp base', () => {
    const { s, base } = stream();
    s.retime(5, 1, 1, 1000, FRAME);
    expect(s.rtpTimeAt(0)).toBe(base >>> 0);
    expect(diff(s.rtpTimeAt(5), base)).toBe(5 * RATE);
  });

  it('a seek 2 s after the first PLAY starts at the timestamp wall time has reached, not at the new position', () => {
    const { s } = stream();
    s.retime(0, 1, 1, 10_000, FRAME);
    const first = s.rtpTimeAt(0);
    // Played 2 s, then PLAY Range npt=15-: the clock reads first + 2 s, and that is npt 15 now.
    s.retime(15, 1, 1, 12_000, FRAME);
    expect(diff(s.rtpTimeAt(15), first)).toBe(2 * RATE);
    expect(diff(s.rtpTimeAt(16), first)).toBe(3 * RATE);
    // Backwards too: npt 1 after 1 more second.
    s.retime(1, 1, 1, 13_000, FRAME);
    expect(diff(s.rtpTimeAt(1), first)).toBe(3 * RATE);
  });

  it('runs on at the wall-clock rate while paused, whatever the Speed was', () => {
    const { s } = stream();
    s.retime(0, 1, 2, 0, FRAME); // Speed 2: 2 s of media per second, timestamps at media spacing
    const first = s.rtpTimeAt(0);
    s.stop(1000); // paused after 1 s of wall time = 2 s of media
    s.retime(2, 1, 1, 4000, FRAME); // resumed 3 s later at Speed 1
    expect(diff(s.rtpTimeAt(2), first)).toBe(2 * RATE + 3 * RATE);
  });

  it('trick play: the clock runs at wall rate whatever the Scale, and back to Scale 1 without a jump', () => {
    const { s } = stream();
    s.retime(10, 2, 1, 0, FRAME); // fast forward from 10 s at the first PLAY: npt 10 is the base
    const first = s.rtpTimeAt(10);
    // 4 s of media at Scale 2 take 2 s: the timestamps of the segment say so.
    expect(diff(s.rtpTimeAt(14), first)).toBe(2 * RATE);
    s.retime(14, 1, 1, 2000, FRAME);
    expect(diff(s.rtpTimeAt(14), first)).toBe(2 * RATE);
    s.retime(14, -4, 1, 2500, FRAME); // rewind: media time goes down, RTP time up
    expect(diff(s.rtpTimeAt(14), first)).toBe(2.5 * RATE);
    expect(diff(s.rtpTimeAt(10), first)).toBe(3.5 * RATE);
  });
});
