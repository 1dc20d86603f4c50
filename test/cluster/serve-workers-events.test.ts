/**
 * `serve --workers 2 --http`: the events a worker forwards to the primary (one per request) are
 * bounded when the primary does not read them. The primary is stopped (SIGSTOP) while a client
 * already handed to a worker pipelines thousands of requests: the worker answers all of them,
 * drops the events past MAX_EVENTS_IN_FLIGHT (logged, counted) instead of queueing them without
 * end, and once the primary runs again (SIGCONT) everything works as before.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_EVENTS_IN_FLIGHT } from '../../src/cluster/worker.ts';
import { RawConnection } from '../helpers/raw-connection.ts';
import { Serve } from '../helpers/serve-cli.ts';
import { REPO_ROOT } from '../helpers/server.ts';

/** Requests pipelined: far more than the channel's buffer and MAX_EVENTS_IN_FLIGHT hold. */
const REQUESTS = 20_000;

describe('serve --workers 2 --http: events to a primary that does not read them', () => {
  it('past MAX_EVENTS_IN_FLIGHT a worker drops them, counted; the primary serves on once it runs again', async () => {
    const serve = await Serve.start(path.join(REPO_ROOT, 'media'), ['--workers', '2', '--http', '0']);
    const primary = serve.child.pid!;
    let stopped = false;
    try {
      await serve.waitLog('worker started', {}, 2);
      const url = serve.url('sample.mp4');
      const c = await RawConnection.open(serve.port);
      expect((await c.request('OPTIONS', url, { CSeq: '1' })).statusCode).toBe(200);
      process.kill(primary, 'SIGSTOP');
      stopped = true;
      const batch: string[] = [];
      for (let i = 2; i <= REQUESTS + 1; i++) batch.push(`OPTIONS ${url} RTSP/1.0\r\nCSeq: ${i}\r\n\r\n`);
      c.write(batch.join(''));
      // The worker answers every request with its primary stopped (its log lines reach our pipe directly).
      const all = await c.waitResponses(REQUESTS + 1, 60_000);
      expect(all.every((r) => r.statusCode === 200)).toBe(true);
      const drops = await serve.waitLog('events to the primary dropped: it reads them slower than they come', {}, 1, 10_000);
      expect(drops[0]!.max).toBe(MAX_EVENTS_IN_FLIGHT);
      process.kill(primary, 'SIGCONT');
      stopped = false;
      // Running again: it reads what was queued, and new connections are handed over as before.
      const again = await RawConnection.open(serve.port);
      expect((await again.request('OPTIONS', url, { CSeq: '1' })).statusCode).toBe(200);
      const metrics = await (await fetch(`${serve.http}/metrics`)).text();
      expect(metrics).toMatch(/^streamlab_connections \d+$/m);
      c.close();
      again.close();
    } finally {
      if (stopped) process.kill(primary, 'SIGCONT');
      serve.kill('SIGKILL');
    }
  });
});
