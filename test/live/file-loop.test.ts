/**
 * Simulated live on a manual clock: the sample (20 s, H.264 with B-frames + AAC) looped on a
 * channel, 45 s of channel time in a few hundred milliseconds. Every packet a sink gets is checked
 * across the loop boundaries: sequence numbers consecutive, audio timestamps +1024 each frame,
 * video presentation times of loop k+1 all after loop k's, one SSRC.
 */
import { describe, expect, it } from 'vitest';
import { parseRtpPacket } from '../../src/rtp/index.ts';
import { ChunkCache, openMediaEntry } from '../../src/server/index.ts';
import { FileLoopSource } from '../../src/server/live/file-source.ts';
import { LiveChannel } from '../../src/server/live/index.ts';
import { Scheduler } from '../../src/transport/index.ts';
import type { Egress } from '../../src/transport/index.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { SAMPLE } from '../helpers/server.ts';

class Collect implements Egress {
  readonly kind = 'udp';
  readonly dropped = 0;
  readonly packets: Buffer[] = [];
  sendRtp(header: Buffer, payload: Buffer): void {
    this.packets.push(Buffer.concat([header, payload]));
  }
  sendRtcp(): void {}
}

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Moves the manual clock on in 100 ms steps. Chunk reads are real file I/O and may finish after
 * the samples they hold were due: the feeder then sends them late, in order, so every step also
 * yields to I/O, and the end waits for the last reads.
 */
async function run(clock: ManualClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 100) {
    clock.advance(100);
    await pause(0);
  }
  for (let i = 0; i < 20; i++) {
    await pause(5);
    clock.advance(0);
  }
}

