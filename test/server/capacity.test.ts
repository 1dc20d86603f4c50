/**
 * `--max-sessions`: file sessions and live sessions (viewers, publishers) count against one limit;
 * SETUP beyond it answers 453 with Retry-After, and a freed place can be taken again.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { SAMPLE } from '../helpers/server.ts';

describe('session capacity', () => {
  const { server } = serverForSuite({ maxSessions: 2, live: [{ name: 'loop', file: SAMPLE }] });
  let base: string;

  beforeAll(() => {
    base = `rtsp://127.0.0.1:${server.port}`;
  });

  const setupRaw = (c: RtspTestClient, url: string) => c.request('SETUP', url, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });

  it('counts a live viewer and a file session together, and frees the place on TEARDOWN', async () => {
    const viewer = await RtspTestClient.connect(base);
    const file = await RtspTestClient.connect(base);
    const third = await RtspTestClient.connect(base);
    try {
      expect((await setupRaw(viewer, `${base}/live/loop/trackID=1`)).statusCode).toBe(200);
      const f = await setupRaw(file, `${base}/sample.mp4/trackID=1`);
      expect(f.statusCode).toBe(200);
      const overFile = await setupRaw(third, `${base}/sample.mp4/trackID=1`);
      expect(overFile.statusCode).toBe(453);
      expect(overFile.headers.get('Retry-After')).toBe('10');
      expect((await setupRaw(third, `${base}/live/loop/trackID=1`)).statusCode).toBe(453);
      const session = f.headers.get('Session')!.split(';')[0]!;
      expect((await file.request('TEARDOWN', `${base}/sample.mp4`, { Session: session })).statusCode).toBe(200);
      expect((await setupRaw(third, `${base}/sample.mp4/trackID=1`)).statusCode).toBe(200);
    } finally {
      for (const c of [viewer, file, third]) c.close();
    }
  });
});
