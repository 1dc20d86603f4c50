/**
 * `serve --workers 2` with Digest authentication: every worker checks nonces with the key and
 * timeline its primary gave it at start (never on a command line), so a client whose next
 * connection lands on another worker answers the nonce it has and is let in at once: no 401, no
 * stale round trip. ffprobe authenticates to files of both workers.
 */
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chooseChallenge, collectChallenges, digestHa1, formatAuthorization } from '../../src/rtsp/index.ts';
import type { RtspResponse } from '../../src/rtsp/index.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RawConnection } from '../helpers/raw-connection.ts';
import { expectSuccess, runProgram } from '../helpers/run-program.ts';
import { Serve, nameOwnedBy } from '../helpers/serve-cli.ts';
import { SAMPLE } from '../helpers/server.ts';

const PASSWORD = 'two.workers';

describeWithPeers('serve --workers 2 with Digest authentication', ['ffprobe'], () => {
  let dir: string;
  let serve: Serve;
  const files = [nameOwnedBy(0), nameOwnedBy(1)] as const;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-workers-auth-'));
    for (const f of files) await copyFile(SAMPLE, path.join(dir, f));
    const users = path.join(dir, 'users.htdigest');
    await writeFile(users, `carol:streamlab:${digestHa1('MD5', 'carol', 'streamlab', PASSWORD)}\n`);
    serve = await Serve.start(dir, ['--workers', '2', '--auth-file', users]);
    await serve.waitLog('worker started', {}, 2);
  }, 60_000);

  afterAll(async () => {
    serve.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  /** The Authorization of request `nc` answering the challenge in `res`. */
  function authorization(res: RtspResponse, method: string, uri: string, nc: number): string {
    const chosen = chooseChallenge(collectChallenges(res.headers.getAll('WWW-Authenticate')));
    if (!chosen) throw new Error('no challenge');
    return formatAuthorization(chosen, { username: 'carol', password: PASSWORD }, { method, uri, nc, cnonce: 'c0ffee' });
  }

  it("a nonce worker 0 issued is accepted by worker 1 on the client's next connection, without a stale round trip", async () => {
    const [on0, on1] = files.map((f) => serve.url(f)) as [string, string];
    const first = await RawConnection.open(serve.port);
    const challenge = await first.request('DESCRIBE', on0, { CSeq: '1', Accept: 'application/sdp' });
    expect(challenge.statusCode).toBe(401);
    expect(challenge.headers.getAll('WWW-Authenticate').join(' ')).not.toMatch(/stale=true/i);
    await serve.waitLog('request refused', { worker: 0, status: 401 });
    first.socket.destroy();

    // The next connection names worker 1's file: worker 1 checks worker 0's nonce.
    const second = await RawConnection.open(serve.port);
    const ok = await second.request('DESCRIBE', on1, {
      CSeq: '1',
      Accept: 'application/sdp',
      Authorization: authorization(challenge, 'DESCRIBE', on1, 1),
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.body.toString('utf8')).toMatch(/^m=video/m);
    // And back on worker 0 with the next count of the same nonce.
    const third = await RawConnection.open(serve.port);
    const again = await third.request('DESCRIBE', on0, {
      CSeq: '1',
      Accept: 'application/sdp',
      Authorization: authorization(challenge, 'DESCRIBE', on0, 2),
    });
    expect(again.statusCode).toBe(200);
    second.socket.destroy();
    third.socket.destroy();
    // Worker 1 refused nothing: the only 401 was the first challenge.
    expect(serve.find('request refused', { worker: 1 })).toEqual([]);
    expect(serve.find('request refused').length).toBe(1);
  });

  it('ffprobe authenticates to the files of both workers; a wrong password is refused', async () => {
    for (const f of files) {
      const url = serve.url(f).replace('rtsp://', `rtsp://carol:${PASSWORD}@`);
      const r = await runProgram(
        'ffprobe',
        ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', url],
        30_000,
      );
      expectSuccess(r, `ffprobe ${f}`);
      expect(r.stdout.trim().split('\n').sort()).toEqual(['aac', 'h264']);
    }
    const bad = await runProgram(
      'ffprobe',
      ['-v', 'error', '-rtsp_transport', 'tcp', serve.url(files[1]).replace('rtsp://', 'rtsp://carol:nope@')],
      30_000,
    );
    expect(bad.code).not.toBe(0);
  });
});
