/**
 * `streamlab serve --workers 2` as shipped (bin/streamlab.js): clients of different files land on
 * both workers (ffmpeg and GStreamer), a live channel published by ffmpeg is viewed by two clients
 * on its own worker, the session budget is split between workers (453 past a worker's share), the
 * load figure a redirecting front reads is the sum, the API lists every worker's sessions, a killed
 * worker is restarted, SIGTERM stops everything, workers never outlive a killed primary, and at
 * --max-connections the idlest connection without a session gives way wherever it is.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ownerOf } from '../../src/cluster/affinity.ts';
import { expectRtspsrcPlayed, rtspsrcToFakesinks } from '../helpers/gstreamer.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RawConnection } from '../helpers/raw-connection.ts';
import { expectSuccess, runProgram } from '../helpers/run-program.ts';
import { Serve, alive, nameOwnedBy } from '../helpers/serve-cli.ts';
import { REPO_ROOT, SAMPLE, startServer } from '../helpers/server.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';

/** DESCRIBE then SETUP of the first track over TCP on its own connection: the SETUP's status. */
async function setupOnce(port: number, url: string): Promise<{ status: number; conn: RawConnection }> {
  const conn = await RawConnection.open(port);
  const d = await conn.request('DESCRIBE', url, { CSeq: '1', Accept: 'application/sdp' });
  expect(d.statusCode).toBe(200);
  const control = /^a=control:(?!\*)(\S+)$/m.exec(d.body.toString('utf8'))![1]!;
  const s = await conn.request('SETUP', control.startsWith('rtsp:') ? control : `${url}/${control}`, {
    CSeq: '2',
    Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
  });
  return { status: s.statusCode, conn };
}

