/**
 * Issue 11, TCP frames held over wakes (InterleavedBatch): an RTSP answer never overtakes the
 * frames the connection holds, nor is overtaken by them. Through the whole server on the
 * ManualClock, the frames held far longer than the test (STREAMLAB_TCP_HOLD_MS), so only the
 * answer's own flush can bring them out before it: the client reads, in order, every RTP packet
 * the server sent before the answer, then the answer, then nothing more.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RtspParser } from '../../src/rtsp/index.ts';
import type { RtspServer } from '../../src/server/index.ts';
import { defaultInterleavedBatch } from '../../src/transport/index.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { RawConnection } from '../helpers/raw-connection.ts';
import { startServer } from '../helpers/server.ts';
import { sleep } from '../helpers/wait.ts';

/** Long enough for bytes written on loopback to reach the client on a busy machine. */
const DELIVERY_MS = 300;

/** What the client read, in order: RTP/RTCP frames (channel, RTP sequence number) and answers (CSeq). */
type Item = { frame: number; seq: number } | { answer: number };

function record(c: RawConnection): Item[] {
  const items: Item[] = [];
  const parser = new RtspParser({ role: 'client' });
  c.socket.on('data', (chunk: Buffer) => {
    for (const ev of parser.push(chunk)) {
      if (ev.type === 'interleaved') items.push({ frame: ev.channel, seq: ev.data.readUInt16BE(2) });
      else if (ev.type === 'response') items.push({ answer: Number(ev.response.headers.get('CSeq')) });
    }
  });
  return items;
}

describe('interleaved frames held over wakes, and the RTSP answers between them', () => {
  let server: RtspServer | undefined;
  const opened: RawConnection[] = [];
  beforeAll(() => {
    // Read when the process's batch is made, at the first interleaved connection (this file's own module graph).
    process.env.STREAMLAB_TCP_HOLD_MS = '600000';
    process.env.STREAMLAB_TCP_HOLD_BYTES = String(1 << 30);
  });
  afterEach(async () => {
    for (const c of opened.splice(0)) c.close();
    await server?.close();
    server = undefined;
  });

  it('PAUSE and TEARDOWN: the held frames first, then the answer, then nothing', async () => {
    const clock = new ManualClock();
    ({ server } = await startServer({ clock, sessionTimeoutSec: 300 }));
    const url = `rtsp://127.0.0.1:${server.port}/sample.mp4`;
    const c = await RawConnection.open(server.port);
    opened.push(c);
    const items = record(c);
    const setup = await c.request('SETUP', `${url}/trackID=1`, { CSeq: '1', Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
    expect(setup.statusCode).toBe(200);
    const session = setup.headers.get('Session')!.split(';')[0]!;
    expect(defaultInterleavedBatch().holdMs).toBe(600_000);

    for (const [play, stop, method] of [
      [2, 3, 'PAUSE'],
      [4, 5, 'TEARDOWN'],
    ] as const) {
      expect((await c.request('PLAY', url, { CSeq: String(play), Session: session })).statusCode).toBe(200);
      for (let t = 0; t < 20; t++) clock.advance(10);
      await sleep(DELIVERY_MS);
      // The server sent RTP, and holds it: none of it has reached the client.
      const held = defaultInterleavedBatch().heldFrames();
      expect(held).toBeGreaterThan(0);
      const before = items.length;
      expect((await c.request(method, url, { CSeq: String(stop), Session: session })).statusCode).toBe(200);
      await sleep(DELIVERY_MS);
      expect(defaultInterleavedBatch().heldFrames()).toBe(0);
      const after = items.slice(before);
      const answerAt = after.findIndex((x) => 'answer' in x && x.answer === stop);
      const rtp = after.slice(0, answerAt).filter((x): x is { frame: number; seq: number } => 'frame' in x && x.frame === 0);
      // Before it: the held RTP, and RTCP (a BYE before the TEARDOWN answer).
      expect(after.slice(0, answerAt).every((x) => 'frame' in x && (x.frame === 0 || x.frame === 1))).toBe(true);
      expect(rtp.length).toBe(held);
      // In order, none missing.
      for (let i = 1; i < rtp.length; i++) expect(rtp[i]!.seq).toBe((rtp[i - 1]!.seq + 1) & 0xffff);
      // Nothing after the answer.
      expect(after.slice(answerAt + 1)).toEqual([]);
    }
  });
});
