/**
 * The primary's read of a connection's first request (src/cluster/first-request.ts), over an
 * in-process pipe on a manual clock: what it keeps, when it stops, and its deadlines.
 */
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { readFirstRequest } from '../../src/cluster/first-request.ts';
import type { FirstRead } from '../../src/cluster/first-request.ts';
import { duplexPair } from '../../src/transport/index.ts';
import { ManualClock } from '../../src/util/clock.ts';

const LIMITS = { maxHeaderBytes: 1024, maxBodyBytes: 1024, idleTimeoutMs: 60_000, requestTimeoutMs: 20_000 };

function start(clock = new ManualClock()) {
  const [server, client] = duplexPair();
  let result: FirstRead | undefined;
  void readFirstRequest(server as unknown as net.Socket, LIMITS, clock).then((r) => (result = r));
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  return { server, client, clock, settle, result: () => result };
}

describe('readFirstRequest', () => {
  it('keeps every byte up to and past the first complete request, split at every offset', async () => {
    const req = 'OPTIONS rtsp://h/a.mp4 RTSP/1.0\r\nCSeq: 1\r\n\r\n';
    const next = 'DESCRIBE rtsp://h/a.mp4 RTSP/1.0\r\nCSeq: 2\r\n\r\n';
    for (let cut = 1; cut < req.length; cut += 7) {
      const t = start();
      t.client.write(req.slice(0, cut));
      await t.settle();
      expect(t.result()).toBeUndefined();
      t.client.write(req.slice(cut) + next.slice(0, 10));
      await t.settle();
      expect(t.result()).toEqual({ kind: 'request', uri: 'rtsp://h/a.mp4', head: Buffer.from(req + next.slice(0, 10)) });
      // Afterwards nothing more is read here: the socket is paused for its worker.
      expect(t.server.isPaused()).toBe(true);
    }
  });

  it('waits for the body of a request that has one (ANNOUNCE)', async () => {
    const t = start();
    const sdp = 'v=0\r\n';
    t.client.write(`ANNOUNCE rtsp://h/live/cam RTSP/1.0\r\nCSeq: 1\r\nContent-Length: ${sdp.length}\r\n\r\n`);
    await t.settle();
    expect(t.result()).toBeUndefined();
    t.client.write(sdp);
    await t.settle();
    expect(t.result()).toMatchObject({ kind: 'request', uri: 'rtsp://h/live/cam' });
  });

  it('hands over what is not a request: bad syntax, too large, a $ frame first', async () => {
    for (const bytes of [Buffer.from('GARBAGE\r\n\r\n'), Buffer.from(`X ${'a'.repeat(2000)}`), Buffer.from([0x24, 0, 0, 2, 1, 2])]) {
      const t = start();
      t.client.write(bytes);
      await t.settle();
      expect(t.result()).toEqual({ kind: 'other', head: bytes });
    }
  });

  it('closes after the idle timeout without a byte, and after the request timeout once a request began', async () => {
    const idle = start();
    idle.clock.advance(LIMITS.idleTimeoutMs - 1);
    await idle.settle();
    expect(idle.result()).toBeUndefined();
    idle.clock.advance(1);
    await idle.settle();
    expect(idle.result()).toEqual({ kind: 'timeout', what: 'idle' });

    // A request begun at t=10 s must be complete by t=30 s (slowloris), idle or not.
    const slow = start();
    slow.clock.advance(10_000);
    slow.client.write('OPTIONS rtsp://h/a.mp4 RTSP/1.0\r\n');
    await slow.settle();
    slow.clock.advance(LIMITS.requestTimeoutMs - 1);
    await slow.settle();
    expect(slow.result()).toBeUndefined();
    slow.clock.advance(1);
    await slow.settle();
    expect(slow.result()).toEqual({ kind: 'timeout', what: 'request' });

    // Begun late, it still ends at the idle deadline counted from the connection's start.
    const late = start();
    late.clock.advance(55_000);
    late.client.write('OPTIONS');
    await late.settle();
    late.clock.advance(5_000);
    await late.settle();
    expect(late.result()).toEqual({ kind: 'timeout', what: 'request' });
  });

  it('reports a connection closed before its first request', async () => {
    const t = start();
    t.client.destroy();
    await t.settle();
    expect(t.result()).toEqual({ kind: 'closed' });
  });
});
