/**
 * A transport stream read while it is written, as the server reads it: GrowingTsFile over a real
 * file appended in pieces, a PacketizedTrack over it and the shared ChunkCache. The cache rule: a
 * chunk cut short by the end of what is indexed now is never cached (so it is never served later
 * as the whole chunk); whole chunks are, and are the same bytes as the file; once the file is
 * complete its last, short chunk is final and cached. Payloads are checked against the file bytes.
 */
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GrowingTsFile, indexTs, TS_PACKET_SIZE } from '../../src/media/ts-file/index.ts';
import { ChunkCache, CHUNK_SAMPLES, chunkIsFinal, PacketizedTrack } from '../../src/sender/packetized-track.ts';
import type { TrackGrowth } from '../../src/sender/packetized-track.ts';
import { payloadFormatFor } from '../../src/sender/payload-formats.ts';

const PMT_PID = 0x1000;
const VIDEO = 0x100;
const PCR_HZ = 27_000_000;

/** A TS of `n` packets: PAT, PMT, then video packets numbered in their payload, a PCR every 10 packets (10 ms apart), a RAI every 250. */
function stream(n: number): Buffer {
  const PAT = Buffer.from([0x00, 0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0 | (PMT_PID >> 8), PMT_PID & 0xff, 0, 0, 0, 0]);
  const PMT = Buffer.from([0x00, 0x02, 0xb0, 0x12, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe0 | (VIDEO >> 8), VIDEO & 0xff, 0xf0, 0x00, 0x1b, 0xe0 | (VIDEO >> 8), VIDEO & 0xff, 0xf0, 0x00, 0, 0, 0, 0]);
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const p = Buffer.alloc(TS_PACKET_SIZE, 0xff);
    p[0] = 0x47;
    const pid = i === 0 ? 0 : i === 1 ? PMT_PID : VIDEO;
    const rai = i % 250 === 2;
    const pcr = i >= 2 && i % 10 === 2 ? ((i - 2) / 10) * (PCR_HZ / 100) : undefined;
    p[1] = (i < 2 || rai ? 0x40 : 0) | (pid >> 8);
    p[2] = pid & 0xff;
    let at = 4;
    if (rai || pcr !== undefined) {
      p[3] = 0x30;
      p[4] = pcr !== undefined ? 7 : 1;
      p[5] = (rai ? 0x40 : 0) | (pcr !== undefined ? 0x10 : 0);
      if (pcr !== undefined) {
        const base = pcr / 300;
        p.writeUInt32BE(Math.floor(base / 2), 6); // base bits 32..1
        p[10] = ((base & 1) << 7) | 0x7e;
        p[11] = 0;
      }
      at = 5 + p[4];
    } else {
      p[3] = 0x10;
    }
    if (i === 0) PAT.copy(p, at);
    else if (i === 1) PMT.copy(p, at);
    else p.writeUInt32BE(i, at);
    out.push(p);
  }
  return Buffer.concat(out);
}

describe('chunkIsFinal', () => {
  it.each([
    // chunk, samples indexed, growing → cacheable
    [0, 64, true, true],
    [0, 63, true, false],
    [1, 127, true, false],
    [1, 128, true, true],
    [1, 100, false, true], // not growing: the last chunk is final whatever its length
    [0, 0, false, true],
  ])('chunk %i of %i samples (growing %s): %s', (chunk, count, growing, want) => {
    expect(chunkIsFinal(chunk, count, growing)).toBe(want);
  });
});

describe('a growing TS as a packetized track', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-growing-track-'));
    file = path.join(dir, 'out.ts');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('caches whole chunks only while growing, never a short one, and serves the file bytes', async () => {
    const all = stream(2000);
    const whole = indexTs(all);
    const cut1 = 900 * TS_PACKET_SIZE + 100; // mid-packet
    await writeFile(file, all.subarray(0, cut1));
    const g = await GrowingTsFile.open(file);
    try {
      const growth: TrackGrowth = { get growing() { return g.state === 'growing'; }, onChange: (cb) => g.onChange(cb) };
      const cache = new ChunkCache();
      const track = g.tracks[0]!;
      const f = payloadFormatFor(track, 96, 1400);
      if (!f.ok) throw new Error(f.reason);
      const pt = new PacketizedTrack(g, track, f.format, cache, 'k', growth);
      let changes = 0;
      g.onChange(() => changes++);
      await g.refresh();
      expect(changes).toBe(1);
      const n1 = pt.sampleCount;
      // 900 packets written: the last PCR at or before 900 - 17 is at 882 → units up to packet 882.
      expect(n1).toBeGreaterThan(CHUNK_SAMPLES);
      expect(n1).toBeLessThan(2 * CHUNK_SAMPLES);
      const bytesOf = (samples: { payloads: { payload: Buffer }[] }[]) => Buffer.concat(samples.flatMap((s) => s.payloads.map((p) => p.payload)));
      const c0 = await pt.loadChunk(0);
      expect(c0).toHaveLength(CHUNK_SAMPLES);
      expect(pt.peekChunk(0)).toBe(c0);
      const c1 = await pt.loadChunk(1);
      expect(c1).toHaveLength(n1 - CHUNK_SAMPLES);
      expect(pt.peekChunk(1)).toBeUndefined(); // short: never cached
      expect(bytesOf([...c0, ...c1]).equals(all.subarray(0, whole.unitFirstPacket[n1]! * TS_PACKET_SIZE))).toBe(true);
      // Unit times are the whole file's.
      expect([...track.samples.dts]).toEqual([...whole.unitTimeSec.subarray(0, n1)].map((t) => t * 90000));

      await appendFile(file, all.subarray(cut1, 1500 * TS_PACKET_SIZE));
      expect(await g.refresh()).toBe(true);
      expect(pt.sampleCount).toBeGreaterThanOrEqual(2 * CHUNK_SAMPLES);
      const c1b = await pt.loadChunk(1);
      expect(c1b).toHaveLength(CHUNK_SAMPLES);
      expect(pt.peekChunk(1)).toBe(c1b);
      expect(bytesOf(c1b).subarray(0, bytesOf(c1).length).equals(bytesOf(c1))).toBe(true);
      expect(growth.growing).toBe(true);

      await appendFile(file, all.subarray(1500 * TS_PACKET_SIZE));
      await g.complete();
      expect(growth.growing).toBe(false);
      expect(pt.sampleCount).toBe(whole.unitFirstPacket.length);
      expect(g.durationSec).toBe(whole.durationSec);
      const last = pt.chunkOf(pt.sampleCount - 1);
      const cl = await pt.loadChunk(last);
      expect(cl.length).toBe(pt.sampleCount - last * CHUNK_SAMPLES);
      expect(pt.peekChunk(last)).toBe(cl); // final now: cached
      const every: Buffer[] = [];
      for (let c = 0; c <= last; c++) every.push(bytesOf(await pt.loadChunk(c)));
      expect(Buffer.concat(every).equals(all)).toBe(true);
    } finally {
      await g.close();
    }
  });

  it('a failed writer stops the growth: what was indexed stays, nothing more', async () => {
    const all = stream(600);
    await writeFile(file, all.subarray(0, 400 * TS_PACKET_SIZE));
    const g = await GrowingTsFile.open(file);
    try {
      await g.refresh();
      const n = g.sampleCount;
      expect(n).toBeGreaterThan(0);
      g.fail();
      await appendFile(file, all.subarray(400 * TS_PACKET_SIZE));
      expect(await g.refresh()).toBe(false);
      expect(g.sampleCount).toBe(n);
      expect(g.state).toBe('failed');
    } finally {
      await g.close();
    }
  });
});
