/**
 * The session timeout through the whole server on the ManualClock: the advertised timeout and the
 * grace (ServerOptions.sessionTimeoutGraceSec) decide when an idle session goes, with no waiting
 * in real time. Requests keep it alive; the registry announces the end with its reason.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RtspServer } from '../../../src/server/index.ts';
import { ManualClock } from '../../../src/util/clock.ts';
import { RtspTestClient } from '../../helpers/rtsp-client.ts';
import { startServer } from '../../helpers/server.ts';

describe('session expiry on the ManualClock', () => {
  let server: RtspServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('expires timeout + grace after the last request; a keep-alive restarts the count', async () => {
    const clock = new ManualClock();
    ({ server } = await startServer({ clock, sessionTimeoutSec: 10, sessionTimeoutGraceSec: 2 }));
    const ended: string[] = [];
    server.events.on('session-ended', (e) => ended.push(`${e.kind} ${e.reason}`));
    const base = `rtsp://127.0.0.1:${server.port}/sample.mp4`;
    const c = await RtspTestClient.connect(base);
    try {
      const res = await c.request('SETUP', `${base}/trackID=1`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
      expect(res.statusCode).toBe(200);
      expect(res.headers.get('Session')).toMatch(/;timeout=10$/);
      const id = res.headers.get('Session')!.split(';')[0]!;
      clock.advance(11_000);
      // t = 11 s: a GET_PARAMETER keeps it alive until 23 s.
      expect((await c.request('GET_PARAMETER', base, { Session: id })).statusCode).toBe(200);
      clock.advance(11_999);
      expect(server.sessions.has(id)).toBe(true);
      clock.advance(1);
      expect(server.sessions.has(id)).toBe(false);
      expect(ended).toEqual(['file timeout']);
      expect(server.snapshot().counters.sessionsExpired).toBe(1);
      expect((await c.request('PLAY', base, { Session: id })).statusCode).toBe(454);
    } finally {
      c.close();
    }
  });
});
