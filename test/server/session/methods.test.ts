/**
 * The method table as clients see it, for a file session and a live viewer alike: SETUP while
 * playing is 455 with the Allow of the playing state, SETUP after PAUSE works, and the registry
 * announces session-started, stream-started and session-ended (with its reason).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RtspServer } from '../../../src/server/index.ts';
import { RtspTestClient } from '../../helpers/rtsp-client.ts';
import { SAMPLE, startServer } from '../../helpers/server.ts';

describe('one method table for file sessions and live viewers', () => {
  let server: RtspServer;
  let base: string;
  const events: string[] = [];

  beforeAll(async () => {
    ({ server } = await startServer({ live: [{ name: 'loop', file: SAMPLE }] }));
    base = `rtsp://127.0.0.1:${server.port}`;
    server.events.on('session-started', (e) => events.push(`started ${e.kind} ${e.media}`));
    server.events.on('stream-started', (e) => events.push(`stream ${e.kind} ${e.media}`));
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
        expect((await c.request('PLAY', url, { Session: c.session })).statusCode).toBe(200);
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
