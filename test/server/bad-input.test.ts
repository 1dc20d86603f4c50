/**
 * The server against bad input: every refusal has the right status, and nothing from the network
 * takes it down. A fresh media directory per file, with a secret file next to it (outside).
 */
import dgram from 'node:dgram';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { parseTransport } from '../../src/rtsp/index.ts';
import { RawConnection } from '../helpers/raw-connection.ts';
import { SAMPLE } from '../helpers/server.ts';

let dir: string;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-bad-'));
  await mkdir(path.join(dir, 'media', 'sub'), { recursive: true });
  await copyFile(SAMPLE, path.join(dir, 'media', 'sample.mp4'));
  await copyFile(SAMPLE, path.join(dir, 'secret.mp4'));
  await symlink(path.join(dir, 'secret.mp4'), path.join(dir, 'media', 'sub', 'link.mp4'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const { server } = serverForSuite(() => ({ mediaDir: path.join(dir, 'media') }));
beforeAll(() => {
  base = `rtsp://127.0.0.1:${server.port}`;
});

async function withConnection<T>(fn: (c: RawConnection) => Promise<T>): Promise<T> {
  const c = await RawConnection.open(server.port);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

async function setupUdp(c: RawConnection, cseq = 1): Promise<{ session: string; serverPorts: [number, number] }> {
  const res = await c.request('SETUP', `${base}/sample.mp4/trackID=1`, {
    CSeq: String(cseq),
    Transport: 'RTP/AVP;unicast;client_port=40000-40001',
  });
  expect(res.statusCode).toBe(200);
  const t = parseTransport(res.headers.get('Transport')!);
  if (!t.ok) throw new Error('bad Transport in response');
  return { session: res.headers.get('Session')!.split(';')[0]!, serverPorts: t.value[0]!.serverPort! };
}

describe('paths', () => {
  it('answers 404 for a missing file', async () => {
    await withConnection(async (c) => {
      const res = await c.request('DESCRIBE', `${base}/nope.mp4`, { CSeq: '1' });
      expect(res.statusCode).toBe(404);
      expect(res.headers.get('CSeq')).toBe('1');
    });
  });

  it.each([
    ['dot-dot', '/../secret.mp4'],
    ['dot-dot inside', '/sub/../../secret.mp4'],
    ['percent-encoded dot-dot', '/%2e%2e/secret.mp4'],
    ['percent-encoded slash', '/..%2fsecret.mp4'],
    ['absolute path', '//etc/passwd'],
    ['absolute file path', `/${'%2F'}etc%2Fpasswd`],
    ['backslash', '/..%5csecret.mp4'],
    ['NUL', '/sample.mp4%00.txt'],
    ['symlink leaving the directory', '/sub/link.mp4'],
    ['a directory', '/sub'],
  ])('answers 404 with nothing opened for %s', async (_name, p) => {
    await withConnection(async (c) => {
      const res = await c.request('DESCRIBE', `${base}${p}`, { CSeq: '7' });
      expect(res.statusCode).toBe(404);
    });
    // Refused before anything was opened: the catalog holds no file.
    expect(server.catalog.openFiles()).toEqual([]);
  });

  it('still serves the file inside the directory', async () => {
    await withConnection(async (c) => {
      const res = await c.request('DESCRIBE', `${base}/sample.mp4`, { CSeq: '1', Accept: 'application/sdp' });
      expect(res.statusCode).toBe(200);
      expect(res.headers.get('Content-Base')).toBe(`${base}/sample.mp4/`);
      expect(res.body.toString()).toContain('a=range:npt=0-20.');
    });
  });
});

describe('malformed and refused requests', () => {
  it.each([
    ['no CSeq', 'OPTIONS * RTSP/1.0\r\n\r\n', 400],
    ['garbage request line', 'HELLO\r\nCSeq: 2\r\n\r\n', 400],
    ['bad header line', 'OPTIONS * RTSP/1.0\r\nCSeq: 3\r\nno colon here\r\n\r\n', 400],
    ['RTSP/2.0', 'OPTIONS * RTSP/2.0\r\nCSeq: 4\r\n\r\n', 505],
    ['unknown method', `FROB ${'rtsp://x/sample.mp4'} RTSP/1.0\r\nCSeq: 5\r\n\r\n`, 501],
    ['RECORD (known, not offered)', `RECORD ${'rtsp://x/sample.mp4'} RTSP/1.0\r\nCSeq: 6\r\n\r\n`, 405],
  ])('%s gets its status, and the connection still works', async (_name, bytes, status) => {
    await withConnection(async (c) => {
      c.write(bytes);
      const [res] = await c.waitResponses(1);
      expect(res!.statusCode).toBe(status);
      const ok = await c.request('OPTIONS', '*', { CSeq: '99' });
      expect(ok.statusCode).toBe(200);
      expect(ok.headers.get('Public')).toContain('GET_PARAMETER');
    });
  });

  it('refuses an oversized request and closes the connection', async () => {
    await withConnection(async (c) => {
      c.write(`OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
      const [res] = await c.waitResponses(1);
      expect(res!.statusCode).toBeGreaterThanOrEqual(400);
      expect(await c.waitClosed()).toBe(true);
    });
  });

  it('answers 454 for an unknown session and 455 for a method not valid in the state', async () => {
    await withConnection(async (c) => {
      const unknown = await c.request('PLAY', `${base}/sample.mp4`, { CSeq: '1', Session: 'deadbeef' });
      expect(unknown.statusCode).toBe(454);
      const noSession = await c.request('PLAY', `${base}/sample.mp4`, { CSeq: '2' });
      expect(noSession.statusCode).toBe(455);
      const { session } = await setupUdp(c, 3);
      const play = await c.request('PLAY', `${base}/sample.mp4`, { CSeq: '4', Session: session });
      expect(play.statusCode).toBe(200);
      const setupWhilePlaying = await c.request('SETUP', `${base}/sample.mp4/trackID=2`, {
        CSeq: '5',
        Session: session,
        Transport: 'RTP/AVP;unicast;client_port=40002-40003',
      });
      expect(setupWhilePlaying.statusCode).toBe(455);
      const td = await c.request('TEARDOWN', `${base}/sample.mp4`, { CSeq: '6', Session: session });
      expect(td.statusCode).toBe(200);
      const after = await c.request('PLAY', `${base}/sample.mp4`, { CSeq: '7', Session: session });
      expect(after.statusCode).toBe(454);
    });
  });

  it.each([
    ['multicast', 'RTP/AVP;multicast', 461],
    ['SAVP', 'RTP/SAVP;unicast;client_port=40000-40001', 461],
    ['UDP without client_port', 'RTP/AVP;unicast', 461],
    ['another destination', 'RTP/AVP;unicast;destination=10.1.2.3;client_port=40000-40001', 403],
  ])('refuses SETUP with %s transport', async (_name, transport, status) => {
    await withConnection(async (c) => {
      const res = await c.request('SETUP', `${base}/sample.mp4/trackID=1`, { CSeq: '1', Transport: transport });
      expect(res.statusCode).toBe(status);
      expect(res.headers.get('Session')).toBeUndefined();
    });
    expect(server.sessions.size).toBe(0);
  });

  it('accepts a destination equal to the client address', async () => {
    await withConnection(async (c) => {
      const res = await c.request('SETUP', `${base}/sample.mp4/trackID=1`, {
        CSeq: '1',
        Transport: 'RTP/AVP;unicast;destination=127.0.0.1;client_port=40000-40001',
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers.get('Transport')).not.toContain('destination');
      await c.request('TEARDOWN', `${base}/sample.mp4`, { CSeq: '2', Session: res.headers.get('Session')!.split(';')[0]! });
    });
  });

  it('answers 404 for a track that does not exist', async () => {
    await withConnection(async (c) => {
      const res = await c.request('SETUP', `${base}/sample.mp4/trackID=9`, {
        CSeq: '1',
        Transport: 'RTP/AVP;unicast;client_port=40000-40001',
      });
      expect(res.statusCode).toBe(404);
    });
  });

  it('answers 457 for a Range beyond the end or in an unsupported unit', async () => {
    await withConnection(async (c) => {
      const { session } = await setupUdp(c);
      const beyond = await c.request('PLAY', `${base}/sample.mp4`, { CSeq: '2', Session: session, Range: 'npt=99-' });
      expect(beyond.statusCode).toBe(457);
      const smpte = await c.request('PLAY', `${base}/sample.mp4`, { CSeq: '3', Session: session, Range: 'smpte=0:10:00-' });
      expect(smpte.statusCode).toBe(457);
      await c.request('TEARDOWN', `${base}/sample.mp4`, { CSeq: '4', Session: session });
    });
  });
});

describe('framing', () => {
  it('answers pipelined requests in order', async () => {
    await withConnection(async (c) => {
      c.write(
        'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n' +
          `DESCRIBE ${base}/sample.mp4 RTSP/1.0\r\nCSeq: 2\r\n\r\n` +
          `DESCRIBE ${base}/missing.mp4 RTSP/1.0\r\nCSeq: 3\r\n\r\n` +
          'OPTIONS * RTSP/1.0\r\nCSeq: 4\r\n\r\n',
      );
      const res = await c.waitResponses(4);
      expect(res.map((r) => [r.headers.get('CSeq'), r.statusCode])).toEqual([
        ['1', 200],
        ['2', 200],
        ['3', 404],
        ['4', 200],
      ]);
    });
  });

  it('parses a request split into one-byte TCP segments', async () => {
    await withConnection(async (c) => {
      c.socket.setNoDelay(true);
      const bytes = Buffer.from(`DESCRIBE ${base}/sample.mp4 RTSP/1.0\r\nCSeq: 9\r\nAccept: application/sdp\r\n\r\n`);
      for (const b of bytes) {
        c.write(Buffer.from([b]));
        await new Promise((r) => setImmediate(r));
      }
      const [res] = await c.waitResponses(1);
      expect(res!.statusCode).toBe(200);
      expect(res!.headers.get('CSeq')).toBe('9');
    });
  });
});

describe('network input never crashes the server', () => {
  it('drops and counts malformed RTCP on a session port, and ignores other senders', async () => {
    await withConnection(async (c) => {
      const rtp = dgram.createSocket('udp4');
      const rtcp = dgram.createSocket('udp4');
      await new Promise<void>((r) => rtp.bind(0, '127.0.0.1', () => r()));
      await new Promise<void>((r) => rtcp.bind(0, '127.0.0.1', () => r()));
      const res = await c.request('SETUP', `${base}/sample.mp4/trackID=1`, {
        CSeq: '1',
        Transport: `RTP/AVP;unicast;client_port=${rtp.address().port}-${rtcp.address().port}`,
      });
      expect(res.statusCode).toBe(200);
      const session = res.headers.get('Session')!.split(';')[0]!;
      const t = parseTransport(res.headers.get('Transport')!);
      if (!t.ok) throw new Error('bad Transport in response');
      const serverRtcp = t.value[0]!.serverPort![1];
      const before = server.snapshot().counters;
      const send = (s: dgram.Socket, b: Buffer, port = serverRtcp) => new Promise<void>((r) => s.send(b, port, '127.0.0.1', () => r()));
      await send(rtcp, Buffer.from([0x80, 0xc9, 0x00, 0x07, 1, 2])); // RR claiming 32 bytes, 6 present
      await send(rtcp, Buffer.from('not rtcp at all'));
      await send(rtcp, Buffer.alloc(0));
      // From a port the client did not declare: the connected server socket never sees it.
      const stranger = dgram.createSocket('udp4');
      await send(stranger, Buffer.from([0x80, 0xc9, 0x00, 0x01, 0, 0, 0, 1]));
      // RTP port too: ignored (counted only as keep-alive).
      await send(rtp, Buffer.from([1, 2, 3]), t.value[0]!.serverPort![0]);
      await new Promise((r) => setTimeout(r, 200));
      for (const s of [rtp, rtcp, stranger]) s.close();
      const after = server.snapshot().counters;
      expect(after.rtcpMalformed - before.rtcpMalformed).toBe(3);
      expect(after.rtcpReceived - before.rtcpReceived).toBe(3);
      const ok = await c.request('GET_PARAMETER', `${base}/sample.mp4`, { CSeq: '9', Session: session });
      expect(ok.statusCode).toBe(200);
      await c.request('TEARDOWN', `${base}/sample.mp4`, { CSeq: '10', Session: session });
    });
  });

  it('survives random bytes on many connections and still answers', async () => {
    let x = 0x1234567;
    const rand = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 40; i++) {
      const c = await RawConnection.open(server.port);
      const len = 1 + Math.floor(rand() * 3000);
      const buf = Buffer.alloc(len);
      for (let j = 0; j < len; j++) buf[j] = Math.floor(rand() * 256);
      // Half of them start like a request or an interleaved frame to reach deeper parser states.
      if (i % 4 === 1) buf.write('SETUP rtsp://127.0.0.1/sample.mp4 RTSP/1.0\r\nCSeq: 1\r\n');
      if (i % 4 === 2) buf[0] = 0x24;
      c.write(buf);
      await new Promise((r) => setTimeout(r, 5));
      c.close();
    }
    await withConnection(async (c) => {
      const res = await c.request('OPTIONS', '*', { CSeq: '1' });
      expect(res.statusCode).toBe(200);
    });
  });
});
