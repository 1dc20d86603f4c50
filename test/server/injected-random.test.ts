/**
 * Issue 10: the server draws session ids, SSRCs, first sequence numbers and timestamp bases from
 * ServerOptions.random. Seeded, two servers hand out the same ones; by default they are crypto.
 */
import { describe, expect, it } from 'vitest';
import type { ServerOptions } from '../../src/server/index.ts';
import { seededRandom } from '../../src/util/random.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { startServer } from '../helpers/server.ts';

/** One interleaved SETUP (no UDP port choice, whose retries would draw a varying count). */
async function firstSession(options: Partial<ServerOptions>) {
  const { server, url } = await startServer(options);
  try {
    const client = await RtspTestClient.connect(url());
    try {
      await client.describe(url());
      const { response } = await client.setup(`${url()}/trackID=1`, 'tcp');
      const id = response.headers.get('Session')!.split(';')[0]!;
      const sender = server.sessions.get(id)!.setups.get('trackID=1')!.stream.sender;
      return { id, ssrc: sender.ssrc, seq: sender.seq, timestampBase: sender.timestampBase };
    } finally {
      client.close();
    }
  } finally {
    await server.close();
  }
}

describe('ServerOptions.random (issue 10)', () => {
  it('a seeded Random gives the same session id, SSRC, first seq and timestamp base on two servers', async () => {
    const a = await firstSession({ random: seededRandom(9) });
    const b = await firstSession({ random: seededRandom(9) });
    expect(a.id).toMatch(/^[0-9a-f]{24}$/);
    expect(b).toEqual(a);
    const c = await firstSession({ random: seededRandom(10) });
    expect(c.id).not.toBe(a.id);
    expect(c.ssrc).not.toBe(a.ssrc);
  });

  it('by default (crypto) two servers give different 96-bit session ids', async () => {
    const a = await firstSession({});
    const b = await firstSession({});
    expect(a.id).toMatch(/^[0-9a-f]{24}$/);
    expect(b.id).not.toBe(a.id);
  });
});
