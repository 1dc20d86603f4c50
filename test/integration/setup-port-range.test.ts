/**
 * SETUP with a small --rtp-ports range and foreign sockets (another program) holding a block inside
 * it: the server searches the whole range (200 even/odd pairs, one free: before the fix, 64 pairs
 * after a random start were tried and SETUP answered 500 most of the time), and when the range is
 * really full it answers 453 (before: 500) while the existing session keeps its pair.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';

const HOST = '127.0.0.1';
const PAIRS = 200;
const base = 40000 + 2 * Math.floor(Math.random() * 9000);
const foreign: dgram.Socket[] = [];

async function hold(port: number): Promise<dgram.Socket | undefined> {
  const s = dgram.createSocket({ type: 'udp4', reuseAddr: false });
  return new Promise((resolve) => {
    s.once('error', () => {
      s.close();
      resolve(undefined);
    });
    s.bind({ port, address: HOST, exclusive: true }, () => resolve(s));
  });
}

describe('SETUP with a port range partly held by another program', () => {
  const freePair = base + 2 * 137;
  beforeAll(async () => {
    for (let port = base; port < base + 2 * PAIRS; port++) {
      if (port === freePair || port === freePair + 1) continue;
      const s = await hold(port);
      if (s) foreign.push(s);
    }
  });
  afterAll(() => {
    for (const s of foreign) s.close();
  });
  // Per-session pairs: each UDP track binds its own pair of the range (the shared pair is one pair).
  const { server, url } = serverForSuite({ rtpPortRange: { min: base, max: base + 2 * PAIRS - 1 }, udpPorts: 'per-session' });

  const setup = (c: RtspTestClient, clientPort: number) =>
    c.request('SETUP', `${url()}/trackID=1`, { Transport: `RTP/AVP;unicast;client_port=${clientPort}-${clientPort + 1}` });

  it('finds the one free pair, then answers 453 (not 500) and keeps the first session', async () => {
    const a = await RtspTestClient.connect(`rtsp://${HOST}:${server.port}`);
    const b = await RtspTestClient.connect(`rtsp://${HOST}:${server.port}`);
    try {
      const first = await setup(a, 50000);
      expect(first.statusCode).toBe(200);
      expect(first.headers.get('Transport')).toContain(`server_port=${freePair}-${freePair + 1}`);
      const second = await setup(b, 50002);
      expect(second.statusCode).toBe(453);
      const session = first.headers.get('Session')!.split(';')[0]!;
      expect((await a.request('GET_PARAMETER', url(), { Session: session })).statusCode).toBe(200);
    } finally {
      a.close();
      b.close();
    }
  });
});
