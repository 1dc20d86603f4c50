/**
 * A connection that sends `$` frames as fast as it can does not keep the event loop for itself:
 * after a chunk of many frames it yields its turn (counted in `readYields`), every frame is still
 * read, it goes on reading and answering afterwards, and another client is served meanwhile.
 * (How long the other client waits under such a flood is measured by `npm run bench:trust`.)
 */
import { describe, expect, it } from 'vitest';
import { RawConnection } from '../helpers/raw-connection.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { waitUntil } from '../helpers/wait.ts';

const FRAMES = 256 * 1024;

describe('a flood of interleaved frames', () => {
  const { server, url } = serverForSuite();

  it('yields between chunks, loses no frame, and keeps serving both connections', async () => {
    const flood = await RawConnection.open(server.port);
    const other = await RawConnection.open(server.port);
    try {
      const before = server.snapshot().counters;
      const frames = Buffer.alloc(FRAMES * 4);
      for (let i = 0; i < frames.length; i += 4) frames.set([0x24, 1, 0, 0], i);
      flood.write(frames);
      expect((await other.request('DESCRIBE', url(), { CSeq: '1', Accept: 'application/sdp' })).statusCode).toBe(200);
      await waitUntil(
        () => server.snapshot().counters.interleavedIn - before.interleavedIn === FRAMES,
        20_000,
        () => `every frame read (${server.snapshot().counters.interleavedIn - before.interleavedIn} of ${FRAMES})`,
      );
      expect(server.snapshot().counters.readYields - before.readYields).toBeGreaterThan(0);
      expect((await flood.request('OPTIONS', url(), { CSeq: '2' })).statusCode).toBe(200);
    } finally {
      flood.close();
      other.close();
    }
  });
});
