/**
 * bindUdpPortPair searches the whole range: a block of ports held by another program (here:
 * foreign sockets of this test, bound outside bindUdpPortPair) no longer ends the search after 64
 * pairs, and a really full range is a typed `range-full` error, not a generic one.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { PortPairError, bindUdpPortPair } from '../../src/transport/index.ts';
import type { UdpPortPair } from '../../src/transport/index.ts';

const HOST = '127.0.0.1';
const foreign: dgram.Socket[] = [];
const ours: UdpPortPair[] = [];

/** Holds every port of [from, to] that it can bind (a port someone else holds is held anyway). */
async function hold(from: number, to: number): Promise<void> {
  for (let port = from; port <= to; port++) {
    const s = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve) => {
      s.once('error', () => {
        s.close();
        resolve();
      });
      s.bind({ port, address: HOST, exclusive: true }, () => {
        foreign.push(s);
        resolve();
      });
    });
  }
}

/** A random even base in 40000-59000 so parallel runs rarely share a range. */
const randomBase = () => 40000 + 2 * Math.floor(Math.random() * 9500);

afterEach(() => {
  for (const s of foreign.splice(0)) s.close();
  for (const p of ours.splice(0)) p.close();
});

describe('bindUdpPortPair', () => {
  it('finds a free pair behind a block of more than 64 taken pairs', async () => {
    const base = randomBase();
    await hold(base, base + 2 * 100 - 1); // pairs 0..99 taken, 100..109 free
    const pair = await bindUdpPortPair(HOST, { min: base, max: base + 2 * 110 - 1 }, () => 0);
    ours.push(pair);
    expect(pair.rtpPort).toBeGreaterThanOrEqual(base + 200);
    expect(pair.rtpPort % 2).toBe(0);
    expect(pair.rtcpPort).toBe(pair.rtpPort + 1);
  });

  it('wraps round from a random start past the end of the range', async () => {
    const base = randomBase();
    await hold(base + 2, base + 2 * 100 - 1); // only pair 0 free (its RTP and RTCP port)
    const pair = await bindUdpPortPair(HOST, { min: base, max: base + 2 * 100 - 1 }, () => 0.5);
    ours.push(pair);
    expect(pair.rtpPort).toBe(base);
  });

  it('a pair whose RTCP port is taken is skipped', async () => {
    const base = randomBase();
    await hold(base + 1, base + 1); // RTCP port of pair 0
    const pair = await bindUdpPortPair(HOST, { min: base, max: base + 3 }, () => 0);
    ours.push(pair);
    expect(pair.rtpPort).toBe(base + 2);
  });

  it('a range taken by other programs and by our own pairs is range-full; a closed pair is free again', async () => {
    const base = randomBase();
    const range = { min: base, max: base + 2 * 3 - 1 };
    await hold(base, base + 1);
    ours.push(await bindUdpPortPair(HOST, range, () => 0));
    ours.push(await bindUdpPortPair(HOST, range, () => 0));
    const err = await bindUdpPortPair(HOST, range, () => 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortPairError);
    expect((err as PortPairError).reason).toBe('range-full');
    const freed = ours.pop()!;
    freed.close();
    const again = await bindUdpPortPair(HOST, range, () => 0);
    ours.push(again);
    expect(again.rtpPort).toBe(freed.rtpPort);
  });
});
