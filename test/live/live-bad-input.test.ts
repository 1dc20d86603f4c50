/**
 * Bad input on live paths: every request gets a clear status, the server never falls over, and a
 * publisher cannot write outside `live/NAME`. Runs against the real server with our test client.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { SAMPLE } from '../helpers/server.ts';

const SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=t\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\na=control:streamid=0\r\n';

describe('live paths: bad requests get clear answers', () => {
  const { server } = serverForSuite({ live: [{ name: 'file', file: SAMPLE }] });
  let base: string;

  beforeAll(() => {
    base = `rtsp://127.0.0.1:${server.port}`;
  });

  it.each([
    ['DESCRIBE of a channel nobody publishes', 'DESCRIBE', '/live/nobody', {}, undefined, 404],
    ['DESCRIBE of an invalid channel name', 'DESCRIBE', '/live/..', {}, undefined, 404],
    ['DESCRIBE of a track', 'DESCRIBE', '/live/file/trackID=1', {}, undefined, 404],
    ['SETUP of a missing channel', 'SETUP', '/live/nobody/trackID=1', { Transport: 'RTP/AVP/TCP;interleaved=0-1' }, undefined, 404],
    ['SETUP of a missing track', 'SETUP', '/live/file/trackID=9', { Transport: 'RTP/AVP/TCP;interleaved=0-1' }, undefined, 404],
    ['SETUP without Transport', 'SETUP', '/live/file/trackID=1', {}, undefined, 400],
    ['SETUP multicast when not configured', 'SETUP', '/live/file/trackID=1', { Transport: 'RTP/AVP;multicast' }, undefined, 461],
    [
      'SETUP unicast to another host',
      'SETUP',
      '/live/file/trackID=1',
      { Transport: 'RTP/AVP;unicast;destination=10.1.2.3;client_port=5000-5001' },
      undefined,
      403,
    ],
    [
      'SETUP mode=record without ANNOUNCE',
      'SETUP',
      '/live/x/streamid=0',
      { Transport: 'RTP/AVP/TCP;interleaved=0-1;mode=record' },
      undefined,
      455,
    ],
    ['PLAY without a session', 'PLAY', '/live/file', {}, undefined, 455],
    ['PLAY with an unknown session', 'PLAY', '/live/file', { Session: 'abcdef' }, undefined, 454],
    ['RECORD without a session', 'RECORD', '/live/x', {}, undefined, 455],
    ['ANNOUNCE over a file channel', 'ANNOUNCE', '/live/file', { 'Content-Type': 'application/sdp' }, SDP, 403],
    ['ANNOUNCE outside live/', 'ANNOUNCE', '/sample.mp4', { 'Content-Type': 'application/sdp' }, SDP, 405],
    ['ANNOUNCE of another content type', 'ANNOUNCE', '/live/x', { 'Content-Type': 'text/plain' }, SDP, 415],
    ['ANNOUNCE of a broken SDP', 'ANNOUNCE', '/live/x', { 'Content-Type': 'application/sdp' }, 'v=0\r\nm=video', 400],
    ['ANNOUNCE with no body', 'ANNOUNCE', '/live/x', { 'Content-Type': 'application/sdp' }, '', 400],
  ] as const)('%s', async (_what, method, path, headers, body, status) => {
    const c = await RtspTestClient.connect(base);
    const r = await c.request(method, `${base}${path}`, { ...headers }, body !== undefined ? Buffer.from(body) : undefined);
    expect(r.statusCode).toBe(status);
    c.close();
  });

  it('OPTIONS on a live path offers ANNOUNCE and RECORD', async () => {
    const c = await RtspTestClient.connect(base);
    const r = await c.request('OPTIONS', `${base}/live/file`);
    expect(r.headers.get('Public')).toBe('OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, PAUSE, RECORD, TEARDOWN, GET_PARAMETER, SET_PARAMETER');
    c.close();
  });

  it('random requests on live paths never take the server down', async () => {
    const c = await RtspTestClient.connect(base);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('DESCRIBE', 'ANNOUNCE', 'SETUP', 'PLAY', 'PAUSE', 'RECORD', 'TEARDOWN', 'GET_PARAMETER'),
        fc.constantFrom('/live/file', '/live/file/trackID=1', '/live/p', '/live/p/streamid=0', '/live/p/x/y', '/live/'),
        fc.constantFrom(
          'RTP/AVP;multicast',
          'RTP/AVP/TCP;interleaved=0-1;mode=record',
          'RTP/AVP;unicast;client_port=40000-40001;mode="RECORD"',
          'RTP/AVP/TCP;interleaved=254-255',
          'junk',
        ),
        fc.oneof(fc.constant(SDP), fc.string({ maxLength: 200 })),
        async (method, path, transport, body) => {
          const r = await c.request(
            method,
            `${base}${path}`,
            { Transport: transport, 'Content-Type': 'application/sdp' },
            Buffer.from(body),
          );
          return r.statusCode >= 200 && r.statusCode < 600 && r.statusCode !== 500;
        },
      ),
      { numRuns: 150 },
    );
    c.close();
    const ok = await RtspTestClient.connect(base);
    expect((await ok.request('OPTIONS', `${base}/live/file`)).statusCode).toBe(200);
    ok.close();
  }, 60_000);
});
