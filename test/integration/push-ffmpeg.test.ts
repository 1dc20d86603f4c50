/**
 * `streamlab push` received by ffmpeg from the SDP it wrote (`-protocol_whitelist file,udp,rtp -i
 * out.sdp`), unicast to 127.0.0.1 and multicast to a 239.255/16 group on lo. ffmpeg binds the
 * SDP's ports first; the push starts only once they are bound (/proc/net/udp), so nothing is lost
 * to ordering. ffmpeg ends by itself on our BYE (it stops when every stream said BYE), so a
 * missing BYE shows as a timeout. What it decodes is compared with the file: every video frame's
 * MD5 equal to the source's, in order, none missing; the AAC packets one contiguous run.
 *
 * Multicast on lo needs no route: we send with IP_MULTICAST_IF 127.0.0.1 (--interface) and ffmpeg
 * joins on 127.0.0.1 with `-localaddr 127.0.0.1` (its join otherwise follows the default route).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Pusher } from '../../src/server/push/index.ts';
import { compareAudio, compareVideo, framemd5Args, parseFramemd5 } from '../helpers/framemd5.ts';
import type { FrameHash } from '../helpers/framemd5.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { expectSuccess, runProgram } from '../helpers/run-program.ts';
import { freeEvenPorts, igmpJoined, makeClip, waitUdpBound } from '../push/helpers.ts';
import { waitUntil } from '../helpers/wait.ts';

const CLIP_SECONDS = 3;
const FRAMES = CLIP_SECONDS * 25;

describeWithPeers('ffmpeg plays what streamlab push sends', ['ffmpeg'], () => {
  let dir: string;
  let clip: string;
  let video: FrameHash[];
  let audio: FrameHash[];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-push-'));
    clip = await makeClip(dir, CLIP_SECONDS);
    const r = await runProgram('ffmpeg', framemd5Args(clip), 60_000);
    expectSuccess(r, 'framemd5 of the clip');
    const all = parseFramemd5(r.stdout);
    video = all.filter((f) => f.stream === 0);
    audio = all.filter((f) => f.stream === 1);
    expect(video).toHaveLength(FRAMES);
  }, 90_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function pushAndDecode(to: string, extra: { interfaceAddress?: string; inputArgs: string[]; group?: string }) {
    const port = Number(/:(\d+)$/.exec(to)![1]);
    const pusher = await Pusher.open({ file: clip, to, interfaceAddress: extra.interfaceAddress });
    const sdpFile = path.join(dir, `${port}.sdp`);
    await writeFile(sdpFile, pusher.sdp);
    const ffmpeg = runProgram(
      'ffmpeg',
      framemd5Args(sdpFile, { loglevel: 'warning', inputArgs: ['-protocol_whitelist', 'file,udp,rtp', ...extra.inputArgs] }),
      60_000,
    );
    try {
      await waitUdpBound([port, port + 1, port + 2, port + 3]);
      if (extra.group) await waitUntil(() => igmpJoined(extra.group!), 10_000, `ffmpeg joined ${extra.group} on lo`);
    } catch (err) {
      await pusher.stop();
      throw err;
    }
    await pusher.start();
    const summary = await pusher.done;
    const r = await ffmpeg;
    expectSuccess(r, `ffmpeg reading ${to}`);
    const got = parseFramemd5(r.stdout);
    return {
      summary,
      video: got.filter((f) => f.stream === 0),
      audio: got.filter((f) => f.stream === 1),
      stderr: r.stderr,
      sdp: pusher.sdp,
    };
  }

  function expectIdentical(got: { video: FrameHash[]; audio: FrameHash[]; stderr: string }) {
    const v = compareVideo(got.video, video);
    expect(v.firstDiff, v.detail).toBe(-1);
    expect(v.frames).toBe(FRAMES);
    const a = compareAudio(got.audio, audio);
    expect(a.contiguous, a.detail).toBe(true);
    expect(a.firstIndex).toBe(a.expectedFirstIndex);
    expect(a.packets).toBe(audio.length - a.expectedFirstIndex);
    // No decoder complaints (errors, concealment, missing references) at -loglevel warning.
    expect(got.stderr).not.toMatch(/error|conceal|corrupt|missing|non-existing/i);
  }

  it('unicast to 127.0.0.1: every frame decodes and equals the source; ffmpeg ends on our BYE', async () => {
    const port = await freeEvenPorts(4);
    const got = await pushAndDecode(`rtp://127.0.0.1:${port}`, { inputArgs: [] });
    expect(got.sdp).toContain('c=IN IP4 127.0.0.1\r\n');
    expectIdentical(got);
    expect(got.summary.reason).toBe('end of stream');
    expect(got.summary.tracks.map((t) => t.media)).toEqual(['video', 'audio']);
  }, 90_000);

  it('multicast to a 239.255/16 group on lo (TTL 1): the same frames', async () => {
    const port = await freeEvenPorts(4);
    const group = `239.255.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    const got = await pushAndDecode(`rtp://${group}:${port}`, {
      interfaceAddress: '127.0.0.1',
      inputArgs: ['-localaddr', '127.0.0.1'],
      group,
    });
    expect(got.sdp).toContain(`c=IN IP4 ${group}/1\r\n`);
    expectIdentical(got);
  }, 90_000);
});
