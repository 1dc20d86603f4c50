/**
 * Playing a file while it is being prepared, with real ffmpeg on both sides: a 24 s 640x360 VP8
 * WebM is transcoded by the production Preparer with a slow x264 preset (into a TS, then remuxed
 * to MP4). While that runs, DESCRIBE answers 200 with an open-ended MP2T SDP and ffmpeg plays the
 * growing TS over TCP: every video frame decodes, and they are exactly the frames of the prepared
 * MP4 (so the TS → MP4 remux keeps frames identical), as many as it has; the preparation finished
 * after the client started and before it ended (timestamps). Then DESCRIBE serves the native MP4.
 * A Range beyond what is written is 457. A preparation killed while a client plays its partial
 * output ends that session with BYE.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Preparer } from '../../src/media/prepare/index.ts';
import type { RtspServer } from '../../src/server/index.ts';
import { VP8_FAST, ffmpegMake, lavfiTestInputs } from '../helpers/ffmpeg.ts';
import { framemd5Args, parseFramemd5 } from '../helpers/framemd5.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { expectSuccess, runProgram } from '../helpers/run-program.ts';
import { startServer } from '../helpers/server.ts';
import { waitUntil } from '../helpers/wait.ts';

describeWithPeers('playing a file while it is prepared', ['ffmpeg', 'ffprobe'], () => {
  let dir: string;
  const servers: RtspServer[] = [];

  const make = (name: string, seconds: number) =>
    ffmpegMake(path.join(dir, name), [...lavfiTestInputs({ size: '640x360', seconds }), ...VP8_FAST, '-b:v', '1500k', '-c:a', 'libvorbis']);

  async function serve(preset: string): Promise<{ preparer: Preparer; url: (p: string) => string; server: RtspServer }> {
    const preparer = new Preparer({ cacheDir: path.join(dir, `cache-${preset}-${servers.length}`), options: { x264Preset: preset } });
    const { server, url } = await startServer({ mediaDir: dir, preparer, prepareWaitMs: 20_000 });
    servers.push(server);
    return { preparer, url, server };
  }

  /** Plays `u` over TCP with the test client until its BYE; the RTP payloads concatenated (the TS). */
  async function capture(u: string): Promise<Buffer> {
    const client = await RtspTestClient.connect(u);
    try {
      const d = await client.describe(u);
      expect(d.response.statusCode).toBe(200);
      const { track } = await client.setup(`${u}/trackID=0`, 'tcp');
      await client.play(u);
      await waitUntil(() => track.rtcp.some((r) => r.type === 'bye'), 150_000, 'BYE at the end of the growing file');
      const seqs = track.rtp.map((r) => r.extSeq);
      expect(seqs.every((x, i) => i === 0 || x === seqs[i - 1]! + 1)).toBe(true);
      return Buffer.concat(track.rtp.map((r) => r.payload));
    } finally {
      client.close();
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-growing-'));
    await make('grow.webm', 24);
    await make('fail.webm', 24);
  }, 120_000);

  afterAll(async () => {
    for (const s of servers) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('ffmpeg plays the growing TS to the end: every frame of the prepared file, the preparation ending meanwhile', async () => {
    const { preparer, url } = await serve('slower');
    const src = path.join(dir, 'grow.webm');
    const client = await RtspTestClient.connect(url('grow.webm'));
    let sdp: string;
    try {
      const d = await client.describe(url('grow.webm'));
      expect(d.response.statusCode).toBe(200);
      sdp = d.sdp;
    } finally {
      client.close();
    }
    // The job started by that DESCRIBE (prepare() hands out the running one).
    const job = preparer.prepare(src);
    let doneAt = 0;
    const done = job.done.then((p) => {
      doneAt = Date.now();
      return p;
    });
    expect(doneAt).toBe(0);
    expect(sdp).toMatch(/m=video 0 RTP\/AVP 33\r\n/);
    expect(sdp).toMatch(/a=rtpmap:33 MP2T\/90000/);
    expect(sdp).toMatch(/a=range:npt=0-\r\n/);
    expect(sdp).toMatch(/a=control:trackID=0/);

    const clientStart = Date.now();
    // Two clients at once: ffmpeg decoding, and our test client keeping every RTP payload.
    const [played, captured] = await Promise.all([
      runProgram('ffmpeg', framemd5Args(url('grow.webm'), { inputArgs: ['-rtsp_transport', 'tcp'] }), 180_000),
      capture(url('grow.webm')),
    ]);
    const clientEnd = Date.now();
    expectSuccess(played, 'ffmpeg playing the growing file');
    const prepared = await done;
    // The preparation was still running when the client started, and done before it ended.
    expect(doneAt).toBeGreaterThan(clientStart);
    expect(doneAt).toBeLessThan(clientEnd);
    expect(prepared.manifest.summary).toBe('transcode');
    expect(prepared.outputPath).toMatch(/\.mp4$/);

    const got = parseFramemd5(played.stdout);
    const ref = await runProgram('ffmpeg', framemd5Args(prepared.outputPath), 120_000);
    expectSuccess(ref, 'framemd5 of the prepared file');
    const want = parseFramemd5(ref.stdout);
    const video = (f: typeof got) => f.filter((x) => x.stream === 0).map((x) => x.hash);
    const audio = (f: typeof got) => f.filter((x) => x.stream === 1);
    expect(video(want)).toHaveLength(600);
    // ffmpeg's RTP MP2T reader never flushes the last PES (its TS demuxer waits for the next PES
    // start; RTP has no end of file), so the last frame in decode order stays in it: one of the
    // last 3 in presentation order (B-frames). Every other frame is the prepared file's, in order.
    const v = video(got);
    expect(v.length).toBe(599);
    const missing = v.findIndex((h, i) => h !== video(want)[i]);
    expect(missing === -1 || missing >= 597).toBe(true);
    expect(v).toEqual(video(want).filter((_, i) => i !== (missing === -1 ? 599 : missing)));
    expect(audio(got).length).toBeGreaterThanOrEqual(audio(want).length - 1);
    expect(played.stderr).not.toMatch(/error|corrupt|non-existing PPS|decode_slice/i);
    // The whole stream as received by the test client, read as a file: all 600 frames, exactly
    // the prepared MP4's (the TS → MP4 remux kept every frame), and every audio packet.
    const tsPath = path.join(dir, 'received.ts');
    await writeFile(tsPath, captured);
    const whole = await runProgram('ffmpeg', framemd5Args(tsPath), 120_000);
    expectSuccess(whole, 'framemd5 of the received TS');
    const w = parseFramemd5(whole.stdout);
    expect(video(w)).toEqual(video(want));
    expect(audio(w).length).toBe(audio(want).length);

    // Now the prepared MP4 itself, natively packetized.
    const again = await RtspTestClient.connect(url('grow.webm'));
    try {
      const d = await again.describe(url('grow.webm'));
      expect(d.response.statusCode).toBe(200);
      expect(d.sdp).toMatch(/a=rtpmap:96 H264\/90000/);
      expect(d.sdp).toMatch(/a=range:npt=0-24\.0/);
    } finally {
      again.close();
    }
  }, 240_000);

  it('a preparation that fails while a client plays its partial output ends that session with BYE', async () => {
    const { preparer, url } = await serve('veryslow');
    const u = url('fail.webm');
    const client = await RtspTestClient.connect(u);
    try {
      const d = await client.describe(u);
      expect(d.response.statusCode).toBe(200);
      expect(d.sdp).toMatch(/a=range:npt=0-\r\n/);
      const { track } = await client.setup(`${u}/trackID=0`, 'tcp');
      // Beyond what is written: 457. Within it: from the random access point at or before it.
      const far = await client.play(u, 'npt=23-');
      expect(far.response.statusCode).toBe(457);
      const p = await client.play(u, 'npt=0.5-');
      expect(p.response.statusCode).toBe(200);
      expect(p.response.headers.get('Range')).toMatch(/^npt=0(\.0+)?-$/); // the only keyframe before 10 s (GOP 250)
      await track.waitForPackets(50, 20_000);
      // The preparation dies (its ffmpeg killed, as on shutdown): the job fails.
      await preparer.close();
      await expect(preparer.prepare(path.join(dir, 'fail.webm')).done).rejects.toThrow();
      await waitUntil(() => track.rtcp.some((r) => r.type === 'bye'), 30_000, 'a BYE after the failure');
      const packets = track.rtp.length;
      await new Promise((r) => setTimeout(r, 500));
      expect(track.rtp.length).toBe(packets);
      expect(track.rtp.every((r) => r.payloadType === 33 && r.payload.length % 188 === 0)).toBe(true);
    } finally {
      client.close();
    }
  }, 120_000);
});
