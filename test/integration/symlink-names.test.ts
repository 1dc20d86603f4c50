/**
 * Issue 9, "one file under two names": with latest.mp4 a symlink to sample.mp4 in the media dir,
 * play one name, then the other. The catalog shares the open file between both names; each session
 * must be checked against the name it asked for, so the second SETUP must not get 459. Checked with
 * our client over UDP and TCP and with ffmpeg (the ffmpeg case needs ffprobe/ffmpeg installed).
 */
import { copyFile, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RtspServer } from '../../src/server/index.ts';
import { ffmpegPlay } from '../helpers/ffmpeg.ts';
import { hasPeer, peersRequired } from '../helpers/peers.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { SAMPLE, startServer } from '../helpers/server.ts';

describe('one file under two names', () => {
  let server: RtspServer;
  let dir: string;
  let url: (p: string) => string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-names-'));
    await copyFile(SAMPLE, path.join(dir, 'sample.mp4'));
    await symlink('sample.mp4', path.join(dir, 'latest.mp4'));
    ({ server } = await startServer({ mediaDir: dir }));
    url = (p) => `rtsp://127.0.0.1:${server.port}/${p}`;
  });

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** SETUP both tracks of `name`, PLAY, wait for media on each, TEARDOWN. */
  async function playName(name: string, lower: 'udp' | 'tcp'): Promise<void> {
    const c = await RtspTestClient.connect(url(name));
    try {
      const t1 = (await c.setup(url(`${name}/trackID=1`), lower)).track;
      const second = await c.setup(url(`${name}/trackID=2`), lower);
      expect(second.response.statusCode).toBe(200);
      const play = await c.play(url(name));
      expect(play.response.statusCode).toBe(200);
      expect(play.rtpInfo.map((e) => e.url).sort()).toEqual([url(`${name}/trackID=1`), url(`${name}/trackID=2`)]);
      await Promise.all([t1.waitForPackets(3), second.track.waitForPackets(3)]);
      expect((await c.teardown(url(name))).statusCode).toBe(200);
    } finally {
      c.close();
    }
  }

  for (const lower of ['udp', 'tcp'] as const) {
    it(`our client over ${lower}: sample.mp4, then latest.mp4, then sample.mp4 again`, async () => {
      await playName('sample.mp4', lower);
      await playName('latest.mp4', lower);
      await playName('sample.mp4', lower);
    });
  }

  it('a session set up under one name refuses a track of the other name (459)', async () => {
    const c = await RtspTestClient.connect(url('sample.mp4'));
    try {
      await c.setup(url('sample.mp4/trackID=1'), 'udp');
      const other = await c.request('SETUP', url('latest.mp4/trackID=2'), { Transport: 'RTP/AVP;unicast;client_port=40010-40011' });
      expect(other.statusCode).toBe(459);
    } finally {
      c.close();
    }
  });

  it.runIf(hasPeer('ffmpeg') || peersRequired())(
    'ffmpeg plays both names one after the other',
    async () => {
      for (const name of ['sample.mp4', 'latest.mp4']) {
        for (const transport of ['udp', 'tcp'] as const) {
          const r = await ffmpegPlay(url(name), { transport, seconds: 1, timeoutMs: 30_000 });
          expect(r.code, `${name} over ${transport}: ${r.stderr.slice(-400)}`).toBe(0);
        }
      }
    },
    90_000,
  );
});
