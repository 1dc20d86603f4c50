/**
 * A live track's fan-out paced by the millisecond (FANOUT_DATAGRAMS_PER_MS): a frame whose packets
 * would hand more datagrams than that to the viewers in one millisecond is held and sent a
 * millisecond at a time, in order, each viewer getting every packet; a small audience is never
 * held; the hold is bounded (MAX_HELD_PACKETS, then everything goes, counted and logged); a
 * viewer joining mid-burst is told the held packet's sequence number. Manual clock.
 */
import { describe, expect, it } from 'vitest';
import { FANOUT_DATAGRAMS_PER_MS, LiveTrack, MAX_HELD_PACKETS } from '../../src/server/live/live-track.ts';
import type { LiveTrackFormat } from '../../src/server/live/live-track.ts';
import { Scheduler } from '../../src/transport/index.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { seededRandom } from '../../src/util/random.ts';
import { logLinesForSuite } from '../helpers/log-lines.ts';

const video: LiveTrackFormat = {
  media: 'video',
  payloadType: 96,
  clockRate: 90000,
  rtpmap: 'H264/90000',
  fmtp: '',
  attributes: [],
  bitrate: 0,
};

/** An audience for which one packet's fan-out fits a millisecond and two do not. */
const LARGE = Math.floor(FANOUT_DATAGRAMS_PER_MS / 2) + 1;

function setup(viewers: number, format = video) {
  const clock = new ManualClock();
  const totals = { fanoutHeld: 0, fanoutOverflows: 0 };
  const track = new LiveTrack('trackID=1', format, clock, seededRandom(3), { scheduler: new Scheduler(clock, 1), totals });
  /** Per viewer: [clock ms, sequence number] of each packet it got. */
  const got: [number, number][][] = Array.from({ length: viewers }, () => []);
  /** The lane of every datagram handed to any viewer. */
  const lanes = new Set<string>();
  for (const g of got) {
    track.sinks.add({
      egress: {
        sendRtp: (h: Buffer, _p: Buffer, lane: string) => {
          g.push([clock.now(), h.readUInt16BE(2)]);
          lanes.add(lane);
        },
      } as never,
      waitingForKeyframe: false,
      joinedAtMs: 0,
      packets: 0,
      bytes: 0,
    });
  }
  /** A frame of `n` packets sent at once, as a stream's run does. */
  const frame = (n: number, ts: number) => {
    for (let i = 0; i < n; i++) track.send(i === n - 1, ts, Buffer.alloc(100, i), i === 0);
  };
  return { clock, track, got, frame, totals, lanes };
}

