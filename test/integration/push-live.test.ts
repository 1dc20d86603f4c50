/**
 * `streamlab push ffmpeg:<input args>`: a live source (here lavfi's testsrc2 + sine, paced by -re)
 * encoded by ffmpeg to H.264/AAC in MPEG-TS, sent by us as one MP2T RTP stream (RFC 2250, PT 33)
 * and read back by ffmpeg from our SDP. Every decoded picture follows the previous one by exactly
 * one frame (1/25 s): nothing lost, nothing repeated; audio arrives too; no decoder complaint; the
 * reader ends on our BYE. A source ffmpeg cannot open ends the push with ffmpeg's reason.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Pusher } from '../../src/server/push/index.ts';
import { framemd5Args, parseFramemd5 } from '../helpers/framemd5.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { expectSuccess, runProgram } from '../helpers/run-program.ts';
import { freeEvenPorts, waitUdpBound } from '../push/helpers.ts';

const LIVE = 'ffmpeg:-re -f lavfi -i testsrc2=size=320x240:rate=25 -re -f lavfi -i "sine=frequency=440:sample_rate=48000"';

describeWithPeers('streamlab push from a live ffmpeg source', ['ffmpeg'], () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-push-live-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sends MPEG-TS over RTP that ffmpeg decodes frame after frame', async () => {
    const port = await freeEvenPorts(2);
    const pusher = await Pusher.open({ file: LIVE, to: `rtp://127.0.0.1:${port}`, durationSec: 4 });
    expect(pusher.sdp).toMatch(new RegExp(`\r\nm=video ${port} RTP/AVP 33\r\nb=AS:\\d+\r\na=rtpmap:33 MP2T/90000\r\n$`));
    const sdp = path.join(dir, 'live.sdp');
    await writeFile(sdp, pusher.sdp);
    const reader = runProgram(
      'ffmpeg',
      framemd5Args(sdp, {
        loglevel: 'warning',
        inputArgs: ['-protocol_whitelist', 'file,udp,rtp'],
        outputArgs: ['-fps_mode', 'passthrough'],
      }),
      60_000,
    );
    await waitUdpBound([port, port + 1]);
    await pusher.start();
    const summary = await pusher.done;
    expect(summary.reason).toBe('end of stream');
    const r = await reader;
    expectSuccess(r, 'ffmpeg reading the live push');
    expect(r.stderr).toBe('');
    const frames = parseFramemd5(r.stdout);
    const video = frames.filter((f) => f.stream === 0);
    const audio = frames.filter((f) => f.stream === 1);
    // 4 s of push, of which ffmpeg's start-up (encoder, first keyframe) takes some: at least 2 s of pictures.
    expect(video.length).toBeGreaterThanOrEqual(50);
    const steps = video.slice(1).map((f, i) => f.pts - video[i]!.pts);
    // framemd5 writes video in the output time base, 1/25 here (`#tb 0: 1/25`): one frame is 1.
    // -fps_mode passthrough keeps the received timestamps (no frames duplicated to fill gaps).
    expect(r.stdout).toMatch(/^#tb 0: 1\/25$/m);
    expect(new Set(steps)).toEqual(new Set([1]));
    expect(audio.length).toBeGreaterThan(50);
  }, 60_000);

  it("ends with ffmpeg's reason when the source cannot be opened", async () => {
    const port = await freeEvenPorts(2);
    const pusher = await Pusher.open({ file: 'ffmpeg:-f lavfi -i nosuchsource=x', to: `rtp://127.0.0.1:${port}` });
    await pusher.start();
    const summary = await pusher.done;
    expect(summary.reason).toMatch(/^ffmpeg exited with 1/);
    expect(summary.tracks[0]!.packets).toBe(0);
  }, 30_000);
});
