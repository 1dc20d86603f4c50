/**
 * `serve --live NAME=ffmpeg:<input args>`: the server runs ffmpeg, which encodes and publishes to
 * the server itself over TCP interleaved; ffmpeg as a viewer decodes it. A source that exits is
 * started again (the channel goes off the air, then back).
 */
import { afterEach, expect, it } from 'vitest';
import type { RtspServer } from '../../src/server/index.ts';
import { ffmpegReadFrames } from '../helpers/ffmpeg.ts';
import { parseFramemd5 } from '../helpers/framemd5.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { expectSuccess, ffmpegErrors } from '../helpers/run-program.ts';
import { startServer } from '../helpers/server.ts';
import { waitUntil } from '../helpers/wait.ts';

describeWithPeers('live channel fed by ffmpeg (--live NAME=ffmpeg:...)', ['ffmpeg'], () => {
  let server: RtspServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('is viewed by ffmpeg, which decodes it without errors', async () => {
    const s = await startServer({
      live: [
        {
          name: 'test',
          ffmpegArgs: [
            '-re',
            '-f',
            'lavfi',
            '-i',
            'testsrc2=size=320x240:rate=25',
            '-f',
            'lavfi',
            '-i',
            'sine=frequency=440:sample_rate=48000',
          ],
        },
      ],
    });
    server = s.server;
    // DESCRIBE waits for the source to come up, so no wait is needed here.
    const r = await ffmpegReadFrames(s.url('live/test'), { transport: 'udp', seconds: 4 });
    expectSuccess(r, 'ffmpeg watching live/test');
    expect(ffmpegErrors(r.stderr)).toBe('');
    const frames = parseFramemd5(r.stdout);
    expect(frames.filter((f) => f.stream === 0).length).toBeGreaterThan(75);
    expect(frames.filter((f) => f.stream === 1).length).toBeGreaterThan(100);
    const c = server.snapshot().live.find((x) => x.name === 'test')!;
    expect(c.source).toBe('ffmpeg');
    expect(c.tracks.map((t) => t.packets > 0)).toEqual([true, true]);
    expect(c.publisher?.malformed).toBe(0);
  }, 90_000);

  it('starts ffmpeg again when it exits', async () => {
    const s = await startServer({
      live: [{ name: 'short', ffmpegArgs: ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25:duration=1.5'] }],
    });
    server = s.server;
    const live = () => server!.snapshot().live.find((x) => x.name === 'short')!;
    await waitUntil(() => live().live, 20_000, 'first run live');
    const ssrc = live().tracks[0]!.ssrc;
    const packets = () => live().tracks[0]!.packets;
    await waitUntil(() => !live().live, 20_000, 'first run over');
    const afterFirst = packets();
    await waitUntil(() => live().live && packets() > afterFirst, 20_000, 'second run live');
    // Same channel track: SSRC kept, packets counted on.
    expect(live().tracks[0]!.ssrc).toBe(ssrc);
  }, 90_000);
  it('a source that fails is answered 503 with Retry-After: the waiting DESCRIBE as soon as ffmpeg exits, later ones at once', async () => {
    // An input ffmpeg cannot open: every run exits at once, and the restarts back off 1, 2, 4 s...
    const s = await startServer({ live: [{ name: 'bad', ffmpegArgs: ['-f', 'lavfi', '-i', 'nosuchfilter'] }] });
    server = s.server;
    const client = await RtspTestClient.connect(s.url());
    try {
      for (const attempt of ['first, while ffmpeg starts', 'second, while it is down']) {
        const t0 = performance.now();
        const { response } = await client.describe(s.url('live/bad'));
        const tookMs = performance.now() - t0;
        expect(response.statusCode, attempt).toBe(503);
        expect(Number(response.headers.get('Retry-After')), attempt).toBeGreaterThanOrEqual(1);
        // Not the 10 s wait for a source that never comes (DESCRIBE_WAIT_MS).
        expect(tookMs, attempt).toBeLessThan(5000);
      }
    } finally {
      client.close();
    }
  }, 60_000);
});