describe('simulated live: a file looped on the channel timeline', () => {
  it('keeps seq and timestamps continuous across loops, same packets for every sink', async () => {
    const clock = new ManualClock(1000);
    const scheduler = new Scheduler(clock);
    const entry = await openMediaEntry(SAMPLE, 'sample.mp4', 1460, new ChunkCache());
    try {
      const channel = new LiveChannel('s', 'file', clock);
      const source = new FileLoopSource(entry, channel, clock, scheduler);
      const period = source.periodSec;
      // The sample: 500 frames at 25 fps = 20 s; AAC at 48 kHz ends a little after.
      expect(period).toBeGreaterThanOrEqual(20);
      expect(period).toBeLessThan(20.1);
      source.start();
      expect(channel.live).toBe(true);
      const [video, audio] = channel.tracks;
      const v1 = new Collect();
      const a1 = new Collect();
      video!.join(v1);
      audio!.join(a1);
      await run(clock, 7000);
      // A second viewer joins 7 s in: it starts at the next keyframe (GOP 2 s), audio at once.
      const v2 = new Collect();
      video!.join(v2);
      await run(clock, 38_000);
      source.stop();

      const parse = (b: Buffer) => {
        const p = parseRtpPacket(b);
        if (!p.ok) throw new Error(p.code);
        return p.value;
      };
      const vp = v1.packets.map(parse);
      const ap = a1.packets.map(parse);
      expect(new Set(vp.map((p) => p.ssrc)).size).toBe(1);
      const seqBreak = (ps: typeof vp) => ps.findIndex((p, i) => i > 0 && p.sequenceNumber !== ((ps[i - 1]!.sequenceNumber + 1) & 0xffff));
      expect(seqBreak(vp)).toBe(-1);
      expect(seqBreak(ap)).toBe(-1);
      // One AAC frame per packet here; a loop boundary may leave a gap (when the loop period is
      // longer than the audio), never a step back.
      const steps = ap.slice(1).map((p, i) => (p.timestamp - ap[i]!.timestamp) >>> 0);
      expect(steps.filter((d) => d !== 1024).every((d) => d > 1024 && d < 48000)).toBe(true);
      // The audio is the longer track here, so its loops join with no gap at all.
      expect(ap.length).toBeGreaterThan(2 * entry.tracks[1]!.source.sampleCount);
      // 45 s of channel time: two loop boundaries crossed, ~2.25 × 500 video frames.
      const frames = vp.filter((p) => p.marker);
      expect(frames.length).toBeGreaterThan(1100);
      // Video presentation times: relative to the first, each loop's frames lie in [k*P, (k+1)*P).
      const base = vp[0]!.timestamp;
      const rel = frames.map((p) => (p.timestamp - base) >>> 0);
      const perLoop = Math.round(period * 90000);
      for (let k = 0; k < 2; k++) {
        const loopK = rel.slice(k * 500, (k + 1) * 500);
        const next = rel.slice((k + 1) * 500, (k + 2) * 500);
        expect(Math.max(...loopK)).toBeLessThan(Math.min(...next));
        expect(Math.min(...next)).toBe(Math.min(...loopK) + perLoop);
      }
      // The late joiner's packets are exactly the first viewer's from where it started, and it
      // started with a keyframe access unit (SPS first: STAP-A or single NAL 7).
      expect(v2.packets.length).toBeGreaterThan(0);
      const start = v1.packets.findIndex((b) => b.equals(v2.packets[0]!));
      expect(start).toBeGreaterThan(0);
      const differ = v2.packets.findIndex((b, i) => !b.equals(v1.packets[start + i]!));
      expect(differ).toBe(-1);
      expect(v1.packets.length - start).toBe(v2.packets.length);
      const first = parse(v2.packets[0]!).payload;
      const nal = first[0]! & 0x1f;
      expect(nal === 7 || (nal === 24 && (first[3]! & 0x1f) === 7) || nal === 5).toBe(true);
    } finally {
      await entry.file.close();
    }
  }, 60_000);

  it('sends audio at the send lattice instants and video at their midpoints, in every pass', async () => {
    const clock = new ManualClock(1000);
    const scheduler = new Scheduler(clock);
    const entry = await openMediaEntry(SAMPLE, 'sample.mp4', 1460, new ChunkCache(256 * 1024 * 1024));
    try {
      const lattice = entry.sendLattice;
      if (!lattice) throw new Error('the sample has no send lattice');
      expect(entry.tracks[lattice.track]!.source.format.media).toBe('audio');
      // Every chunk in memory first: nothing is sent late for a read, the clock alone drives it.
      for (const { source } of entry.tracks) for (let c = 0; c <= source.chunkOf(source.sampleCount - 1); c++) await source.loadChunk(c);
      const channel = new LiveChannel('s', 'file', clock);
      const source = new FileLoopSource(entry, channel, clock, scheduler);
      const periodMs = lattice.periodSec * 1000;
      // A whole number of lattice periods, so that the second pass is on the first one's instants.
      const periods = source.periodSec / lattice.periodSec;
      expect(Math.abs(periods - Math.round(periods))).toBeLessThan(1e-6);
      const start = clock.now();
      source.start();
      const at = (kind: number) => {
        const sink = new Collect();
        const times: number[] = [];
        sink.sendRtp = () => void times.push(clock.now());
        channel.tracks[kind]!.join(sink);
        return times;
      };
      const video = at(1 - lattice.track);
      const audio = at(lattice.track);
      for (let t = 0; t < 45_000; t += 100) clock.advance(100);
      source.stop();
      // Where in the lattice period (ms, from the channel's start) each packet left.
      const phase = (t: number) => {
        const x = (t - start - lattice.phaseSec * 1000) % periodMs;
        return Math.min(x, periodMs - x);
      };
      expect(audio.length).toBeGreaterThan(2000); // past two loop boundaries
      expect(video.length).toBeGreaterThan(2000);
      expect(Math.max(...audio.map(phase))).toBeLessThan(1e-6);
      // The first frame's midpoint (dts 0) is half a period before the start: it leaves at once.
      const later = video.filter((t) => t > start);
      expect(video.length - later.length).toBeLessThan(30);
      expect(later.every((t) => Math.abs(phase(t) - periodMs / 2) < 1e-6)).toBe(true);
    } finally {
      await entry.file.close();
    }
  }, 60_000);
});
