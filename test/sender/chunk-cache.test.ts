/**
 * The process's cache of packetized chunks (src/sender/packetized-track.ts): least recently used
 * first out when over its byte budget, evicted entries letting go of their samples, and a track
 * finding its chunks again through the entries it remembers.
 */
import { describe, expect, it } from 'vitest';
import { CHUNK_SAMPLES, ChunkCache, PacketizedTrack } from '../../src/sender/packetized-track.ts';
import type { PacketizedSample } from '../../src/sender/packetized-track.ts';
import type { MediaFile, Track } from '../../src/media/index.ts';
import type { PayloadFormat } from '../../src/sender/payload-formats.ts';

/** One sample of one `size`-byte payload: the cache counts it as size + 32 bytes. */
function chunkOf(size: number): PacketizedSample[] {
  return [{ dtsSec: 0, ptsSec: 0, rtpTime: 0, keyframe: true, payloads: [{ marker: true, payload: Buffer.alloc(size) }] }];
}

describe('ChunkCache', () => {
  it('evicts the least recently used chunk when over its budget, never the one just added', async () => {
    const cache = new ChunkCache(3 * 132); // three chunks of 100 payload bytes
    for (const k of ['a', 'b', 'c']) await cache.load(k, async () => chunkOf(100));
    cache.get('a'); // a is now the most recently used: b goes first
    await cache.load('d', async () => chunkOf(100));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.stats.evictions).toBe(1);
    expect(cache.sizeBytes).toBe(3 * 132);
    // A chunk larger than the whole budget is kept alone (the caller is about to send it).
    await cache.load('huge', async () => chunkOf(1000));
    expect(cache.get('huge')).toBeDefined();
    expect(cache.sizeBytes).toBe(1032);
  });

  it('an evicted entry lets go of its samples and cannot be touched back in', async () => {
    const cache = new ChunkCache(132);
    await cache.load('a', async () => chunkOf(100));
    const a = cache.entry('a')!;
    expect(cache.touch(a)).toBe(true);
    await cache.load('b', async () => chunkOf(100));
    expect(a.samples).toBeUndefined();
    expect(cache.touch(a)).toBe(false);
    expect(cache.get('a')).toBeUndefined();
    cache.dropPrefix('b');
    expect(cache.sizeBytes).toBe(0);
  });

  it('loads a chunk once for concurrent callers', async () => {
    const cache = new ChunkCache();
    let made = 0;
    const make = async () => (made++, chunkOf(10));
    const [x, y] = await Promise.all([cache.load('k', make), cache.load('k', make)]);
    expect(x).toBe(y);
    expect(made).toBe(1);
    expect(cache.stats).toEqual({ hits: 0, misses: 1, evictions: 0 });
  });
});

describe('PacketizedTrack.peekChunk', () => {
  /** A track of 3 chunks of 1-byte samples over a stand-in file that counts its reads. */
  function track(cache: ChunkCache) {
    const n = 3 * CHUNK_SAMPLES;
    const samples = {
      count: n,
      dts: Float64Array.from({ length: n }, (_, i) => i),
      pts: Float64Array.from({ length: n }, (_, i) => i),
      keyframe: Uint8Array.from({ length: n }, () => 1),
    };
    let reads = 0;
    const file = {
      readSamples: async (_t: Track, from: number, to: number) => (reads++, Array.from({ length: to - from }, () => Buffer.alloc(100))),
    } as unknown as MediaFile;
    const format = { clockRate: 1000, packetize: (data: Buffer) => [{ marker: true, payload: data }] } as unknown as PayloadFormat;
    const t = new PacketizedTrack(file, { samples, timescale: 1000 } as unknown as Track, format, cache, 'f@1:2/1/1400');
    return { t, reads: () => reads };
  }

  it('finds a loaded chunk, follows its eviction, and finds it again once reloaded', async () => {
    const chunkBytes = CHUNK_SAMPLES * 132;
    const cache = new ChunkCache(2 * chunkBytes);
    const { t, reads } = track(cache);
    expect(t.peekChunk(0)).toBeUndefined();
    const c0 = await t.loadChunk(0);
    expect(t.peekChunk(0)).toBe(c0);
    expect(t.peekChunk(0)).toBe(c0);
    await t.loadChunk(1);
    t.peekChunk(0); // chunk 0 used last: chunk 1 is the one evicted next
    await t.loadChunk(2);
    expect(t.peekChunk(1)).toBeUndefined();
    expect(t.peekChunk(0)).toBe(c0);
    expect(reads()).toBe(3);
    await t.loadChunk(1); // evicts chunk 2: chunk 0 was peeked after it was added
    expect(t.peekChunk(1)).toBeDefined();
    expect(t.peekChunk(2)).toBeUndefined();
    expect(t.peekChunk(0)).toBe(c0);
    expect(reads()).toBe(4);
    expect(cache.stats.evictions).toBe(2);
  });
});
