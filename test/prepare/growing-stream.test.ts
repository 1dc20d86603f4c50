/**
 * RtpStream over a source still being written (manual clock, no disk): it waits at the end of what
 * is there instead of ending, wakes when the source grows, reloads a chunk that was short when it
 * was made, continues at the normal pace after a stall (the timeline is re-anchored: no burst, RTP
 * timestamps unchanged), and ends once the source stops growing (written, or failed).
 */
import { describe, expect, it } from 'vitest';
import { CHUNK_SAMPLES } from '../../src/sender/packetized-track.ts';
import type { PacketizedSample, TrackGrowth } from '../../src/sender/packetized-track.ts';
import type { PayloadFormat } from '../../src/sender/payload-formats.ts';
import { PlayTimeline } from '../../src/sender/play-timeline.ts';
import { RtpStream } from '../../src/sender/rtp-stream.ts';
import type { SampleSource } from '../../src/sender/rtp-stream.ts';
import type { Egress } from '../../src/transport/index.ts';
import { RtpSender } from '../../src/sender/index.ts';
import { seededRandom } from '../../src/util/random.ts';

const FORMAT: PayloadFormat = {
  media: 'video',
  payloadType: 33,
  clockRate: 90000,
  rtpmap: 'MP2T/90000',
  fmtp: '',
  attributes: [],
  bitrate: 0,
  packetize: () => [],
};

/** Samples every 10 ms (sample i carries byte i); `available` of `total` there now. */
class GrowingSource implements SampleSource {
  readonly format = FORMAT;
  available: number;
  growing = true;
  private listeners = new Set<() => void>();
  /** Chunks made, with their length (a short one may be made again later). */
  readonly made: [number, number][] = [];
  readonly growth: TrackGrowth;
  constructor(
    readonly total: number,
    available: number,
  ) {
    this.available = available;
    const listeners = this.listeners;
    const self = this;
    this.growth = {
      get growing() {
        return self.growing;
      },
      onChange: (cb) => {
        listeners.add(cb);
        return () => listeners.delete(cb);
      },
    };
  }
  get sampleCount(): number {
    return this.available;
  }
  chunkOf(i: number): number {
    return Math.floor(i / CHUNK_SAMPLES);
  }
  peekChunk(): PacketizedSample[] | undefined {
    return undefined; // nothing cached: every chunk goes through loadChunk
  }
  loadChunk(c: number): Promise<PacketizedSample[]> {
    const from = c * CHUNK_SAMPLES;
    const to = Math.min(this.available, from + CHUNK_SAMPLES);
    this.made.push([c, to - from]);
    const out: PacketizedSample[] = [];
    for (let i = from; i < to; i++)
      out.push({
        dtsSec: i / 100,
        ptsSec: i / 100,
        rtpTime: i * 900,
        keyframe: true,
        payloads: [{ payload: Buffer.from([i & 0xff]), marker: false }],
      });
    return Promise.resolve(out);
  }
  grow(to: number, growing = true): void {
    this.available = to;
    this.growing = growing;
    for (const cb of [...this.listeners]) cb();
  }
}

function setup(total: number, available: number) {
  const source = new GrowingSource(total, available);
  const sent: { at: number; byte: number; ts: number }[] = [];
  let now = 0;
  const egress: Egress = {
    kind: 'udp',
    dropped: 0,
    sendRtp(header, payload) {
      sent.push({ at: now, byte: payload[0]!, ts: header.readUInt32BE(4) });
    },
    sendRtcp() {},
  };
  const timeline = new PlayTimeline();
  let rescheduled = 0;
  let ended = 0;
  const stream = new RtpStream(
    'trackID=0',
    source,
    new RtpSender(source.format, egress, seededRandom(1)),
    timeline,
    () => rescheduled++,
    () => ended++,
    (_s, e) => {
      throw e;
    },
  );
  const run = (ms: number) => {
    now = ms;
    return stream.run(ms);
  };
  return { source, sent, stream, timeline, run, counts: () => ({ rescheduled, ended }) };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('RtpStream at the end of a growing source', () => {
  it('waits, resumes on growth without a burst, reloads the short chunk, ends when written', async () => {
    const t = setup(100, 20);
    await t.stream.seek(0);
    t.timeline.start(0, 0);
    t.stream.start();
    expect(t.run(0)).toBe(10); // sample 0 sent, sample 1 due at 10 ms
    // At 190 ms samples 1..19 go; then the end of what is written: wait, no end.
    expect(t.run(190)).toBe(Infinity);
    expect(t.sent.map((s) => s.byte)).toEqual([...Array(20).keys()]);
    expect(t.counts()).toEqual({ rescheduled: 0, ended: 0 });
    expect(t.stream.ended).toBe(false);

    // The writer was slow: 30 more samples only at 500 ms. Sample 20 was due at 200 ms.
    t.source.grow(50);
    expect(t.counts().rescheduled).toBe(1);
    // The short chunk 0 (made with 20 samples) is made again, now with 50; back once loaded.
    expect(t.run(500)).toBe(Infinity);
    await flush();
    expect(t.counts().rescheduled).toBe(2);
    expect(t.run(500)).toBe(510);
    expect(t.source.made.filter(([c]) => c === 0).map(([, n]) => n)).toEqual([20, 50]);
    // Only sample 20 went at 500 ms (no catch-up burst); 21 is due 10 ms later.
    expect(t.sent.filter((s) => s.at === 500).map((s) => s.byte)).toEqual([20]);
    // Timestamps keep the media timeline: 900 ticks per sample, stall or not.
    expect((t.sent[20]!.ts - t.sent[19]!.ts) >>> 0).toBe(900);
    expect(t.run(790)).toBe(Infinity); // 21..49 sent, waiting again
    expect(t.sent).toHaveLength(50);

    // Written: the rest, then the end (once).
    t.source.grow(100, false);
    expect(t.counts().rescheduled).toBe(3);
    let at = 800;
    let r = t.run(at);
    for (let i = 0; i < 20 && r !== Infinity; i++) {
      await flush();
      r = t.run((at = Math.max(at, r)));
    }
    for (let i = 0; i < 10 && !t.stream.ended; i++) {
      await flush();
      t.run((at += 1000));
    }
    expect(t.sent.map((s) => s.byte)).toEqual([...Array(100).keys()]);
    expect(t.counts().ended).toBe(1);
  });

  it('ends at the end of what was written when the writer fails while it waits', async () => {
    const t = setup(100, 10);
    await t.stream.seek(0);
    t.timeline.start(0, 0);
    t.stream.start();
    expect(t.run(1000)).toBe(Infinity);
    expect(t.counts().ended).toBe(0);
    t.source.grow(10, false);
    expect(t.run(1100)).toBe(Infinity);
    expect(t.counts().ended).toBe(1);
    expect(t.sent).toHaveLength(10);
  });

  it('a stream that is not growing ends at its last sample as before', async () => {
    const t = setup(10, 10);
    t.source.growing = false;
    await t.stream.seek(0);
    t.timeline.start(0, 0);
    t.stream.start();
    expect(t.run(1000)).toBe(Infinity);
    expect(t.counts().ended).toBe(1);
  });
});
