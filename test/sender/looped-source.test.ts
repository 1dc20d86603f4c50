/**
 * A looped track is one endless RTP source: later passes start at the npt-0 sample, are shifted by
 * the loop period in decode, presentation and RTP time, and reuse the file's payloads. Streamed by
 * the server's RtpStream on a manual clock, sequence numbers run on by one and timestamps keep
 * increasing across the loop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkCache, openMediaEntry } from '../../src/server/index.ts';
import type { MediaEntry } from '../../src/server/index.ts';
import { CHUNK_SAMPLES } from '../../src/sender/packetized-track.ts';
import { PlayTimeline } from '../../src/sender/play-timeline.ts';
import { RtpStream } from '../../src/sender/rtp-stream.ts';
import { startIndexFor } from '../../src/sender/seek.ts';
import { LoopedSource, RtpSender, loopTracks } from '../../src/sender/index.ts';
import { seededRandom } from '../../src/util/random.ts';
import { Scheduler } from '../../src/transport/index.ts';
import type { Egress } from '../../src/transport/index.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { SAMPLE } from '../helpers/server.ts';

let entry: MediaEntry;
beforeAll(async () => {
  entry = await openMediaEntry(SAMPLE, 'sample.mp4', 1460, new ChunkCache());
});
afterAll(async () => {
  await entry.file.close();
});

describe('loopPeriodSec', () => {
  it('is where the longest track ends: the sample has 20 s of video and AAC ending at 20.011 s', () => {
    const { periodSec: period } = loopTracks(
      entry.durationSec,
      entry.tracks.map((t) => t.source),
    );
    // AAC: 939 packets of 1024 samples at 48 kHz, the first (priming, pts -1024) cut by the edit
    // list: the last one starts at 937 × 1024 and ends at 938 × 1024 samples = 20.0107 s.
    expect(period).toBeCloseTo((938 * 1024) / 48000, 6);
  });
});

describe('LoopedSource', () => {
  it('maps later passes onto the npt-0 samples, shifted by the period, with the same payloads', async () => {
    const period = 20.5;
    for (const [i, t] of entry.tracks.entries()) {
      const first = startIndexFor(
        entry.tracks.map((x) => x.source.track),
        0,
      ).indices[i]!;
      const base = t.source;
      const n = base.sampleCount;
      const looped = new LoopedSource(base, first, period, 3);
      expect(looped.sampleCount).toBe(n + 2 * (n - first));
      expect(looped.locate(n - 1)).toEqual({ pass: 0, index: n - 1 });
      expect(looped.locate(n)).toEqual({ pass: 1, index: first });
      expect(looped.locate(n + (n - first))).toEqual({ pass: 2, index: first });
      for (const at of [n - 1, n, n + 1, n + (n - first) + 5]) {
        const { pass, index } = looped.locate(at);
        const chunk = await looped.loadChunk(looped.chunkOf(at));
        const s = chunk[at % CHUNK_SAMPLES]!;
        const orig = (await base.loadChunk(base.chunkOf(index)))[index % CHUNK_SAMPLES]!;
        expect(s.payloads).toBe(orig.payloads);
        expect(s.ptsSec).toBeCloseTo(orig.ptsSec + pass * period, 9);
        expect(s.dtsSec).toBeCloseTo(orig.dtsSec + pass * period, 9);
        expect(s.rtpTime).toBe(orig.rtpTime + Math.round(pass * period * base.format.clockRate));
        expect(s.keyframe).toBe(orig.keyframe);
      }
      // Built chunks are there at once afterwards (the stream peeks before it loads).
      expect(looped.peekChunk(looped.chunkOf(n))).toBeDefined();
    }
  });

  it('refuses a start outside the track and a period that is not positive', () => {
    const base = entry.tracks[0]!.source;
    expect(() => new LoopedSource(base, base.sampleCount, 20)).toThrow(RangeError);
    expect(() => new LoopedSource(base, 0, 0)).toThrow(RangeError);
    expect(new LoopedSource(base, 0, 20).sampleCount).toBe(Infinity);
  });
});

interface Sent {
  seq: number;
  ts: number;
  ssrc: number;
  payload: Buffer;
}

/** An egress that keeps what the stream handed it (the header it wrote and the shared payload). */
function recordingEgress(out: Sent[]): Egress {
  return {
    kind: 'udp',
    dropped: 0,
    sendRtp(header, payload) {
      out.push({ seq: header.readUInt16BE(2), ts: header.readUInt32BE(4), ssrc: header.readUInt32BE(8), payload });
    },
    sendRtcp() {},
  };
}

describe('RtpStream over a LoopedSource (manual clock)', () => {
  it('sends two passes of the audio track as one source: seq +1, timestamps up by 1024 except one step at the loop', async () => {
    const clock = new ManualClock();
    const scheduler = new Scheduler(clock);
    const timeline = new PlayTimeline();
    const audio = entry.tracks[1]!.source;
    const first = startIndexFor(
      entry.tracks.map((x) => x.source.track),
      0,
    ).indices[1]!;
    const { periodSec: period, sources } = loopTracks(
      entry.durationSec,
      entry.tracks.map((t) => t.source),
      2,
    );
    const looped = sources[1]!;
    // Every chunk in memory first: the stream then never waits for the disk, and the manual clock
    // alone drives it.
    for (let c = 0; c <= audio.chunkOf(audio.sampleCount - 1); c++) await audio.loadChunk(c);
    const sent: Sent[] = [];
    let ended = false;
    const stream = new RtpStream(
      'trackID=2',
      looped,
      new RtpSender(looped.format, recordingEgress(sent), seededRandom(1)),
      timeline,
      (s) => scheduler.schedule(s, clock.now()),
      () => (ended = true),
      (_s, err) => {
        throw err;
      },
    );
    await stream.seek(first);
    timeline.start(0, clock.now());
    stream.start();
    scheduler.schedule(stream, clock.now());
    for (let ms = 0; ms < 45_000 && !ended; ms += 50) clock.advance(50);
    expect(ended).toBe(true);
    const perPass = audio.sampleCount - first;
    expect(sent).toHaveLength(2 * perPass); // one AAC frame per packet
    expect(new Set(sent.map((p) => p.ssrc)).size).toBe(1);
    for (let i = 1; i < sent.length; i++) expect(sent[i]!.seq).toBe((sent[i - 1]!.seq + 1) & 0xffff);
    const steps = sent.slice(1).map((p, i) => (p.ts - sent[i]!.ts) >>> 0);
    const odd = steps.map((s, i) => [i, s] as const).filter(([, s]) => s !== 1024);
    // Only the loop step differs: the period is where the audio ends, so it is exactly one frame.
    expect(odd).toEqual([]);
    // The second pass repeats the first one's payloads in order.
    for (let i = 0; i < perPass; i++) expect(sent[perPass + i]!.payload).toBe(sent[i]!.payload);
    // Timestamps match the presentation: 2 × period of audio at 48 kHz minus one frame.
    expect((sent.at(-1)!.ts - sent[0]!.ts) >>> 0).toBe(Math.round(2 * period * 48000) - 1024);
  });
});
