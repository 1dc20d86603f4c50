/**
 * The RTSP client's behaviour against a fake server (test/helpers/fake-rtsp-server.ts): control
 * URL forms, redirects, 401, UDP→TCP fallback, keep-alive pacing, a server that stops sending, and
 * bad input (malformed SDP, RTP, RTCP; packets from foreign SSRCs and addresses) counted, never
 * fatal. Synthetic media: 25 video frames/s (one packet each), 46.875 AAC packets/s.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FAKE_FOREIGN_SSRC, FakeRtspServer } from '../helpers/fake-rtsp-server.ts';
import { trackStats } from '../../src/receiver/index.ts';
import { play } from './helpers.ts';

const servers: FakeRtspServer[] = [];
async function fake(opts: Parameters<typeof FakeRtspServer.start>[0] = {}): Promise<FakeRtspServer> {
  const s = await FakeRtspServer.start(opts);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('control URLs', () => {
  it('SETUPs relative a=control under Content-Base and plays both tracks', async () => {
    const srv = await fake({ control: 'relative' });
    const r = await play(srv.url(), { durationSec: 1 });
    expect(r.end).toEqual({ ok: true, reason: 'duration' });
    const setups = srv.requests.filter((q) => q.method === 'SETUP').map((q) => q.uri);
    expect(setups).toEqual([`${srv.url()}/trackID=0`, `${srv.url()}/trackID=1`]);
    // ~25 frames and ~47 AAC packets in 1 s, less the jitter buffer's 100 ms.
    expect(r.units[0]).toBeGreaterThanOrEqual(15);
    expect(r.units[1]).toBeGreaterThanOrEqual(30);
    expect(srv.methods()).toEqual(['OPTIONS', 'DESCRIBE', 'SETUP', 'SETUP', 'PLAY', 'TEARDOWN']);
  });

  it('SETUPs absolute a=control URLs as given', async () => {
    const srv = await fake({ control: 'absolute' });
    const r = await play(srv.url(), { durationSec: 0.5, transport: 'tcp' });
    expect(r.end.ok).toBe(true);
    const setups = srv.requests.filter((q) => q.method === 'SETUP').map((q) => q.uri);
    expect(setups).toEqual([`${srv.url()}/stream=0`, `${srv.url()}/stream=1`]);
    expect(r.units[0]).toBeGreaterThan(0);
  });
});

describe('redirects and errors', () => {
  it.each([301, 302])('follows a %i redirect on DESCRIBE to another server', async (status) => {
    const target = await fake();
    const first = await fake({
      onRequest: (req, conn) => {
        if (req.method !== 'DESCRIBE') return false;
        conn.respond(req, status, { Location: target.url() });
        return true;
      },
    });
    const r = await play(first.url(), { durationSec: 0.5 });
    expect(r.end.ok).toBe(true);
    expect(first.methods()).toEqual(['OPTIONS', 'DESCRIBE']);
    expect(target.methods()).toEqual(['OPTIONS', 'DESCRIBE', 'SETUP', 'SETUP', 'PLAY', 'TEARDOWN']);
    expect(r.units[0]).toBeGreaterThan(0);
  });

  it('gives up on a redirect loop with a clear reason', async () => {
    const loop = await fake({
      onRequest: (req, conn) => {
        if (req.method !== 'DESCRIBE') return false;
        conn.respond(req, 302, { Location: req.uri });
        return true;
      },
    });
    const r = await play(loop.url());
    expect(r.end).toEqual({ ok: false, reason: 'more than 5 redirects' });
  });

  it('reports 401 as an authentication problem', async () => {
    const srv = await fake({
      onRequest: (req, conn) => {
        if (req.method !== 'DESCRIBE') return false;
        conn.respond(req, 401, { 'WWW-Authenticate': 'Digest realm="x", nonce="1"' });
        return true;
      },
    });
    const r = await play(srv.url());
    expect(r.end.ok).toBe(false);
    expect(!r.end.ok && r.end.reason).toMatch(/DESCRIBE .*401 Unauthorized: the server requires credentials/);
  });

  it('reports a refused SETUP with its status', async () => {
    const srv = await fake({
      onRequest: (req, conn) => {
        if (req.method !== 'SETUP') return false;
        conn.respond(req, 453);
        return true;
      },
    });
    const r = await play(srv.url());
    expect(r.end.ok).toBe(false);
    expect(!r.end.ok && r.end.reason).toMatch(/^SETUP .*: 453 /);
  });

  it('reports malformed SDP', async () => {
    const srv = await fake({ sdp: 'this is not an SDP\r\n' });
    const r = await play(srv.url());
    expect(r.end).toEqual({ ok: false, reason: expect.stringContaining("the server's SDP is malformed") });
  });
});

describe('transport', () => {
  it('falls back to TCP when nothing arrives over UDP', async () => {
    const srv = await fake({ udp: 'silent' });
    const r = await play(srv.url(), { udpFallbackMs: 1000, durationSec: 3 });
    expect(r.end).toEqual({ ok: true, reason: 'duration' });
    expect(r.session.transportUsed).toBe('tcp');
    expect(r.session.counters.fallbacks).toBe(1);
    // UDP session torn down, then the whole session again over TCP.
    expect(srv.methods()).toEqual([
      'OPTIONS',
      'DESCRIBE',
      'SETUP',
      'SETUP',
      'PLAY',
      'TEARDOWN',
      'OPTIONS',
      'DESCRIBE',
      'SETUP',
      'SETUP',
      'PLAY',
      'TEARDOWN',
    ]);
    const setups = srv.requests.filter((q) => q.method === 'SETUP').map((q) => q.headers.get('Transport'));
    expect(setups.slice(0, 2).every((t) => /client_port=/.test(t ?? ''))).toBe(true);
    expect(setups.slice(2).every((t) => /RTP\/AVP\/TCP;unicast;interleaved=/.test(t ?? ''))).toBe(true);
    // ~1.3 s of TCP media before the 3 s end (fallback after ~1 s, plus its round trips).
    expect(r.units[0]).toBeGreaterThan(20);
    expect(trackStats(r.session).every((t) => t.lost === 0)).toBe(true);
  });

  it('keeps the session alive with GET_PARAMETER at half the advertised timeout', async () => {
    const times: number[] = [];
    const srv = await fake({
      sessionTimeoutSec: 2,
      onRequest: (req) => {
        if (req.method === 'GET_PARAMETER') times.push(performance.now());
        return false;
      },
    });
    const r = await play(srv.url(), { durationSec: 4.5, transport: 'tcp' });
    expect(r.end.ok).toBe(true);
    // timeout=2 → every 1 s: 4 pings in 4.5 s, each with the session id.
    expect(times.length).toBeGreaterThanOrEqual(3);
    expect(times.length).toBeLessThanOrEqual(5);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeLessThan(1500);
    const pings = srv.requests.filter((q) => q.method === 'GET_PARAMETER');
    expect(pings.every((q) => q.headers.get('Session') === 'fake1')).toBe(true);
  });

  it('ends with a timeout message when the server stops sending', async () => {
    const srv = await fake({ stopAfterFrames: 25 });
    const r = await play(srv.url(), { idleTimeoutMs: 1500 });
    expect(r.end).toEqual({ ok: false, reason: 'the server stopped sending (nothing for 1.5 s)' });
    expect(r.wallMs).toBeLessThan(6000);
    expect(srv.methods().at(-1)).toBe('TEARDOWN');
  });

  it('ends when nothing ever arrives (no fallback)', async () => {
    const srv = await fake({ udp: 'silent' });
    const r = await play(srv.url(), { idleTimeoutMs: 1000 });
    expect(r.end).toEqual({ ok: false, reason: 'no RTP received within 1 s' });
  });

  it('ends when the server closes the connection', async () => {
    const srv = await fake();
    const r = await play(srv.url(), { during: () => setTimeout(() => srv.dropConnections(), 800) });
    expect(r.end).toEqual({ ok: false, reason: 'the server closed the connection' });
  });
});

describe('bad input is counted, never fatal', () => {
  it('ignores and counts packets from a foreign SSRC and from a foreign address', async () => {
    const srv = await fake({ foreignSsrcEvery: 5, foreignAddressEvery: 7 });
    const r = await play(srv.url(), { durationSec: 2 });
    expect(r.end.ok).toBe(true);
    const [video, audio] = trackStats(r.session);
    const frames = video!.packets; // real frames received (one packet each)
    // Frames 0, 5, 10, ... came with a foreign-SSRC twin; 0, 7, 14, ... with a twin from elsewhere.
    expect(video!.foreignSsrc).toBe(Math.ceil(frames / 5));
    expect(Math.abs(r.session.counters.foreignPackets - Math.ceil(frames / 7))).toBeLessThanOrEqual(1);
    expect(video!.lost).toBe(0);
    expect(video!.duplicates).toBe(0);
    expect(audio!.foreignSsrc).toBe(0);
    // Every real frame became a unit; no foreign one did (foreign payloads are identical, so count).
    expect(r.units[0]).toBe(frames);
    expect(FAKE_FOREIGN_SSRC).not.toBe(0);
  });

  it('counts malformed RTP and RTCP frames and keeps playing', async () => {
    const srv = await fake({
      onRequest: (req, conn) => {
        if (req.method === 'PLAY') {
          setTimeout(() => {
            conn.interleaved(0, Buffer.from('0102', 'hex')); // 2 bytes: short RTP header
            conn.interleaved(0, Buffer.from('400000000000000000000000', 'hex')); // v=1
            conn.interleaved(1, Buffer.from('81c9', 'hex')); // RTCP cut after 2 bytes
            conn.interleaved(1, Buffer.from('80c8000600000001', 'hex')); // SR claiming 28 bytes, has 8
            conn.interleaved(9, Buffer.from('80600001', 'hex')); // a channel nobody set up
          }, 300);
        }
        return false;
      },
    });
    const r = await play(srv.url(), { transport: 'tcp', durationSec: 1.2 });
    expect(r.end.ok).toBe(true);
    const [video] = trackStats(r.session);
    expect(video!.malformedRtp).toBe(2);
    expect(video!.malformedRtcp).toBe(2);
    expect(r.session.counters.foreignPackets).toBe(1);
    expect(r.units[0]).toBeGreaterThan(15);
  });

  it('survives seeded random bytes in place of any RTSP response', async () => {
    const { createPrng } = await import('../../src/util/prng.ts');
    const methods = ['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY'];
    const runs = Array.from({ length: 24 }, async (_, seed) => {
      const rnd = createPrng(seed + 1);
      const target = methods[seed % methods.length]!;
      const srv = await fake({
        onRequest: (req, conn) => {
          if (req.method !== target) return false;
          const n = 1 + rnd.nextInt(400);
          const junk = Buffer.alloc(n);
          for (let i = 0; i < n; i++) junk[i] = rnd.nextInt(256);
          // Half the time a plausible start, so the parser gets past the status line.
          const prefix = seed % 2 === 0 ? `RTSP/1.0 200 OK\r\nCSeq: ${req.headers.get('CSeq')}\r\n` : '';
          conn.raw(Buffer.concat([Buffer.from(prefix), junk]));
          if (rnd.nextInt(2) === 0) setTimeout(() => conn.socket.destroy(), 200);
          return true;
        },
      });
      const r = await play(srv.url(), { durationSec: 1, idleTimeoutMs: 1000, responseTimeoutMs: 1000 });
      return { seed, target, end: r.end, malformed: r.session.malformedRtsp };
    });
    const results = await Promise.all(runs);
    for (const x of results) {
      // Either a clean failure with a one-line reason, or (garbage that parsed) a played second.
      if (!x.end.ok) expect(x.end.reason, `seed ${x.seed}`).toMatch(/^[^\n]+$/);
    }
    expect(results.filter((x) => !x.end.ok).length).toBeGreaterThan(12);
  });
});