describeWithPeers('serve --workers 2', ['ffmpeg', 'ffprobe'], () => {
  let dir: string;
  let serve: Serve;
  const files = [nameOwnedBy(0), nameOwnedBy(1)] as const;
  const liveOwner = ownerOf('live/cam', 2);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-workers-'));
    for (const f of files) await copyFile(SAMPLE, path.join(dir, f));
    serve = await Serve.start(dir, ['--workers', '2', '--http', '0', '--max-sessions', '6']);
    await serve.waitLog('worker started', {}, 2);
  }, 60_000);

  afterAll(async () => {
    serve.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('clients of two files (ffmpeg over UDP, GStreamer over TCP) land on the two workers, each file on its own', async () => {
    const [a, b, c] = await Promise.all([
      runProgram(
        'ffmpeg',
        ['-v', 'error', '-rtsp_transport', 'udp', '-i', serve.url(files[0]), '-t', '3', '-c', 'copy', '-f', 'null', '-'],
        40_000,
      ),
      rtspsrcToFakesinks(serve.url(files[1])),
      runProgram('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-show_streams', serve.url(files[1])], 40_000),
    ]);
    expectSuccess(a, 'ffmpeg on worker 0');
    expectRtspsrcPlayed(b, 'GStreamer on worker 1');
    expectSuccess(c, 'ffprobe on worker 1');
    const started = await serve.waitLog('session started', {}, 3);
    for (const r of started) expect(r.worker).toBe(r.path === files[0] ? 0 : 1);
    expect(new Set(started.map((r) => r.worker))).toEqual(new Set([0, 1]));
    // Session ids carry their worker's number.
    for (const r of started) expect(String(r.session).slice(0, 2)).toBe(`0${String(r.worker)}`);
  });

  it('a live channel published by ffmpeg is viewed by two clients on its worker; the budget per worker holds; the load is the sum', async () => {
    const publisher = spawn(
      'ffmpeg',
      [
        '-v',
        'error',
        '-re',
        '-stream_loop',
        '-1',
        '-i',
        SAMPLE,
        '-c',
        'copy',
        '-f',
        'rtsp',
        '-rtsp_transport',
        'tcp',
        serve.url('live/cam'),
      ],
      { stdio: 'ignore' },
    );
    try {
      await serve.waitLog('publisher started', { path: 'live/cam' });
      await sleep(500);
      const [v1, v2] = await Promise.all([
        runProgram(
          'ffmpeg',
          ['-v', 'error', '-rtsp_transport', 'udp', '-i', serve.url('live/cam'), '-t', '2', '-c', 'copy', '-f', 'null', '-'],
          40_000,
        ),
        rtspsrcToFakesinks(serve.url('live/cam')),
      ]);
      expectSuccess(v1, 'ffmpeg viewer');
      expectRtspsrcPlayed(v2, 'GStreamer viewer');
      const live = [...serve.find('publisher started', { path: 'live/cam' }), ...serve.find('session started', { path: 'live/cam' })];
      expect(live.length).toBe(3);
      for (const r of live) expect(r.worker).toBe(liveOwner);

      // --max-sessions 6 is 3 per worker: the publisher and two viewers fill the channel's worker.
      const one = await setupOnce(serve.port, serve.url('live/cam'));
      const two = await setupOnce(serve.port, serve.url('live/cam'));
      const three = await setupOnce(serve.port, serve.url('live/cam'));
      expect([one.status, two.status, three.status]).toEqual([200, 200, 453]);
      // The other worker still has its own share.
      const other = await setupOnce(serve.port, serve.url(files[1 - liveOwner]!));
      expect(other.status).toBe(200);

      // The API lists all of them, each with its worker; GET_PARAMETER tells the sum.
      const api = async () =>
        ((await (await fetch(`${serve.http}/api/sessions`)).json()) as { sessions: { worker: number; path: string }[] }).sessions;
      const sessions = await api();
      expect(sessions.length).toBe(4);
      expect(new Set(sessions.map((s) => s.worker))).toEqual(new Set([0, 1]));
      const probe = await RawConnection.open(serve.port);
      let figure = '';
      // The workers tell the primary their count, the primary tells them the sum: a moment later.
      for (let cseq = 1; cseq < 40 && figure !== 'sessions: 4'; cseq++) {
        const r = await probe.request(
          'GET_PARAMETER',
          serve.url(''),
          { CSeq: String(cseq), 'Content-Type': 'text/parameters' },
          'sessions\r\n',
        );
        figure = r.body.toString('utf8').trim();
        if (figure !== 'sessions: 4') await sleep(100);
      }
      expect(figure).toBe('sessions: 4');
      probe.socket.destroy();
      const metrics = await (await fetch(`${serve.http}/metrics`)).text();
      expect(metrics).toMatch(/^streamlab_sessions\{kind="publisher"\} 1$/m);
      expect(metrics).toMatch(/^streamlab_sessions\{kind="live-viewer"\} 2$/m);
      expect(metrics).toMatch(/^streamlab_sessions\{kind="file"\} 1$/m);
      for (const c of [one, two, three, other]) c.conn.socket.destroy();
    } finally {
      publisher.kill('SIGKILL');
    }
  });

  it('a request sent right behind the first one (before its answer) is not lost on the way to the worker', async () => {
    // The primary reads the first request, the second comes 2 ms later: it must be read by the
    // worker, never by the primary while the socket is on its way (each round fits in the
    // 12 connections --max-sessions 6 allows, with the last round's still being closed).
    const openConnections = async () =>
      Number(/^streamlab_connections (\d+)$/m.exec(await (await fetch(`${serve.http}/metrics`)).text())![1]);
    let open = -1;
    for (let i = 0; i < 50 && open !== 0; i++) {
      open = await openConnections();
      if (open !== 0) await sleep(100);
    }
    expect(open).toBe(0);
    for (let round = 0; round < 6; round++) {
      const conns = await Promise.all(Array.from({ length: 10 }, () => RawConnection.open(serve.port)));
      const answers = await Promise.all(
        conns.map(async (c, i) => {
          c.write(`OPTIONS ${serve.url(files[i % 2]!)} RTSP/1.0\r\nCSeq: 1\r\n\r\n`);
          await sleep(2);
          c.write(`DESCRIBE ${serve.url(files[i % 2]!)} RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\n\r\n`);
          const r = await c.waitResponses(2, 10_000).catch(() => c.responses);
          c.socket.destroy();
          return r.map((x) => x.statusCode);
        }),
      );
      expect(answers).toEqual(conns.map(() => [200, 200]));
      await sleep(200);
    }
  });

  it('a first request without a path, or one that does not parse, is answered as one process answers it', async () => {
    const single = await startServer({ mediaDir: dir });
    try {
      const cases = [
        'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n',
        'GARBAGE\r\n\r\n',
        'DESCRIBE rtsp://127.0.0.1/x.mp4 RTSP/1.0\r\n\r\n',
        `DESCRIBE rtsp://127.0.0.1/${'a'.repeat(20_000)} RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
      ];
      for (const bytes of cases) {
        const answers: { status: number | undefined; closed: boolean }[] = [];
        for (const port of [single.server.port, serve.port]) {
          const c = await RawConnection.open(port);
          c.write(bytes);
          const r = await c.waitResponses(1, 5000).catch(() => c.responses);
          answers.push({ status: r[0]?.statusCode, closed: await c.waitClosed(300).catch(() => false) });
          c.socket.destroy();
        }
        expect(answers[1], JSON.stringify(bytes.slice(0, 40))).toEqual(answers[0]);
        expect(answers[0]!.status).toBeDefined();
      }
    } finally {
      await single.server.close();
    }
  });

  it('a killed worker is restarted (its loss logged) and serves again; SIGTERM stops the primary and every worker', async () => {
    const victim = 1;
    const pid = serve.workerPid(victim);
    const before = serve.find('worker started', { worker: victim }).length;
    process.kill(pid, 'SIGKILL');
    await serve.waitLog('worker died; its sessions and connections are lost', { worker: victim });
    await serve.waitLog('worker started', { worker: victim }, before + 1);
    const fresh = serve.workerPid(victim);
    expect(fresh).not.toBe(pid);
    const r = await runProgram('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-show_streams', serve.url(files[victim])], 40_000);
    expectSuccess(r, 'ffprobe after the restart');
    const pids = [serve.workerPid(0), fresh];
    serve.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    await waitUntil(() => pids.every((p) => !alive(p)), 5000, 'workers gone');
  });
});

describeWithPeers('serve --workers 2: connection limits at the primary, no orphans', ['ffprobe'], () => {
  it('at --max-connections the idlest connection without a session gives way, on a worker or still at the primary; with none the newcomer is dropped; workers exit when the primary is killed', async () => {
    const serve = await Serve.start(path.join(REPO_ROOT, 'media'), ['--workers', '2', '--max-connections', '3']);
    try {
      await serve.waitLog('worker started', {}, 2);
      const pids = [serve.workerPid(0), serve.workerPid(1)];
      const url = serve.url('sample.mp4');
      const owner = ownerOf('sample.mp4', 2);
      const setup = async (c: RawConnection) =>
        (await c.request('SETUP', `${url}/trackID=1`, { CSeq: '9', Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' })).statusCode;
      // A session (never evicted), a connection idle on the file's worker, then a silent one the primary still reads.
      const withSession = await RawConnection.open(serve.port);
      expect(await setup(withSession)).toBe(200);
      const idle = await RawConnection.open(serve.port);
      expect((await idle.request('OPTIONS', url, { CSeq: '1' })).statusCode).toBe(200);
      await sleep(300);
      const silent = await RawConnection.open(serve.port);
      await sleep(300);

      // The first newcomer takes the place of the idle one on the worker (idle longest)...
      const first = await RawConnection.open(serve.port);
      expect((await first.request('OPTIONS', url, { CSeq: '1' })).statusCode).toBe(200);
      expect(await idle.waitClosed(5000)).toBe(true);
      expect((await serve.waitLog('idle connection closed to make room for a new one', { worker: owner })).length).toBe(1);
      expect(await setup(first)).toBe(200);
      // ...the second that of the silent one at the primary.
      const second = await RawConnection.open(serve.port);
      expect((await second.request('OPTIONS', url, { CSeq: '1' })).statusCode).toBe(200);
      expect(await silent.waitClosed(5000)).toBe(true);
      const atPrimary = await serve.waitLog('idle connection closed to make room for a new one', {}, 2);
      expect(atPrimary.filter((r) => r.worker === undefined).length).toBe(1);
      expect(await setup(second)).toBe(200);

      // Everyone left has a session: the next newcomer is dropped, and nobody is evicted.
      const dropped = await RawConnection.open(serve.port);
      expect(await dropped.waitClosed(5000)).toBe(true);
      await serve.waitLog('connection dropped: too many connections');
      for (const c of [withSession, first, second]) expect(c.closed).toBe(false);
      expect(serve.find('idle connection closed to make room for a new one').length).toBe(2);

      // Once the worker tells the primary that a connection closed, there is room again.
      withSession.socket.destroy();
      await sleep(300);
      const again = await RawConnection.open(serve.port);
      expect((await again.request('OPTIONS', '*', { CSeq: '1' })).statusCode).toBe(200);
      for (const c of [first, second, again]) c.socket.destroy();
      serve.kill('SIGKILL');
      await serve.exited;
      await waitUntil(() => pids.every((p) => !alive(p)), 10_000, 'workers exit after the primary was killed');
    } finally {
      serve.kill('SIGKILL');
    }
  });
});
