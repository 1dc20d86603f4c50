/**
 * The method table as clients see it, for a file session and a live viewer alike: SETUP while
 * playing is 455 with the Allow of the playing state, SETUP after PAUSE works, and the registry
 * announces session-started, stream-started and session-ended (with its reason). stream-started
 * names what each track's first packet carries: the RTP-Info seq and rtptime, and the SSRC seen on
 * the wire.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RtspServer } from '../../../src/server/index.ts';
import { RtspTestClient } from '../../helpers/rtsp-client.ts';
import { SAMPLE, startServer } from '../../helpers/server.ts';
import { waitUntil } from '../../helpers/wait.ts';
import type { StreamTrackStart } from '../../../src/server/index.ts';

describe('one method table for file sessions and live viewers', () => {
  let server: RtspServer;
  let base: string;
  const events: string[] = [];
  let started: StreamTrackStart[] = [];

  beforeAll(async () => {
    ({ server } = await startServer({ live: [{ name: 'loop', file: SAMPLE }] }));
    base = `rtsp://127.0.0.1:${server.port}`;
    server.events.on('session-started', (e) => events.push(`started ${e.kind} ${e.media}`));
    server.events.on('stream-started', (e) => {
      events.push(`stream ${e.kind} ${e.media}`);
      started = e.tracks;
    });
    server.events.on('session-ended', (e) => events.push(`ended ${e.kind} ${e.media} ${e.reason}`));
  });

  afterAll(async () => {
    await server?.close();
  });

  for (const [kind, media] of [
    ['file', 'sample.mp4'],
    ['live-viewer', 'live/loop'],
  ] as const) {
    it(`${kind}: SETUP while playing is 455, after PAUSE it is allowed`, async () => {
      events.length = 0;
      const url = `${base}/${media}`;
      const c = await RtspTestClient.connect(url);
      try {
        const setup = (ch: string, control: string) =>
          c.request('SETUP', `${url}/${control}`, {
            Transport: `RTP/AVP/TCP;unicast;interleaved=${ch}`,
            ...(c.session ? { Session: c.session } : {}),
          });
        const first = await setup('0-1', 'trackID=1');
        expect(first.statusCode).toBe(200);
        c.session = first.headers.get('Session')!.split(';')[0]!;
        const rtp: Buffer[] = [];
        c.onInterleaved = (channel, data) => {
          if (channel === 0) rtp.push(data);
        };
        const play = await c.request('PLAY', url, { Session: c.session });
        expect(play.statusCode).toBe(200);
        const info = /seq=(\d+);rtptime=(\d+)/.exec(play.headers.get('RTP-Info') ?? '');
        expect(started).toHaveLength(1);
        expect(started[0]!.control).toBe('trackID=1');
        expect([started[0]!.seq, started[0]!.rtptime]).toEqual([Number(info?.[1]), Number(info?.[2])]);
        await waitUntil(() => rtp.length > 0, 5000, 'first RTP packet');
        expect(rtp[0]!.readUInt32BE(8)).toBe(started[0]!.ssrc);
        // A file's first packet is RTP-Info's; a live viewer joins at the channel's next keyframe.
        const ahead = (rtp[0]!.readUInt16BE(2) - started[0]!.seq) & 0xffff;
        if (kind === 'file') expect(ahead).toBe(0);
        else expect(ahead).toBeLessThan(1000);
        const refused = await setup('2-3', 'trackID=2');
        expect(refused.statusCode).toBe(455);
        expect(refused.headers.get('Allow')).toBe('PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER');
        expect((await c.request('PAUSE', url, { Session: c.session })).statusCode).toBe(200);
        expect((await setup('2-3', 'trackID=2')).statusCode).toBe(200);
        expect((await c.request('TEARDOWN', url, { Session: c.session })).statusCode).toBe(200);
        expect(events).toEqual([`started ${kind} ${media}`, `stream ${kind} ${media}`, `ended ${kind} ${media} teardown`]);
      } finally {
        c.close();
      }
    });
  }
});
