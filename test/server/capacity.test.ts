/**
 * `--max-sessions`: file sessions and live sessions (viewers, publishers) count against one limit;
 * SETUP (and ANNOUNCE) beyond it answers 453 with Retry-After, and a freed place can be taken
 * again. The limit holds under concurrency: places are counted before the SETUP awaits anything.
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

  it('ANNOUNCE beyond the limit is refused with Retry-After too', async () => {
    const a = await RtspTestClient.connect(base);
    const b = await RtspTestClient.connect(base);
    const publisher = await RtspTestClient.connect(base);
    try {
      expect((await setupRaw(a, `${base}/sample.mp4/trackID=1`)).statusCode).toBe(200);
      expect((await setupRaw(b, `${base}/sample.mp4/trackID=1`)).statusCode).toBe(200);
      const sdp =
        'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=1\r\n';
      const res = await publisher.request('ANNOUNCE', `${base}/live/cap`, { 'Content-Type': 'application/sdp' }, Buffer.from(sdp));
      expect(res.statusCode).toBe(453);
      expect(res.headers.get('Retry-After')).toBe('10');
    } finally {
      for (const c of [a, b, publisher]) c.close();
    }
  });
});

describe('session capacity under concurrency', () => {
  const { server } = serverForSuite({ maxSessions: 100, maxConnectionsPerAddress: 200 });

  it('200 concurrent SETUPs against a limit of 100 make exactly 100 sessions', async () => {
    const base = `rtsp://127.0.0.1:${server.port}`;
    const clients = await Promise.all(Array.from({ length: 200 }, () => RtspTestClient.connect(base)));
    try {
      // (The server accepts 2 × maxSessions connections; all 200 come from 127.0.0.1.) Every SETUP is on the wire before any answer:
      // each must be counted before it awaits the file.
      const answers = await Promise.all(
        clients.map((c) => c.request('SETUP', `${base}/sample.mp4/trackID=1`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' })),
      );
      const ok = answers.filter((r) => r.statusCode === 200).length;
      const refused = answers.filter((r) => r.statusCode === 453);
      expect(ok).toBe(100);
      expect(refused.length).toBe(100);
      expect(refused.every((r) => r.headers.get('Retry-After') === '10')).toBe(true);
      expect(server.sessions.size).toBe(100);
    } finally {
      for (const c of clients) c.close();
    }
  }, 60_000);
});
