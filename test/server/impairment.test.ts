/**
 * Impairment on the server's egress: asked for in the URL (any client can) or for every session.
 * What the client receives must be exactly what the emulator's ground truth says was delivered.
 */
import { describe, expect, it } from 'vitest';
import type { RtspServer } from '../../src/server/index.ts';
import { ImpairmentPipeline, pathSeed } from '../../src/impair/index.ts';
import { impairmentFromArgs } from '../../src/server/index.ts';
import type { ImpairedEgress } from '../../src/transport/index.ts';
import { RawConnection } from '../helpers/raw-connection.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { startServer } from '../helpers/server.ts';

const { server, url } = serverForSuite();

/** Plays `seconds` of the video track and returns the sequence numbers received and the egress. */
async function playVideo(srv: RtspServer, describeUrl: string, setupUrl: string, seconds: number) {
  const client = await RtspTestClient.connect(describeUrl);
  try {
    await client.describe(describeUrl);
    const { track, response } = await client.setup(setupUrl, 'udp');
    const sessionId = response.headers.get('Session')!.split(';')[0]!;
    const session = srv.sessions.get(sessionId)!;
    await client.play(describeUrl);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    // The server's clock is performance.now() in this process: fates are on the same time line.
    const teardownAt = performance.now();
    await client.teardown(describeUrl);
    await new Promise((r) => setTimeout(r, 200));
    const egress = session.setups.get('trackID=1')!.egress as ImpairedEgress;
    return { seqs: track.rtp.map((p) => p.seq), egress, impairment: session.impairment, teardownAt };
  } finally {
    client.close();
  }
}

describe('impairment from the URL', () => {
  it('drops exactly the packets the seeded emulator drops, and remembers the DESCRIBE query for SETUP', async () => {
    const impaired = `${url()}?netem=loss+random+10%25&seed=3`;
    // SETUP goes to the plain track URL, as clients build it from Content-Base (no query).
    const { seqs, egress, impairment } = await playVideo(server, impaired, `${url()}/trackID=1`, 3);
    expect(impairment?.text).toBe('loss random 10%');
    expect(impairment?.seed).toBe(3);
    // Issue 13: a URL impairment keeps no per-packet records on the server, only counters.
    expect(egress.rtpFates).toEqual([]);
    expect(egress.rtp.recordsFates).toBe(false);
    // Ground truth rebuilt offline: the same config and seed decide the same fates for as many
    // packets as the server's pipeline counted (random loss depends on the submission order only).
    const truth = new ImpairmentPipeline(impairment!.config, pathSeed(impairment!.seed, 0, 0));
    for (let id = 0; id < egress.rtp.counters.submitted; id++) truth.submit({ id, bytes: 1000, sentAtMs: 0 }, 0);
    const fates = truth.fates;
    expect(fates.filter((f) => f.dropped).length).toBe(egress.rtp.counters.dropped);
    const sent = fates.length;
    const delivered = fates.filter((f) => !f.dropped).length;
    expect(sent).toBeGreaterThan(150);
    // Loopback loses nothing: what arrived is what the emulator let through, no more, no less.
    expect(seqs.length).toBe(delivered);
    const dropped = sent - delivered;
    expect(dropped / sent).toBeGreaterThan(0.03);
    expect(dropped / sent).toBeLessThan(0.2);
    // Which packets: the sequence numbers missing are the dropped ids (ids count from the first).
    expect(seqs.every((x) => Number.isInteger(x))).toBe(true);
    const first = seqs[0]!;
    const missing = new Set<number>();
    const got = new Set(seqs.map((s) => (s - first + 65536) & 0xffff));
    const lastId = Math.max(...got);
    for (let i = 0; i <= lastId; i++) if (!got.has(i)) missing.add(i);
    const firstDelivered = fates.find((x) => !x.dropped)!.id;
    const droppedIds = fates.filter((f) => f.dropped && f.id - firstDelivered <= lastId).map((f) => f.id - firstDelivered);
    expect(droppedIds.length).toBeGreaterThan(5);
    expect([...missing].sort((a, b) => a - b)).toEqual(droppedIds.sort((a, b) => a - b));
  });

  it('answers 400 naming the bad word', async () => {
    const c = await RawConnection.open(server.port);
    try {
      const res = await c.request('DESCRIBE', `${url()}?netem=loss+random+120%25`, { CSeq: '1' });
      expect(res.statusCode).toBe(400);
      const trace = await c.request('DESCRIBE', `${url()}?netem=trace+%2Fetc%2Fpasswd`, { CSeq: '2' });
      expect(trace.statusCode).toBe(400);
      const seed = await c.request('DESCRIBE', `${url()}?netem=delay+10ms&seed=x`, { CSeq: '3' });
      expect(seed.statusCode).toBe(400);
      // Issue 13: a delay beyond any timer Node can arm is refused before a session exists.
      const huge = await c.request('DESCRIBE', `${url()}?netem=delay+99999999999999s`, { CSeq: '4' });
      expect(huge.statusCode).toBe(400);
    } finally {
      c.close();
    }
  });
});

describe('impairment lifetime (issue 13)', () => {
  it('TEARDOWN releases the packets a delay still holds', async () => {
    const { server: srv, url: u } = await startServer({});
    try {
      const base = srv.scheduler.size;
      const describeUrl = `${u()}?netem=delay+10s`;
      const client = await RtspTestClient.connect(describeUrl);
      try {
        await client.describe(describeUrl);
        const { response } = await client.setup(`${u()}/trackID=1`, 'udp');
        const session = srv.sessions.get(response.headers.get('Session')!.split(';')[0]!)!;
        await client.play(describeUrl);
        await new Promise((r) => setTimeout(r, 500));
        const egress = session.setups.get('trackID=1')!.egress as ImpairedEgress;
        expect(egress.heldPackets).toBeGreaterThan(10);
        expect(srv.scheduler.size).toBeGreaterThan(base + 10);
        await client.teardown(describeUrl);
        expect(egress.heldPackets).toBe(0);
        expect(egress.droppedOnClose).toBeGreaterThan(10);
        expect(srv.scheduler.size).toBe(base);
      } finally {
        client.close();
      }
    } finally {
      await srv.close();
    }
  });
});

describe('impairment for every session (serve --netem)', () => {
  it('delays every packet by the configured delay and keeps the seed reproducible', async () => {
    // The test observes the ground truth, so it asks for fates like the lab does.
    const spec = { ...impairmentFromArgs('delay 50ms loss random 5%', 11), recordFates: true };
    const { server: srv, url: u } = await startServer({ impairment: spec });
    try {
      const a = await playVideo(srv, u(), `${u()}/trackID=1`, 2);
      const delivered = a.egress.rtpFates.filter((f) => !f.dropped);
      expect(delivered.every((f) => Math.abs((f.delayMs ?? 0) - 50) < 1e-6)).toBe(true);
      // Packets still in the 50 ms delay line at TEARDOWN never arrive; all others do.
      const dueBefore = delivered.filter((f) => f.deliveredAtMs! < a.teardownAt).length;
      expect(a.seqs.length).toBeGreaterThanOrEqual(dueBefore - 1);
      expect(a.seqs.length).toBeLessThanOrEqual(delivered.length);
      const b = await playVideo(srv, u(), `${u()}/trackID=1`, 2);
      // Same seed, same packets: the first 100 fates agree.
      const pattern = (e: ImpairedEgress) => e.rtpFates.slice(0, 100).map((f) => f.dropped);
      expect(pattern(b.egress)).toEqual(pattern(a.egress));
    } finally {
      await srv.close();
    }
  });
});
