/**
 * `serve --workers 2`: what clients make one process queue for another is bounded when that one
 * does not read (stopped with SIGSTOP here).
 * - The events a worker forwards to the primary with --http (one per request): a client already
 *   handed to a worker pipelines thousands of requests while the primary is stopped; the worker
 *   answers all of them and drops the events past MAX_EVENTS_IN_FLIGHT (logged, counted).
 * - The primary's messages to a worker (the load after each session change): a client makes
 *   sessions come and go on one worker while the other is stopped; past MAX_WORKER_BACKLOG they
 *   are not sent (logged, counted), but a connection handed over is never refused for it.
 * Once the stopped process runs again (SIGCONT) everything works as before.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ownerOf } from '../../src/cluster/affinity.ts';
import { MAX_WORKER_BACKLOG } from '../../src/cluster/primary.ts';
import { MAX_EVENTS_IN_FLIGHT } from '../../src/cluster/worker.ts';
import { RawConnection } from '../helpers/raw-connection.ts';
import { Serve } from '../helpers/serve-cli.ts';
import { REPO_ROOT } from '../helpers/server.ts';
import { waitUntil } from '../helpers/wait.ts';

/** Requests pipelined: far more than the channel's buffer and MAX_EVENTS_IN_FLIGHT hold. */
const REQUESTS = 20_000;

describe('serve --workers 2: messages to a process that does not read them', () => {
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
      // Its dashboard line may come only now (the primary may have been stopped before it printed it).
      await waitUntil(() => /^dashboard /m.test(serve.out), 10_000, 'the dashboard line');
      const metrics = await (await fetch(`${serve.http}/metrics`)).text();
      expect(metrics).toMatch(/^streamlab_connections \d+$/m);
      c.close();
      again.close();
    } finally {
      if (stopped) process.kill(primary, 'SIGCONT');
      serve.kill('SIGKILL');
    }
  });

  it('past MAX_WORKER_BACKLOG the primary sends a stopped worker no more load messages; the connection handed to it waits and is served', async () => {
    const serve = await Serve.start(path.join(REPO_ROOT, 'media'), ['--workers', '2']);
    const busy = ownerOf('sample.mp4', 2);
    const idle = 1 - busy;
    let stoppedPid: number | undefined;
    try {
      await serve.waitLog('worker started', {}, 2);
      stoppedPid = serve.workerPid(idle);
      process.kill(stoppedPid, 'SIGSTOP');
      // A live channel's connection always goes to its owner: handed to the stopped worker, it waits.
      let ch = 0;
      while (ownerOf(`live/ch${ch}`, 2) !== idle) ch++;
      const held = await RawConnection.open(serve.port);
      held.write(`OPTIONS ${serve.url(`live/ch${ch}`)} RTSP/1.0\r\nCSeq: 1\r\n\r\n`);
      const url = serve.url('sample.mp4');
      const c = await RawConnection.open(serve.port);
      for (
        let i = 0;
        i < MAX_WORKER_BACKLOG + 300 && serve.find('message to a worker not sent: it has not read the ones before').length === 0;
        i++
      ) {
        const setup = await c.request('SETUP', `${url}/trackID=1`, {
          CSeq: String(2 * i + 1),
          Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
        });
        expect(setup.statusCode).toBe(200);
        const session = (setup.headers.get('session') ?? '').split(';')[0]!;
        expect((await c.request('TEARDOWN', url, { CSeq: String(2 * i + 2), Session: session })).statusCode).toBe(200);
      }
      const [full] = await serve.waitLog('message to a worker not sent: it has not read the ones before', {}, 1, 10_000);
      expect(full!.worker).toBe(idle);
      expect(full!.max).toBe(MAX_WORKER_BACKLOG);
      process.kill(stoppedPid, 'SIGCONT');
      stoppedPid = undefined;
      // The handoff was queued, not refused: the worker serves it now.
      const [answer] = await held.waitResponses(1, 10_000);
      expect(answer!.statusCode).toBe(200);
      const again = await RawConnection.open(serve.port);
      expect((await again.request('OPTIONS', serve.url(`live/ch${ch}`), { CSeq: '1' })).statusCode).toBe(200);
      for (const x of [held, c, again]) x.close();
    } finally {
      if (stoppedPid !== undefined) process.kill(stoppedPid, 'SIGCONT');
      serve.kill('SIGKILL');
    }
  });
});
