/**
 * Issue 2, test 7: two ffmpeg clients started together on one file both receive it bit-identically
 * (the same checks as ffmpeg-playback.test.ts), and the packetized payloads are shared between
 * their sessions: every chunk of every track is read and packetized once (one cache miss per
 * chunk, not one per session), and both sessions asked the cache for the chunks they played.
 */

import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { captureRtsp, compareAudio, compareVideo, sampleReference } from '../helpers/framemd5.ts';
import type { TrackHashes } from '../helpers/framemd5.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { waitUntil } from '../helpers/wait.ts';

const SECONDS = 10;

describeWithPeers('two ffmpeg clients on one file at once', ['ffmpeg'], () => {
  const { server, url } = serverForSuite();
  let source: TrackHashes;
  let results: Awaited<ReturnType<typeof captureRtsp>>[];
  /** Per cache key: how often a session asked for it, and how often it was read and packetized. */
  const loads = new Map<string, number>();
  const makes = new Map<string, number>();

  beforeAll(async () => {
    const cache = server.catalog.cache;
    const load = cache.load.bind(cache);
    vi.spyOn(cache, 'load').mockImplementation((key, make) => {
      loads.set(key, (loads.get(key) ?? 0) + 1);
      return load(key, () => {
        makes.set(key, (makes.get(key) ?? 0) + 1);
        return make();
      });
    });
    source = await sampleReference();
    results = await Promise.all([captureRtsp(url(), 'udp', SECONDS), captureRtsp(url(), 'udp', SECONDS)]);
    await waitUntil(() => server.snapshot().sessions.length === 0, 5000, 'both sessions torn down');
  }, 120_000);

  afterAll(async () => {
    vi.restoreAllMocks();
  });

  it('both receive bit-identical video and AAC', () => {
    for (const got of results) {
      const v = compareVideo(got.video, source.video);
      expect(v.detail).toBe('identical prefix');
      expect(v.frames).toBeGreaterThanOrEqual(240);
      const a = compareAudio(got.audio, source.audio);
      expect(a.detail).toBe('contiguous');
      expect(a.firstIndex).toBe(a.expectedFirstIndex);
      expect(a.packets).toBeGreaterThanOrEqual(Math.ceil(0.95 * Math.ceil((SECONDS * 48000) / 1024)));
    }
    expect(server.snapshot().counters.sessionsCreated).toBe(2);
  });

  it('every chunk was packetized once, and both sessions used the cache', () => {
    const stats = server.snapshot().cache;
    // 10 s of the sample spans several chunks per track (64 samples: 2.56 s of video, 1.37 s of audio).
    expect(makes.size).toBeGreaterThanOrEqual(4 + 7);
    expect([...makes.values()].every((n) => n === 1)).toBe(true);
    expect(stats.misses).toBe(makes.size);
    expect(stats.evictions).toBe(0);
    // Chunk 0 of each track was asked for by both sessions (their PLAY) and made once.
    const firstChunks = [...loads.keys()].filter((k) => k.endsWith('#0'));
    expect(firstChunks).toHaveLength(2);
    for (const k of firstChunks) expect(loads.get(k)).toBeGreaterThanOrEqual(2);
    // Without sharing there would be one miss per chunk per session.
    const requests = [...loads.values()].reduce((a, b) => a + b, 0);
    expect(requests).toBeGreaterThanOrEqual(2 * makes.size - 2);
  });
});
