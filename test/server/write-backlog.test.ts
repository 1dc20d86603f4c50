/**
 * The control-reply path is bounded: a client that pipelines DESCRIBEs as fast as it can and never
 * reads an answer fills the kernel's buffers, then the server's own queue; past
 * `maxWriteBacklogBytes` the server closes the connection (logged, counted) instead of queueing
 * without end. A well-behaved client on another connection is served meanwhile, and one that
 * pipelines faster than the server answers but reads is slowed down (reading paused), not refused.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { RawConnection } from '../helpers/raw-connection.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { sleep } from '../helpers/wait.ts';

const BACKLOG = 64 * 1024;
/** Far more answers than loopback's kernel buffers hold (a few MiB); the test fails if it gets here. */
const MAX_SENT_BYTES = 64 * 1024 * 1024;

describe('write backlog of the control connection', () => {
  const { server, url } = serverForSuite({ maxWriteBacklogBytes: BACKLOG });

  it('closes a client that pipelines DESCRIBEs and never reads, past the bound, counted', async () => {
    const describe = Buffer.from(`DESCRIBE ${url()} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n`);
    const batch = Buffer.concat(Array.from({ length: 256 }, () => describe));
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(server.port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    socket.on('error', () => undefined);
    let closed = false;
    socket.on('close', () => (closed = true));
    // Never read: nothing consumes what the server sends.
    socket.pause();
    const before = server.snapshot().counters;
    let sent = 0;
    try {
      while (server.snapshot().counters.writeBacklogClosed === before.writeBacklogClosed) {
        if (sent > MAX_SENT_BYTES)
          throw new Error(
            `still open after ${sent} bytes of DESCRIBEs (${server.snapshot().counters.requests - before.requests} answered)`,
          );
        if (closed || socket.destroyed) break;
        if (socket.writableLength < 1024 * 1024) {
          socket.write(batch);
          sent += batch.length;
        }
        await sleep(1);
      }
      const after = server.snapshot().counters;
      expect(after.writeBacklogClosed).toBe(before.writeBacklogClosed + 1);
      // It was answered until its answers piled up: more than the bound's worth of them.
      const answered = after.requests - before.requests;
      expect(answered).toBeGreaterThan(BACKLOG / 1000);
      expect(after.badRequests).toBe(before.badRequests);
      // And the server still serves others.
      const other = await RawConnection.open(server.port);
      try {
        expect((await other.request('DESCRIBE', url(), { CSeq: '1', Accept: 'application/sdp' })).statusCode).toBe(200);
      } finally {
        other.close();
      }
    } finally {
      socket.destroy();
    }
  });

  it('answers a pipelining client that reads every request in order (reading paused, not refused)', async () => {
    const c = await RawConnection.open(server.port);
    try {
      const n = 500;
      const all = Array.from({ length: n }, (_, i) => `OPTIONS ${url()} RTSP/1.0\r\nCSeq: ${i + 1}\r\n\r\n`).join('');
      c.write(all);
      const responses = await c.waitResponses(n, 20_000);
      expect(responses.map((r) => r.statusCode)).toEqual(Array.from({ length: n }, () => 200));
      expect(responses.map((r) => Number(r.headers.get('CSeq')))).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    } finally {
      c.close();
    }
  });
});