describe('live fan-out pacing', () => {
  const logs = logLinesForSuite('warn');
  it('a burst beyond the budget goes a millisecond at a time, in order, to every viewer', () => {
    expect(2 * LARGE).toBeGreaterThan(FANOUT_DATAGRAMS_PER_MS);
    const { clock, track, got, frame, totals } = setup(LARGE);
    clock.advance(10);
    frame(3, 1000);
    // The first packet at once, the two others held.
    expect(got[0]!.map(([t]) => t)).toEqual([10]);
    clock.advance(5);
    const first = got[0]!.map(([, seq]) => seq);
    expect(got[0]!.map(([t]) => t)).toEqual([10, 11, 12]);
    expect(first).toEqual([first[0]!, (first[0]! + 1) & 0xffff, (first[0]! + 2) & 0xffff]);
    for (const g of got) expect(g.map(([, seq]) => seq)).toEqual(first);
    expect(track.pacing).toEqual({ heldPackets: 2, pacingOverflows: 0 });
    expect(totals).toEqual({ fanoutHeld: 2, fanoutOverflows: 0 });
  });

  it("every datagram keeps its track's lane, held ones too: video bulk, audio urgent", () => {
    const v = setup(LARGE);
    v.frame(3, 1000);
    v.clock.advance(5);
    expect([v.track.pacing.heldPackets, [...v.lanes]]).toEqual([2, ['bulk']]);
    const a = setup(LARGE, { ...video, media: 'audio', clockRate: 48000, rtpmap: 'MPEG4-GENERIC/48000/2' });
    a.frame(3, 1000);
    a.clock.advance(5);
    expect([a.track.pacing.heldPackets, [...a.lanes]]).toEqual([2, ['urgent']]);
  });

  it('a packet sent while others are held waits behind them', () => {
    const { clock, got, frame } = setup(LARGE);
    frame(3, 1000);
    clock.advance(0.5);
    frame(1, 4000);
    clock.advance(10);
    const seqs = got[7]!.map(([, seq]) => seq);
    expect(seqs.map((s) => (s - seqs[0]! + 0x10000) & 0xffff)).toEqual([0, 1, 2, 3]);
    expect(got[7]!.map(([t]) => t)).toEqual([0, 1, 2, 3]);
  });

  it('a small audience gets a whole frame at once, nothing held', () => {
    const viewers = Math.floor(FANOUT_DATAGRAMS_PER_MS / 8);
    const { clock, track, got, frame } = setup(viewers);
    frame(8, 1000);
    expect(got[0]!.map(([t]) => t)).toEqual(Array(8).fill(0));
    clock.advance(5);
    expect(track.pacing.heldPackets).toBe(0);
  });

  it(`holds at most ${MAX_HELD_PACKETS} packets, then sends everything held at once`, () => {
    const { clock, track, got, frame, totals } = setup(FANOUT_DATAGRAMS_PER_MS);
    frame(MAX_HELD_PACKETS + 2, 1000);
    expect(got[0]!).toHaveLength(MAX_HELD_PACKETS + 2);
    expect(track.pacing.pacingOverflows).toBe(1);
    expect(totals).toEqual({ fanoutHeld: MAX_HELD_PACKETS + 1, fanoutOverflows: 1 });
    expect(logs).toEqual([
      expect.objectContaining({ level: 'warn', component: 'live', msg: 'live fan-out hold full: held packets sent at once', overflows: 1 }),
    ]);
    clock.advance(5);
    expect(got[0]!).toHaveLength(MAX_HELD_PACKETS + 2);
  });

  it('a millisecond that starts just below a power of two ends on time (1023.6 + 1 rounds down)', () => {
    const { clock, track, got, frame } = setup(LARGE);
    clock.advance(1023.6);
    expect(1023.6 + 1 - 1023.6).toBeLessThan(1);
    frame(3, 1000);
    clock.advance(5);
    // Each held packet went in the next millisecond, no wake-up spun on its own due time.
    expect(got[0]!.map(([t]) => t)).toEqual([1023.6, 1023.6 + 1, 1023.6 + 1 + 1]);
    expect(track.pacing.heldPackets).toBe(2);
  });

  it('without a scheduler (tests, tools) nothing is paced', () => {
    const clock = new ManualClock();
    const track = new LiveTrack('trackID=1', video, clock, seededRandom(3));
    let n = 0;
    for (let i = 0; i < 1000; i++)
      track.sinks.add({ egress: { sendRtp: () => n++ } as never, waitingForKeyframe: false, joinedAtMs: 0, packets: 0, bytes: 0 });
    track.send(true, 0, Buffer.alloc(10), true);
    track.send(true, 0, Buffer.alloc(10), false);
    expect(n).toBe(2000);
  });
});

it("a viewer joining while a burst is held is told the held packet's sequence number (RTP-Info)", () => {
  const { clock, track, frame } = setup(LARGE);
  frame(3, 1000);
  const sent = track.sender.seq;
  // Two packets held: the next one the viewers get is two before the sender's next.
  expect(track.nextSeq).toBe((sent - 2) & 0xffff);
  clock.advance(5);
  expect(track.nextSeq).toBe(sent);
});
