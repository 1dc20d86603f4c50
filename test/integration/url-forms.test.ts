/**
 * Issue 2, test 8: the URL forms clients use (INTEROP.md, pitfall 3). SETUP on a track URL, on
 * the aggregate URL without and with a trailing slash (aggregate SETUP takes the next track not
 * set up yet; with none left it is 459), and PLAY on the aggregate URL without and with the slash
 * and on a track URL: each works, and media flows on every track of the session.
 */

import { describe, expect, it } from 'vitest';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import type { ClientTrack } from '../helpers/rtsp-client.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';

describe('per-track and aggregate URL forms', () => {
  const { server, url } = serverForSuite();

  /** Which track the server gave a SETUP, found by the SSRC it answered with. */
  function controlOf(session: string, track: ClientTrack): string | undefined {
    const s = server.snapshot().sessions.find((x) => x.id === session);
    return s?.streams.find((x) => x.ssrc === track.ssrc)?.control;
  }

  const cases: { name: string; setups: string[]; controls: string[]; play: string }[] = [
    {
      name: 'track URL, then the aggregate URL; PLAY on the aggregate URL',
      setups: ['sample.mp4/trackID=1', 'sample.mp4'],
      controls: ['trackID=1', 'trackID=2'],
      play: 'sample.mp4',
    },
    {
      name: 'aggregate URL with slash twice; PLAY on the aggregate URL with slash',
      setups: ['sample.mp4/', 'sample.mp4/'],
      controls: ['trackID=1', 'trackID=2'],
      play: 'sample.mp4/',
    },
    {
      name: 'second track by URL, then the aggregate URL takes the first; PLAY on a track URL',
      setups: ['sample.mp4/trackID=2', 'sample.mp4'],
      controls: ['trackID=2', 'trackID=1'],
      play: 'sample.mp4/trackID=1',
    },
  ];

  for (const c of cases) {
    it.concurrent(c.name, async () => {
      const client = await RtspTestClient.connect(url());
      try {
        const tracks: ClientTrack[] = [];
        for (const path of c.setups) tracks.push((await client.setup(url(path), 'udp')).track);
        expect(tracks.map((t) => controlOf(client.session!, t))).toEqual(c.controls);
        // Every track is set up now: one more aggregate SETUP has nothing left to take.
        const extra = await client.request('SETUP', url('sample.mp4'), { Transport: 'RTP/AVP;unicast;client_port=40000-40001' });
        expect(extra.statusCode).toBe(459);

        const play = await client.play(url(c.play));
        expect(play.response.statusCode).toBe(200);
        expect(play.range?.start).toBe(0);
        // RTP-Info names each track by its URL under the aggregate URL (no double slash).
        expect(play.rtpInfo.map((e) => e.url).sort()).toEqual([url('sample.mp4/trackID=1'), url('sample.mp4/trackID=2')]);
        await Promise.all(tracks.map((t) => t.waitForPackets(3)));
        expect((await client.teardown(url(c.play))).statusCode).toBe(200);
      } finally {
        client.close();
      }
    });
  }

  it.concurrent('DESCRIBE on the aggregate URL with a slash gives the same Content-Base', async () => {
    const client = await RtspTestClient.connect(url());
    try {
      const a = await client.describe(url('sample.mp4'));
      const b = await client.describe(url('sample.mp4/'));
      expect(a.response.statusCode).toBe(200);
      expect(b.response.statusCode).toBe(200);
      expect(a.response.headers.get('Content-Base')).toBe(url('sample.mp4/'));
      expect(b.response.headers.get('Content-Base')).toBe(url('sample.mp4/'));
      // A track URL is not a presentation.
      expect((await client.describe(url('sample.mp4/trackID=1'))).response.statusCode).toBe(404);
    } finally {
      client.close();
    }
  });
});
