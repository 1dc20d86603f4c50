/**
 * `streamlab netem` as a library: datagrams through the relay are dropped exactly as its seeded
 * ground truth says, replies go back to the sender, and the same seed drops the same datagrams.
 */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { impairmentFromArgs } from '../../src/server/index.ts';
import { NetemRelay, parseEndpoint } from '../../src/transport/index.ts';

async function socket(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

/** Sends `n` numbered datagrams through a relay and returns the numbers that came out. */
async function through(words: string, seed: number, n: number): Promise<{ got: number[]; relay: NetemRelay; replies: number }> {
  const receiver = await socket();
  const sender = await socket();
  const relay = await NetemRelay.start(
    { host: '127.0.0.1', port: 0 },
    { host: '127.0.0.1', port: receiver.address().port },
    impairmentFromArgs(words, seed),
  );
  const got: number[] = [];
  let replies = 0;
  receiver.on('message', (m, rinfo) => {
    got.push(m.readUInt32BE(0));
    receiver.send(Buffer.from('ack'), rinfo.port, rinfo.address);
  });
  sender.on('message', () => replies++);
  for (let i = 0; i < n; i++) {
    const b = Buffer.alloc(100);
    b.writeUInt32BE(i, 0);
    sender.send(b, relay.listenPort, '127.0.0.1');
    // Paced so the kernel never drops on loopback (the relay must see all n).
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 3));
  }
  await new Promise((r) => setTimeout(r, 300));
  relay.close();
  receiver.close();
  sender.close();
  return { got, relay, replies };
}

describe('NetemRelay', () => {
  it('forwards what the ground truth delivered and drops what it dropped', async () => {
    const { got, relay, replies } = await through('loss random 20%', 5, 1000);
    const fates = relay.pipeline.fates;
    expect(fates).toHaveLength(1000);
    const delivered = fates.filter((f) => !f.dropped).map((f) => f.id);
    expect([...got].sort((a, b) => a - b)).toEqual(delivered);
    expect(relay.counters.dropped).toBe(1000 - delivered.length);
    // 20 % of 1000 with a binomial σ of about 12.6: well inside ±5σ.
    expect(Math.abs(1000 - delivered.length - 200)).toBeLessThan(63);
    expect(replies).toBe(got.length);
  });

  it('drops the same datagrams for the same seed and others for another', async () => {
    const a = await through('loss gemodel 5% 30%', 9, 400);
    const b = await through('loss gemodel 5% 30%', 9, 400);
    const c = await through('loss gemodel 5% 30%', 10, 400);
    expect(b.got).toEqual(a.got);
    expect(c.got).not.toEqual(a.got);
  });

  it('parses endpoints', () => {
    expect(parseEndpoint('127.0.0.1:5004')).toEqual({ host: '127.0.0.1', port: 5004 });
    expect(parseEndpoint('[::1]:5004')).toEqual({ host: '::1', port: 5004 });
    expect(parseEndpoint('localhost')).toBeUndefined();
    expect(parseEndpoint('h:99999')).toBeUndefined();
  });
});
